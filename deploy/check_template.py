#!/usr/bin/env python3
"""Least-privilege and safe-default checks on deploy/template.yaml, run offline by `cargo xtask test`.

Fails if the signer's role may do more than s3:PutObject (and abort and list its multipart uploads'
parts) on uploads/*, if anything grants public write (or public anything but reading page/*, and
nothing public at all behind CloudFront), if ACLs are enabled, if CORS is configured on the API as
well as in the code, if the token secret is not generated, if a signer route is missing or the
sign-in authorizer sits on a preflight, if the page's distribution reads the bucket other than
through its own Origin Access Control or serves the page without its security headers, or if an
alarm is missing. `--self-test` also proves each check catches a broken template.

The template has conditions (UseCloudFront, AuthIssuer, ...), so the checks run on each of a few
parameter sets (VARIANTS): the template is resolved as CloudFormation would (Fn::If branches
chosen, AWS::NoValue dropped, resources of false conditions removed) and every check sees what
that deployment would get.

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
# Every endpoint of the signer (README's API table), each reachable bare and under /api.
SIGNER_ROUTES = ["GET /rules", "POST /sign", "POST /sign/batch"] + [
    f"POST /multipart/{step}" for step in ("create", "sign-parts", "list", "complete", "abort")]
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"

# The deployments checked: the default (CloudFront, anonymous), the page straight from the
# bucket, and every option on at once (in us-east-1, where the stack makes its own web ACL).
VARIANTS = {
    "cloudfront": {},
    "bucket-page": {"UseCloudFront": "false"},
    "everything-on": {
        "AWS::Region": "us-east-1",
        "DomainName": "upload.example.com",
        "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0000-1111",
        "RateLimitPerFiveMinutes": "300",
        "AuthIssuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example",
        "AuthAudience": "example-app-client",
        "AlarmEmail": "ops@example.com",
        "ExtraAllowedOrigins": "https://example.com",
    },
}
PSEUDO = {"AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012", "AWS::StackName": "up",
          "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}


def as_list(value):
    return value if isinstance(value, list) else [value]


def resources(template, kind):
    return {name: r for name, r in template["Resources"].items() if r.get("Type") == kind}


# --- Resolving the template for one set of parameters -------------------------------------------

NO_VALUE = object()


def parameter_values(template, overrides):
    values = dict(PSEUDO)
    for name, parameter in template.get("Parameters", {}).items():
        value = str(overrides.get(name, parameter.get("Default", "")))
        values[name] = value.split(",") if parameter.get("Type") == "CommaDelimitedList" else value
    values.update({k: v for k, v in overrides.items() if k.startswith("AWS::")})
    return values


def value_of(node, values):
    """A parameter-only expression (as conditions use) to a string or a list of strings."""
    if isinstance(node, dict) and "Ref" in node:
        return values[node["Ref"]]
    if isinstance(node, dict) and "Fn::Join" in node:
        separator, parts = node["Fn::Join"]
        return separator.join(as_list(value_of(parts, values)))
    if isinstance(node, list):
        return [value_of(item, values) for item in node]
    return str(node).lower() if isinstance(node, bool) else str(node)


def condition_value(node, values, conditions):
    if isinstance(node, dict) and len(node) == 1:
        (function, arguments), = node.items()
        if function == "Condition":
            return condition_value(conditions[arguments], values, conditions)
        if function == "Fn::Equals":
            a, b = (value_of(argument, values) for argument in arguments)
            return a == b
        if function == "Fn::Not":
            return not condition_value(arguments[0], values, conditions)
        if function == "Fn::And":
            return all(condition_value(a, values, conditions) for a in arguments)
        if function == "Fn::Or":
            return any(condition_value(a, values, conditions) for a in arguments)
    raise ValueError(f"cannot evaluate condition {json.dumps(node)}")


def resolve(template, overrides):
    """The template as deployed with these parameters: Fn::If chosen, AWS::NoValue and resources
    (and outputs) of false conditions gone. Other intrinsics are left as they are."""
    values = parameter_values(template, overrides)
    raw = template.get("Conditions", {})
    truth = {name: condition_value(c, values, raw) for name, c in raw.items()}

    def walk(node):
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                name, yes, no = node["Fn::If"]
                return walk(yes if truth[name] else no)
            if node == {"Ref": "AWS::NoValue"}:
                return NO_VALUE
            walked = {k: walk(v) for k, v in node.items()}
            return {k: v for k, v in walked.items() if v is not NO_VALUE}
        if isinstance(node, list):
            return [v for v in (walk(item) for item in node) if v is not NO_VALUE]
        return node

    resolved = {"Parameters": template.get("Parameters", {}), "Values": values}
    for section in ("Resources", "Outputs"):
        resolved[section] = {name: walk(body) for name, body in template.get(section, {}).items()
                             if truth.get(body.get("Condition"), True)}
    return resolved


def text_of(node):
    """The text a string expression makes, with ${...} references left in (for pattern checks)."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and "Fn::Sub" in node:
        return text_of(node["Fn::Sub"][0] if isinstance(node["Fn::Sub"], list) else node["Fn::Sub"])
    if isinstance(node, dict) and "Fn::Join" in node:
        separator, parts = node["Fn::Join"]
        return separator.join(text_of(p) for p in as_list(parts))
    return json.dumps(node)


def refers_to(node, name):
    """Whether an expression is a Ref/GetAtt of, or a Sub naming, the resource `name`."""
    if isinstance(node, dict):
        if node.get("Ref") == name:
            return True
        if "Fn::GetAtt" in node:
            target = node["Fn::GetAtt"]
            return (target[0] if isinstance(target, list) else target.split(".")[0]) == name
        if "Fn::Sub" in node:
            return "${" + name + "}" in text_of(node) or "${" + name + "." in text_of(node)
    return False


# --- The checks ---------------------------------------------------------------------------------

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


def is_public(statement):
    return statement.get("Principal") in ("*", {"AWS": "*"})


def check_public_access(t):
    problems = []
    behind_cloudfront = bool(resources(t, "AWS::CloudFront::Distribution"))
    for name, policy in resources(t, "AWS::S3::BucketPolicy").items():
        for statement in as_list(policy["Properties"]["PolicyDocument"]["Statement"]):
            if statement.get("Effect") != "Allow" or not is_public(statement):
                continue
            if behind_cloudfront:
                problems.append(f"{name}: a public statement ({statement.get('Sid')}) although "
                                "CloudFront serves the page; nothing in the bucket is public then")
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
        flags = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        if behind_cloudfront and not all(block.get(flag) is True for flag in flags):
            problems.append(f"{name}: behind CloudFront all four Block Public Access flags must be on")
        for rule in props.get("CorsConfiguration", {}).get("CorsRules", []):
            if set(rule.get("AllowedMethods", [])) - {"POST", "PUT"}:
                problems.append(f"{name}: CORS allows {rule['AllowedMethods']}; only POST and PUT")
            if "ETag" not in rule.get("ExposedHeaders", []):
                problems.append(f"{name}: CORS must expose ETag (the page reads each part's)")
            if rule.get("AllowedOrigins") == ["*"]:
                problems.append(f"{name}: CORS allows any origin")
    return problems


def check_page_distribution(t):
    """Behind CloudFront: the bucket is read only by this stack's distribution (OAC, scoped by
    AWS:SourceArn), which compresses, sends the security headers, and passes /api/* uncached."""
    problems = []
    distributions = resources(t, "AWS::CloudFront::Distribution")
    controls = resources(t, "AWS::CloudFront::OriginAccessControl")
    header_policies = resources(t, "AWS::CloudFront::ResponseHeadersPolicy")
    for name, policy in resources(t, "AWS::S3::BucketPolicy").items():
        for statement in as_list(policy["Properties"]["PolicyDocument"]["Statement"]):
            principal = statement.get("Principal")
            if statement.get("Effect") != "Allow" or is_public(statement):
                continue
            if principal != {"Service": "cloudfront.amazonaws.com"}:
                problems.append(f"{name}: {statement.get('Sid')} grants {json.dumps(principal)}")
                continue
            source = statement.get("Condition", {}).get("StringEquals", {}).get("AWS:SourceArn")
            if not any(refers_to(source, d) and ":distribution/" in text_of(source) for d in distributions):
                problems.append(f"{name}: CloudFront's read must be scoped by AWS:SourceArn to this "
                                f"stack's distribution, not {json.dumps(source)}")
            if as_list(statement.get("Action")) != ["s3:GetObject"] or not all(
                    json.dumps(r).endswith('/page/*"}') for r in as_list(statement.get("Resource"))):
                problems.append(f"{name}: CloudFront may only s3:GetObject page/*")
    for name, distribution in distributions.items():
        config = distribution["Properties"]["DistributionConfig"]
        reads = [s for p in resources(t, "AWS::S3::BucketPolicy").values()
                 for s in as_list(p["Properties"]["PolicyDocument"]["Statement"])
                 if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}]
        if not reads:
            problems.append(f"{name}: no bucket-policy statement lets it read page/*")
        origins = {o["Id"]: o for o in config.get("Origins", [])}
        for origin in origins.values():
            if "S3OriginConfig" not in origin:
                continue
            control = origin.get("OriginAccessControlId")
            good = [c for c, body in controls.items() if refers_to(control, c)
                    and body["Properties"]["OriginAccessControlConfig"].get("SigningBehavior") == "always"
                    and body["Properties"]["OriginAccessControlConfig"].get("OriginAccessControlOriginType") == "s3"]
            if not good:
                problems.append(f"{name}: origin {origin['Id']} must read through an Origin Access "
                                "Control that always signs")
            if origin["S3OriginConfig"].get("OriginAccessIdentity"):
                problems.append(f"{name}: origin {origin['Id']} uses a legacy origin access identity")
            if origin.get("OriginPath") != "/page":
                problems.append(f"{name}: origin {origin['Id']} must serve page/ only (OriginPath /page)")
        default = config.get("DefaultCacheBehavior", {})
        if default.get("Compress") is not True:
            problems.append(f"{name}: the page must be served compressed (Compress: true)")
        if default.get("ViewerProtocolPolicy") not in ("redirect-to-https", "https-only"):
            problems.append(f"{name}: the page must be served over HTTPS only")
        for behavior in [default] + config.get("CacheBehaviors", []):
            policy = [p for p in header_policies if refers_to(behavior.get("ResponseHeadersPolicyId"), p)]
            if not policy:
                problems.append(f"{name}: {behavior.get('PathPattern', 'default')} has no security headers policy")
        api = [b for b in config.get("CacheBehaviors", []) if b.get("PathPattern") == "/api/*"]
        if len(api) != 1:
            problems.append(f"{name}: the signer must be under the page's origin at /api/*")
        for behavior in api:
            origin = origins.get(behavior.get("TargetOriginId"), {})
            if "execute-api" not in text_of(origin.get("DomainName")):
                problems.append(f"{name}: /api/* must go to the HTTP API")
            if behavior.get("CachePolicyId") != CACHING_DISABLED:
                problems.append(f"{name}: /api/* must not be cached (Managed-CachingDisabled)")
            if behavior.get("OriginRequestPolicyId") != ALL_VIEWER_EXCEPT_HOST:
                problems.append(f"{name}: /api/* must forward Origin and Authorization (AllViewerExceptHostHeader)")
            if not {"POST", "OPTIONS"} <= set(behavior.get("AllowedMethods", [])):
                problems.append(f"{name}: /api/* must allow POST and OPTIONS")
    for name, policy in header_policies.items():
        security = policy["Properties"]["ResponseHeadersPolicyConfig"].get("SecurityHeadersConfig", {})
        csp = text_of(security.get("ContentSecurityPolicy", {}).get("ContentSecurityPolicy", ""))
        directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.split()}
        for directive, wanted in (("frame-ancestors", "'none'"), ("object-src", "'none'"),
                                  ("base-uri", "'none'"), ("default-src", "'none'")):
            if directives.get(directive) != [wanted]:
                problems.append(f"{name}: the CSP must say {directive} {wanted}")
        scripts = directives.get("script-src", [])
        if not scripts or {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "blob:"} & set(scripts):
            problems.append(f"{name}: script-src {scripts} must be 'self' (and 'wasm-unsafe-eval') only")
        if "ContentTypeOptions" not in security:
            problems.append(f"{name}: X-Content-Type-Options: nosniff is missing")
        if "StrictTransportSecurity" not in security:
            problems.append(f"{name}: Strict-Transport-Security is missing")
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


def signer_routes(t):
    """RouteKey -> route of every route that reaches the signer function."""
    functions = resources(t, "AWS::Serverless::Function")
    integrations = [name for name, i in resources(t, "AWS::ApiGatewayV2::Integration").items()
                    if any(refers_to(i["Properties"].get("IntegrationUri"), f) for f in functions)]
    return {r["Properties"]["RouteKey"]: r["Properties"]
            for r in resources(t, "AWS::ApiGatewayV2::Route").values()
            if any(refers_to(r["Properties"].get("Target"), i) for i in integrations)}


def check_routes(t):
    """Every signer endpoint reaches the function, bare and under /api, and preflights too."""
    problems = []
    routes = signer_routes(t)
    for route in SIGNER_ROUTES:
        method, path = route.split(" ")
        for key in (route, f"{method} /api{path}"):
            if key not in routes:
                problems.append(f"no route {key} to the signer")
    preflights = [k for k in routes if k.startswith("OPTIONS ")]
    if "OPTIONS /{proxy+}" not in preflights:
        for route in SIGNER_ROUTES[1:]:
            path = route.split(" ")[1]
            for key in (f"OPTIONS {path}", f"OPTIONS /api{path}"):
                if key not in preflights:
                    problems.append(f"no preflight route {key} to the signer")
    return problems


def check_sign_in(t):
    """Signed-in mode: a JWT authorizer on every POST and on nothing else (a preflight carries no
    token; GET /rules is read before signing in), and the signer told the same issuer. Anonymous:
    no authorizer, and no AUTH_* variable at all (the signer refuses an empty one)."""
    problems = []
    values = t["Values"]
    signed_in = values.get("AuthIssuer", "") != ""
    authorizers = resources(t, "AWS::ApiGatewayV2::Authorizer")
    for name, function in resources(t, "AWS::Serverless::Function").items():
        variables = function.get("Properties", {}).get("Environment", {}).get("Variables", {})
        for variable, parameter in (("AUTH_ISSUER", "AuthIssuer"), ("AUTH_AUDIENCE", "AuthAudience")):
            if signed_in and variables.get(variable) != {"Ref": parameter}:
                problems.append(f"{name}: {variable} must be {parameter} when signing in is on")
            if not signed_in and variable in variables:
                problems.append(f"{name}: {variable} must be absent in anonymous mode, not {json.dumps(variables[variable])}")
    for name, authorizer in authorizers.items():
        props = authorizer["Properties"]
        jwt = props.get("JwtConfiguration", {})
        if props.get("AuthorizerType") != "JWT" or jwt.get("Issuer") != {"Ref": "AuthIssuer"} \
                or as_list(jwt.get("Audience", [])) != [{"Ref": "AuthAudience"}]:
            problems.append(f"{name}: must be a JWT authorizer for AuthIssuer and AuthAudience")
    if signed_in and not authorizers:
        problems.append("signing in is on but the API has no JWT authorizer")
    for key, route in signer_routes(t).items():
        guarded = route.get("AuthorizationType", "NONE") != "NONE" or "AuthorizerId" in route
        if key.startswith("POST ") and signed_in:
            if route.get("AuthorizationType") != "JWT" or not any(
                    refers_to(route.get("AuthorizerId"), a) for a in authorizers):
                problems.append(f"route {key}: needs the JWT authorizer when signing in is on")
        elif guarded and (not key.startswith("POST ") or not signed_in):
            problems.append(f"route {key}: must have no authorizer "
                            f"({'a preflight carries no token' if key.startswith('OPTIONS') else 'open to everyone'})")
    return problems


def check_alarms(t):
    """Alarms on the function's errors, the API's 5xx and its 429s, each telling a topic; and the
    outputs that name what an operator looks at."""
    problems = []
    alarms = resources(t, "AWS::CloudWatch::Alarm").values()
    topics = resources(t, "AWS::SNS::Topic")
    functions = resources(t, "AWS::Serverless::Function")
    apis = resources(t, "AWS::ApiGatewayV2::Api")

    def alarmed(namespace, metric, dimension, owners):
        return [a for a in alarms
                if a["Properties"].get("Namespace") == namespace
                and a["Properties"].get("MetricName") == metric
                and any(d.get("Name") == dimension and any(refers_to(d.get("Value"), o) for o in owners)
                        for d in a["Properties"].get("Dimensions", []))]

    if not alarmed("AWS/Lambda", "Errors", "FunctionName", functions):
        problems.append("no alarm on the signer function's Errors")
    if not alarmed("AWS/ApiGateway", "5xx", "ApiId", apis):
        problems.append("no alarm on the API's 5xx")
    access_logs = [s["Properties"].get("AccessLogSettings", {}).get("DestinationArn")
                   for s in resources(t, "AWS::ApiGatewayV2::Stage").values()]
    # The 429 count: a metric filter on the stage's access log, and an alarm on its metric.
    throttled = [(json.dumps(m["MetricNamespace"]), m["MetricName"])
                 for f in resources(t, "AWS::Logs::MetricFilter").values()
                 if "429" in f["Properties"].get("FilterPattern", "")
                 and any(refers_to(f["Properties"].get("LogGroupName"), g)
                         for g in resources(t, "AWS::Logs::LogGroup")
                         if any(refers_to(d, g) for d in access_logs))
                 for m in f["Properties"].get("MetricTransformations", [])]
    if not any((json.dumps(a["Properties"].get("Namespace")), a["Properties"].get("MetricName")) in throttled
               for a in alarms):
        problems.append("no alarm on the API's 429s (a metric filter on the stage's access log)")
    for alarm_name, alarm in resources(t, "AWS::CloudWatch::Alarm").items():
        if not any(refers_to(action, topic) for action in alarm["Properties"].get("AlarmActions", [])
                   for topic in topics):
            problems.append(f"{alarm_name}: tells no one (AlarmActions to the stack's topic)")
    for output in ("ApiId", "FunctionName", "LogGroupName", "PageUrl", "SignerUrl", "BucketName"):
        if output not in t["Outputs"]:
            problems.append(f"no {output} output")
    return problems


CHECKS = [check_signer_role, check_public_access, check_page_distribution, check_cors_in_one_place,
          check_token_secret, check_routes, check_sign_in, check_alarms]


def problems_of(template):
    """Every problem of every check in every variant, as (check, variant, problem)."""
    found = []
    for variant, overrides in VARIANTS.items():
        resolved = resolve(template, overrides)
        for check in CHECKS:
            found.extend((check.__name__, variant, p) for p in check(resolved))
    return found


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


def remove(node, key):
    node.pop(key)


def self_test(template):
    """Each known-bad change must be caught."""
    role_statement = ["Resources", "SignerRole", "Properties", "Policies", 0, "PolicyDocument", "Statement", 0]
    page_read = ["Resources", "UploadBucketPolicy", "Properties", "PolicyDocument", "Statement", 0, "Fn::If"]
    public_statement = page_read + [2]
    cloudfront_read = page_read + [1]
    bucket = ["Resources", "UploadBucket", "Properties"]
    variables = ["Resources", "Signer", "Properties", "Environment", "Variables"]
    distribution = ["Resources", "PageDistribution", "Properties", "DistributionConfig"]
    headers = ["Resources", "PageHeaders", "Properties", "ResponseHeadersPolicyConfig", "SecurityHeadersConfig"]
    csp = headers + ["ContentSecurityPolicy", "ContentSecurityPolicy", "Fn::Join", 1]
    route = lambda name: ["Resources", name, "Properties"]  # noqa: E731
    public_copy = copy.deepcopy(template["Resources"]["UploadBucketPolicy"]["Properties"]["PolicyDocument"]
                                ["Statement"][0]["Fn::If"][2])
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
        "CORS on the API too": mutate(template, ["Resources", "SignerHttpApi", "Properties", "CorsConfiguration"],
                                      {"AllowOrigins": ["*"]}),
        "a literal token secret": mutate(template, variables + ["UPLOAD_TOKEN_SECRET"],
                                         "0123456789abcdef0123456789abcdef"),
        "no token secret": mutate(template, variables + ["UPLOAD_TOKEN_SECRET"], remove),
        "SAM policies on the function": mutate(template, ["Resources", "Signer", "Properties", "Policies"],
                                               ["AmazonS3FullAccess"]),
        # Behind CloudFront.
        "a public page read behind CloudFront": mutate(template, cloudfront_read, public_copy),
        "CloudFront's read not scoped to the distribution": mutate(template, cloudfront_read + ["Condition"], remove),
        "CloudFront's read scoped to another distribution": mutate(
            template, cloudfront_read + ["Condition", "StringEquals", "AWS:SourceArn"],
            "arn:aws:cloudfront::123456789012:distribution/EXAMPLE"),
        "CloudFront may read the uploads": mutate(template, cloudfront_read + ["Resource"],
                                                  {"Fn::Sub": "${UploadBucket.Arn}/*"}),
        "public policies allowed behind CloudFront": mutate(
            template, bucket + ["PublicAccessBlockConfiguration", "BlockPublicPolicy"], False),
        "public buckets not restricted behind CloudFront": mutate(
            template, bucket + ["PublicAccessBlockConfiguration", "RestrictPublicBuckets"], False),
        "the bucket origin without OAC": mutate(template, distribution + ["Origins", 0, "OriginAccessControlId"], remove),
        "an OAC that does not sign": mutate(
            template, ["Resources", "PageOriginAccessControl", "Properties", "OriginAccessControlConfig",
                       "SigningBehavior"], "no-override"),
        "the whole bucket behind CloudFront": mutate(template, distribution + ["Origins", 0, "OriginPath"], remove),
        "the page uncompressed": mutate(template, distribution + ["DefaultCacheBehavior", "Compress"], False),
        "the page without security headers": mutate(
            template, distribution + ["DefaultCacheBehavior", "ResponseHeadersPolicyId"], remove),
        "inline scripts allowed": mutate(template, csp + [0],
                                         "default-src 'none'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; "),
        "framing allowed": mutate(template, csp + [6], "; base-uri 'none'; form-action 'none'; object-src 'none'"),
        "no nosniff": mutate(template, headers + ["ContentTypeOptions"], remove),
        "the signer cached at the edge": mutate(template, distribution + ["CacheBehaviors", 0, "CachePolicyId"],
                                                "658327ea-f89d-4fab-a63d-7e88639e58f6"),
        "the signer without Origin and Authorization": mutate(
            template, distribution + ["CacheBehaviors", 0, "OriginRequestPolicyId"], remove),
        # Routes and signing in.
        "multipart abort not routed": mutate(
            template, ["Resources"], lambda node, key: node[key].pop("RouteMultipartAbort")),
        "/api/multipart/sign-parts not routed": mutate(
            template, ["Resources"], lambda node, key: node[key].pop("RouteApiMultipartSignParts")),
        "no preflight route": mutate(template, ["Resources"], lambda node, key: node[key].pop("RoutePreflight")),
        "a route to another integration": mutate(template, route("RouteApiRules") + ["Target"], "integrations/other"),
        "the sign-in authorizer on preflights": mutate(
            template, route("RoutePreflight"), lambda node, key: node[key].update(
                AuthorizationType={"Fn::If": ["Authenticated", "JWT", "NONE"]},
                AuthorizerId={"Fn::If": ["Authenticated", {"Ref": "SignerAuthorizer"}, {"Ref": "AWS::NoValue"}]})),
        "the sign-in authorizer on GET /rules": mutate(
            template, route("RouteRules"), lambda node, key: node[key].update(
                AuthorizationType={"Fn::If": ["Authenticated", "JWT", "NONE"]},
                AuthorizerId={"Fn::If": ["Authenticated", {"Ref": "SignerAuthorizer"}, {"Ref": "AWS::NoValue"}]})),
        "a POST route open when signing in is on": mutate(
            template, route("RouteApiMultipartComplete"), lambda node, key: node[key].update(
                AuthorizationType="NONE", AuthorizerId={"Ref": "AWS::NoValue"})),
        "an empty AUTH_ISSUER in anonymous mode": mutate(template, variables + ["AUTH_ISSUER"], {"Ref": "AuthIssuer"}),
        "no AUTH_AUDIENCE when signing in": mutate(template, variables + ["AUTH_AUDIENCE"], remove),
        "an authorizer without audience": mutate(
            template, ["Resources", "SignerAuthorizer", "Properties", "JwtConfiguration", "Audience"], remove),
        # Alarms.
        "no alarm on function errors": mutate(template, ["Resources"], lambda node, key: node[key].pop("SignerErrorsAlarm")),
        "no alarm on 5xx": mutate(template, ["Resources"], lambda node, key: node[key].pop("Api5xxAlarm")),
        "no 429 metric": mutate(template, ["Resources"], lambda node, key: node[key].pop("ThrottledMetric")),
        "no alarm on 429": mutate(template, ["Resources"], lambda node, key: node[key].pop("Api429Alarm")),
        "an alarm telling no one": mutate(template, ["Resources", "Api5xxAlarm", "Properties", "AlarmActions"], remove),
        "no ApiId output": mutate(template, ["Outputs"], lambda node, key: node[key].pop("ApiId")),
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
    for variant, overrides in VARIANTS.items():
        resolved = resolve(template, overrides)
        for check in CHECKS:
            problems = check(resolved)
            for problem in problems:
                print(f"{check.__name__} ({variant}): {problem}")
            passed, failed = (passed + 1, failed) if not problems else (passed, failed + 1)
    if "--self-test" in sys.argv:
        p, f = self_test(template)
        passed, failed = passed + p, failed + f
    print(f"template-checks: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
