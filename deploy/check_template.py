#!/usr/bin/env python3
"""Least-privilege checks on deploy/template.yaml, run offline by `cargo xtask test`.

Fails if the signer's role may do more than s3:PutObject (and abort and list its multipart uploads'
parts) on uploads/*, if anything grants public
write (or public anything but reading page/*), if ACLs are enabled, or if CORS is configured on the
API as well as in the code. `--self-test` also proves each check catches a broken template.

Reads the template with cfn-lint's decoder, which understands CloudFormation's short tags (!Sub...).
"""
import copy
import json
import sys
from pathlib import Path

from cfnlint.decode import decode

TEMPLATE = Path(__file__).with_name("template.yaml")
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
# What the signer needs: put objects (single POST and multipart), list and abort its own parts.
SIGNER_ACTIONS = {"s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}


def as_list(value):
    return value if isinstance(value, list) else [value]


def resources(template, kind):
    return {name: r for name, r in template["Resources"].items() if r.get("Type") == kind}


def check_signer_role(t):
    problems = []
    functions = resources(t, "AWS::Serverless::Function")
    for name, function in functions.items():
        props = function.get("Properties", {})
        for key in ("Policies",):
            if key in props:
                problems.append(f"{name}: SAM {key} would add permissions; use the explicit role")
        if props.get("Architectures") != ["arm64"] or props.get("Runtime") != "provided.al2023":
            problems.append(f"{name}: must be arm64 on provided.al2023")
        role = props.get("Role")
        if not (isinstance(role, dict) and "Fn::GetAtt" in role):
            problems.append(f"{name}: must use the template's own role")
    for name, role in resources(t, "AWS::IAM::Role").items():
        props = role["Properties"]
        managed = as_list(props.get("ManagedPolicyArns", []))
        if managed != [BASIC_EXECUTION]:
            problems.append(f"{name}: managed policies {managed} (only basic execution for logs)")
        for policy in props.get("Policies", []):
            for statement in as_list(policy["PolicyDocument"]["Statement"]):
                if statement.get("Effect") != "Allow":
                    continue
                actions = as_list(statement.get("Action", []))
                if not actions or set(actions) - SIGNER_ACTIONS or "s3:PutObject" not in actions:
                    problems.append(f"{name}: allows {actions}; only {sorted(SIGNER_ACTIONS)}")
                if "NotAction" in statement or "NotResource" in statement:
                    problems.append(f"{name}: NotAction/NotResource widen a grant")
                for resource in as_list(statement.get("Resource", [])):
                    text = json.dumps(resource)
                    if not text.endswith('/uploads/*"}') or "*" in text[: text.rfind("/uploads/*")]:
                        problems.append(f"{name}: resource {text} is not <bucket>/uploads/*")
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::User", "AWS::IAM::AccessKey"):
        for name in resources(t, kind):
            problems.append(f"{name}: no other IAM policies, users or keys")
    return problems


def check_public_access(t):
    problems = []
    for name, policy in resources(t, "AWS::S3::BucketPolicy").items():
        for statement in as_list(policy["Properties"]["PolicyDocument"]["Statement"]):
            public = statement.get("Principal") in ("*", {"AWS": "*"})
            if statement.get("Effect") != "Allow" or not public:
                continue
            actions = as_list(statement.get("Action", []))
            if actions != ["s3:GetObject"]:
                problems.append(f"{name}: the public may {actions}; only s3:GetObject on page/*")
            for resource in as_list(statement.get("Resource", [])):
                if not json.dumps(resource).endswith('/page/*"}'):
                    problems.append(f"{name}: public read of {json.dumps(resource)}; only page/*")
    for name, bucket in resources(t, "AWS::S3::Bucket").items():
        props = bucket["Properties"]
        if props.get("AccessControl") not in (None, "Private"):
            problems.append(f"{name}: canned ACL {props['AccessControl']}")
        rules = props.get("OwnershipControls", {}).get("Rules", [])
        if [r.get("ObjectOwnership") for r in rules] != ["BucketOwnerEnforced"]:
            problems.append(f"{name}: ACLs must be disabled (BucketOwnerEnforced)")
        block = props.get("PublicAccessBlockConfiguration", {})
        if not (block.get("BlockPublicAcls") and block.get("IgnorePublicAcls")):
            problems.append(f"{name}: public ACLs must be blocked and ignored")
        for rule in props.get("CorsConfiguration", {}).get("CorsRules", []):
            if set(rule.get("AllowedMethods", [])) - {"POST", "PUT"}:
                problems.append(f"{name}: CORS allows {rule['AllowedMethods']}; only POST and PUT")
            if "ETag" not in rule.get("ExposedHeaders", []):
                problems.append(f"{name}: CORS must expose ETag (the page reads each part's)")
            if rule.get("AllowedOrigins") == ["*"]:
                problems.append(f"{name}: CORS allows any origin")
    return problems


def check_cors_in_one_place(t):
    problems = []
    for kind in ("AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api"):
        for name, api in resources(t, kind).items():
            props = api.get("Properties", {})
            if props.get("CorsConfiguration") or props.get("Cors"):
                problems.append(f"{name}: CORS is handled by the signer; none on the API")
    for name, function in resources(t, "AWS::Serverless::Function").items():
        if function.get("Properties", {}).get("FunctionUrlConfig", {}).get("Cors"):
            problems.append(f"{name}: CORS is handled by the signer; none on the Function URL")
    return problems


def check_token_secret(t):
    """The upload-token secret comes from a secret the stack generates, never a literal."""
    problems = []
    secrets = resources(t, "AWS::SecretsManager::Secret")
    for name, function in resources(t, "AWS::Serverless::Function").items():
        variables = function.get("Properties", {}).get("Environment", {}).get("Variables", {})
        value = json.dumps(variables.get("UPLOAD_TOKEN_SECRET"))
        generated = [s for s, r in secrets.items()
                     if r.get("Properties", {}).get("GenerateSecretString")
                     and "{{resolve:secretsmanager:${%s}:SecretString}}" % s in value]
        if not generated:
            problems.append(f"{name}: UPLOAD_TOKEN_SECRET must resolve a generated Secrets Manager secret, not {value}")
    return problems


CHECKS = [check_signer_role, check_public_access, check_cors_in_one_place, check_token_secret]


def problems_of(template):
    return [p for check in CHECKS for p in check(template)]


def mutate(template, path, value):
    broken = copy.deepcopy(template)
    node = broken
    for key in path[:-1]:
        node = node[key]
    if callable(value):
        value(node, path[-1])
    else:
        node[path[-1]] = value
    return broken


def self_test(template):
    """Each known-bad change must be caught."""
    role_statement = ["Resources", "SignerRole", "Properties", "Policies", 0, "PolicyDocument", "Statement", 0]
    public_statement = ["Resources", "UploadBucketPolicy", "Properties", "PolicyDocument", "Statement", 0]
    bucket = ["Resources", "UploadBucket", "Properties"]
    cases = {
        "role may read": mutate(template, role_statement + ["Action"], ["s3:PutObject", "s3:GetObject"]),
        "role may do anything in S3": mutate(template, role_statement + ["Action"], "s3:*"),
        "role may delete": mutate(template, role_statement + ["Action"], ["s3:PutObject", "s3:DeleteObject"]),
        "role may list the bucket": mutate(template, role_statement + ["Action"],
                                           ["s3:PutObject", "s3:ListBucket", "s3:AbortMultipartUpload"]),
        "role writes the whole bucket": mutate(template, role_statement + ["Resource"], {"Fn::Sub": "${UploadBucket.Arn}/*"}),
        "role gets admin": mutate(template, ["Resources", "SignerRole", "Properties", "ManagedPolicyArns"],
                                  [BASIC_EXECUTION, "arn:aws:iam::aws:policy/AdministratorAccess"]),
        "public write": mutate(template, public_statement + ["Action"], ["s3:GetObject", "s3:PutObject"]),
        "public read of uploads": mutate(template, public_statement + ["Resource"], {"Fn::Sub": "${UploadBucket.Arn}/*"}),
        "ACLs enabled": mutate(template, bucket + ["OwnershipControls"], {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}),
        "public-read ACL": mutate(template, bucket + ["AccessControl"], "PublicRead"),
        "CORS on the API too": mutate(template, ["Resources", "SignerApi", "Properties", "CorsConfiguration"],
                                      {"AllowOrigins": ["*"]}),
        "a literal token secret": mutate(template, ["Resources", "Signer", "Properties", "Environment", "Variables",
                                                    "UPLOAD_TOKEN_SECRET"], "0123456789abcdef0123456789abcdef"),
        "no token secret": mutate(template, ["Resources", "Signer", "Properties", "Environment", "Variables",
                                             "UPLOAD_TOKEN_SECRET"], lambda node, key: node.pop(key)),
        "SAM policies on the function": mutate(template, ["Resources", "Signer", "Properties", "Policies"],
                                               ["AmazonS3FullAccess"]),
    }
    failures = [name for name, broken in cases.items() if not problems_of(broken)]
    for name in failures:
        print(f"self-test: a template with '{name}' passed the checks")
    return len(cases) - len(failures), len(failures)


def main():
    template, matches = decode(str(TEMPLATE))
    if template is None:
        for match in matches:
            print(match)
        return 1
    passed = failed = 0
    for check in CHECKS:
        problems = check(template)
        for problem in problems:
            print(f"{check.__name__}: {problem}")
        passed, failed = (passed + 1, failed) if not problems else (passed, failed + 1)
    if "--self-test" in sys.argv:
        p, f = self_test(template)
        passed, failed = passed + p, failed + f
    print(f"template-checks: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
