#!/usr/bin/env python3
"""Least-privilege and safe-default checks on deploy/template.yaml, run offline by `cargo xtask test`.

Fails if the signer's role may do more than s3:PutObject (and abort and list its multipart uploads'
parts) on uploads/*, if the after-upload hook's role may do more than read and tag uploads/*, write
results/* and send to its dead-letter queue, if anything grants public write (or public anything
but reading page/*, and nothing public at all behind CloudFront), if ACLs are enabled, if CORS is
configured on the API as well as in the code, if the token secret is not generated, if a signer
route is missing or the sign-in authorizer sits on a preflight, if the page's distribution reads
the bucket other than through its own Origin Access Control or serves the page without its security
headers (framing allowed to no site, or to exactly EmbedOrigins), if a stored upload does not become
exactly one event to the hook (or HookFunctionArn's function) with what is not handled kept in a
dead-letter queue, or if an alarm is missing. `--self-test` also proves each check catches a broken
template.

The template has conditions (UseCloudFront, AuthIssuer, ...), so the checks run on each of a few
parameter sets (VARIANTS): the template is resolved as CloudFormation would (Fn::If branches
chosen, AWS::NoValue dropped, resources of false conditions removed) and every check sees what
that deployment would get.

Reads the template with cfn-lint's decoder, which understands CloudFormation's short tags (!Sub...).
"""
import copy
import json
import re
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

# What the after-upload hook may do, as (action, where): read and tag each upload, write its verdict
# under results/, and send an event it keeps failing to the dead-letter queue.
HOOK_GRANTS = {("s3:GetObject", "uploads/*"), ("s3:PutObjectTagging", "uploads/*"),
               ("s3:PutObject", "results/*"), ("sqs:SendMessage", "the dead-letter queue")}
# The most SQS keeps a message: 14 days to look at an after-upload event nothing was done after.
DEAD_LETTER_RETENTION = 1209600

# The deployments checked: the default (CloudFront, anonymous, the stack's own hook), the page
# straight from the bucket, the page embedded by one site (uploads expiring), and every option on
# at once (in us-east-1, with the per-client limit's web ACL; two embedding sites, and the
# deployer's own after-upload function instead of the stack's hook).
VARIANTS = {
    "cloudfront": {},
    "bucket-page": {"UseCloudFront": "false"},
    "embedded": {"EmbedOrigins": "https://shop.example.com", "UploadExpiryDays": "30"},
    "everything-on": {
        "AWS::Region": "us-east-1",
        "DomainName": "upload.example.com",
        "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0000-1111",
        "WebAclArn": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/up-rate-limit/0000",
        "AuthIssuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example",
        "AuthAudience": "example-app-client",
        "AlarmEmail": "ops@example.com",
        "ExtraAllowedOrigins": "https://example.com",
        "EmbedOrigins": "https://shop.example.com,https://partner.example:8443",
        "UploadExpiryDays": "7",
        "HookFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:their-after-upload",
    },
}
PSEUDO = {"AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012", "AWS::StackName": "up",
          "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}


def as_list(value):
    return value if isinstance(value, list) else [value]


def resources(template, kind):
    return {name: r for name, r in template["Resources"].items() if r.get("Type") == kind}


def functions_of(template, crate):
    """The functions that run `crate`'s binary (CodeUri target/lambda/<crate>/bootstrap.zip): the
    signer and the hook are told apart by what they run, not by their names."""
    return {name: f for name, f in resources(template, "AWS::Serverless::Function").items()
            if f"/lambda/{crate}/" in text_of(f.get("Properties", {}).get("CodeUri", ""))}


def role_users(template, role):
    """The functions that run with the role `role`."""
    return [name for name, f in resources(template, "AWS::Serverless::Function").items()
            if refers_to(f.get("Properties", {}).get("Role"), role)]


def is_arn_of(node, name):
    """Whether an expression is `!GetAtt name.Arn`."""
    target = node.get("Fn::GetAtt") if isinstance(node, dict) else None
    target = target.split(".", 1) if isinstance(target, str) else target
    return target == [name, "Arn"]


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
    (and outputs) of false conditions gone, a list parameter's Ref its values (so a Fn::Join of it
    reads as text). Other intrinsics are left as they are. The source and the overrides are kept,
    for checks that compare a deployment with the same one without some option."""
    values = parameter_values(template, overrides)
    raw = template.get("Conditions", {})
    truth = {name: condition_value(c, values, raw) for name, c in raw.items()}
    lists = {name for name, p in template.get("Parameters", {}).items() if p.get("Type") == "CommaDelimitedList"}

    def walk(node):
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                name, yes, no = node["Fn::If"]
                return walk(yes if truth[name] else no)
            if node == {"Ref": "AWS::NoValue"}:
                return NO_VALUE
            if set(node) == {"Ref"} and node["Ref"] in lists:
                return list(values[node["Ref"]])
            walked = {k: walk(v) for k, v in node.items()}
            return {k: v for k, v in walked.items() if v is not NO_VALUE}
        if isinstance(node, list):
            return [v for v in (walk(item) for item in node) if v is not NO_VALUE]
        return node

    resolved = {"Parameters": template.get("Parameters", {}), "Values": values,
                "Source": template, "Overrides": overrides}
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
    """Every function is the signer or the hook, on its own role of the template; the signer's
    role may only put into uploads/* (check_hook checks the hook's), and every role is a function's."""
    problems = []
    functions = resources(t, "AWS::Serverless::Function")
    signers, hooks = functions_of(t, "signer"), functions_of(t, "hook")
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
        if name not in signers and name not in hooks:
            problems.append(f"{name}: runs neither the signer nor the hook "
                            f"({text_of(props.get('CodeUri'))}), so no check knows what its role may do")
    for name, role in resources(t, "AWS::IAM::Role").items():
        props = role["Properties"]
        managed = as_list(props.get("ManagedPolicyArns", []))
        if managed != [BASIC_EXECUTION]:
            problems.append(f"{name}: managed policies {managed} (only basic execution for logs)")
        users = set(role_users(t, name))
        if not users:
            problems.append(f"{name}: no function runs with it (no other IAM roles)")
            continue
        if users <= set(hooks):
            continue
        if not users <= set(signers):
            problems.append(f"{name}: shared by {sorted(users)}; the signer and the hook each have their own role")
        for policy in props.get("Policies", []):
            for statement in as_list(policy["PolicyDocument"]["Statement"]):
                if statement.get("Effect") != "Allow" or is_token_secret_grant(t, statement):
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
        # GET /api/rules cached at the edge, keyed by Origin (its CORS answer depends on it).
        rules = [b for b in config.get("CacheBehaviors", []) if b.get("PathPattern") == "/api/rules"]
        behaviors = config.get("CacheBehaviors", [])
        in_order = len(rules) == 1 and len(api) == 1 and behaviors.index(rules[0]) < behaviors.index(api[0])
        if not in_order:
            problems.append(f"{name}: GET /api/rules must have its own cached behavior, before /api/*")
        for behavior in rules:
            if "execute-api" not in text_of(origins.get(behavior.get("TargetOriginId"), {}).get("DomainName")):
                problems.append(f"{name}: /api/rules must go to the HTTP API")
            if set(behavior.get("AllowedMethods", [])) - {"GET", "HEAD", "OPTIONS"}:
                problems.append(f"{name}: /api/rules must take GET, HEAD and OPTIONS only")
            policy = [p for n, p in resources(t, "AWS::CloudFront::CachePolicy").items()
                      if refers_to(behavior.get("CachePolicyId"), n)]
            config_ = policy[0]["Properties"]["CachePolicyConfig"] if policy else {}
            key = config_.get("ParametersInCacheKeyAndForwardedToOrigin", {}).get("HeadersConfig", {})
            if not policy or "origin" not in [text_of(h).lower() for h in key.get("Headers", [])]:
                problems.append(f"{name}: /api/rules must be cached per Origin (a cache policy of the stack's)")
            elif not 0 < int(config_.get("MaxTTL", 0)) <= 300:
                problems.append(f"{name}: /api/rules must be cached for at most 300 s")
    for name, policy in header_policies.items():
        security = policy["Properties"]["ResponseHeadersPolicyConfig"].get("SecurityHeadersConfig", {})
        directives = csp_directives(security)
        # frame-ancestors depends on EmbedOrigins: check_framing.
        for directive, wanted in (("object-src", "'none'"), ("base-uri", "'none'"), ("default-src", "'none'")):
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


def csp_directives(security):
    """A SecurityHeadersConfig's Content-Security-Policy as {directive: [sources]}."""
    csp = text_of(security.get("ContentSecurityPolicy", {}).get("ContentSecurityPolicy", ""))
    return {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.split()}


# What EmbedOrigins' pattern must refuse: each value lands in the CSP, so a space or a semicolon
# would add sources or whole directives, and a scheme or a wildcard would let any site frame it.
NOT_AN_EMBED_ORIGIN = ["https://a.example; script-src *", "https://a.example https://evil.example",
                       "*", "https:", "https://*.example", "http://a.example", "https://a.example/",
                       "'self'"]


def check_framing(t):
    """No site may frame the page (CSP frame-ancestors 'none' and X-Frame-Options: DENY), unless
    EmbedOrigins names the sites that may: then frame-ancestors lists exactly those, there is no
    X-Frame-Options (it cannot name them; frame-ancestors supersedes it), and every other header
    and CSP directive is what the same deployment without EmbedOrigins sends."""
    problems = []
    parameter = t["Parameters"].get("EmbedOrigins", {})
    pattern = parameter.get("AllowedPattern")
    if parameter and (not pattern or any(re.fullmatch(pattern, bad) for bad in NOT_AN_EMBED_ORIGIN)):
        problems.append(f"EmbedOrigins: its AllowedPattern {pattern!r} must take https origins only "
                        "(each value goes into the CSP)")
    embed = [origin for origin in t["Values"].get("EmbedOrigins", []) if origin]
    policies = resources(t, "AWS::CloudFront::ResponseHeadersPolicy")
    if embed:
        plain = resolve(t["Source"], {k: v for k, v in t["Overrides"].items() if k != "EmbedOrigins"})
        plain_policies = resources(plain, "AWS::CloudFront::ResponseHeadersPolicy")
    for name, policy in policies.items():
        config = policy["Properties"]["ResponseHeadersPolicyConfig"]
        security = config.get("SecurityHeadersConfig", {})
        frame_ancestors = csp_directives(security).get("frame-ancestors")
        frame_options = security.get("FrameOptions")
        if security.get("ContentSecurityPolicy", {}).get("Override") is not True:
            problems.append(f"{name}: the CSP must override whatever the origin sends (Override: true)")
        if not embed:
            if frame_ancestors != ["'none'"]:
                problems.append(f"{name}: without EmbedOrigins the CSP must say frame-ancestors 'none', "
                                f"not {frame_ancestors}")
            if frame_options != {"FrameOption": "DENY", "Override": True}:
                problems.append(f"{name}: without EmbedOrigins X-Frame-Options must be DENY (overriding), "
                                f"not {json.dumps(frame_options)}")
            continue
        if frame_ancestors != embed:
            problems.append(f"{name}: frame-ancestors must be exactly EmbedOrigins {embed}, not {frame_ancestors}")
        if frame_options is not None:
            problems.append(f"{name}: no X-Frame-Options with EmbedOrigins (it cannot name them, and DENY "
                            f"would keep them out where browsers still honour it), not {json.dumps(frame_options)}")
        plain_config = plain_policies.get(name, {}).get("Properties", {}).get("ResponseHeadersPolicyConfig", {})
        plain_security = plain_config.get("SecurityHeadersConfig", {})
        plain_directives, directives = csp_directives(plain_security), csp_directives(security)
        changed = sorted(d for d in set(directives) | set(plain_directives)
                         if d != "frame-ancestors" and directives.get(d) != plain_directives.get(d))
        if changed:
            problems.append(f"{name}: EmbedOrigins changes the CSP's {changed}; it may change frame-ancestors only")
        headers = sorted(k for k in set(security) | set(plain_security)
                         if k not in ("ContentSecurityPolicy", "FrameOptions") and security.get(k) != plain_security.get(k))
        headers += sorted(k for k in set(config) | set(plain_config)
                          if k != "SecurityHeadersConfig" and config.get(k) != plain_config.get(k))
        if headers:
            problems.append(f"{name}: EmbedOrigins changes {headers}; it may change the framing headers only")
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


def check_origin_secret(t):
    """Behind CloudFront the signer answers only requests that came through it: the signer origin
    adds X-Origin-Secret, and the signer requires exactly that value (ORIGIN_SECRET). Without
    CloudFront nothing adds it, so the signer must not require it."""
    problems = []
    added = []
    for name, distribution in resources(t, "AWS::CloudFront::Distribution").items():
        for origin in distribution["Properties"]["DistributionConfig"].get("Origins", []):
            if "execute-api" not in text_of(origin.get("DomainName")):
                continue
            headers = {text_of(h.get("HeaderName")).lower(): h.get("HeaderValue")
                       for h in origin.get("OriginCustomHeaders", [])}
            if "x-origin-secret" not in headers:
                problems.append(f"{name}: the signer origin must add X-Origin-Secret (else the API's "
                                "own address bypasses the distribution)")
            else:
                added.append(headers["x-origin-secret"])
    for name, function in functions_of(t, "signer").items():
        variables = function.get("Properties", {}).get("Environment", {}).get("Variables", {})
        required = variables.get("ORIGIN_SECRET")
        if added and required is None:
            problems.append(f"{name}: behind CloudFront, ORIGIN_SECRET must be set")
        elif required is not None and not added:
            problems.append(f"{name}: ORIGIN_SECRET is set but no distribution adds the header: "
                            "every request would be refused")
        elif added and any(json.dumps(required, sort_keys=True) != json.dumps(a, sort_keys=True) for a in added):
            problems.append(f"{name}: ORIGIN_SECRET must be the value the distribution adds")
        if required is not None and "AWS::StackId" not in json.dumps(required):
            problems.append(f"{name}: ORIGIN_SECRET must come from the stack's id, not a literal")
    return problems


def is_token_secret_grant(t, statement):
    """The one grant besides S3: GetSecretValue on the stack's generated token secret alone."""
    secrets = [s for s, r in resources(t, "AWS::SecretsManager::Secret").items()
               if r.get("Properties", {}).get("GenerateSecretString")]
    resources_ = as_list(statement.get("Resource", []))
    return (as_list(statement.get("Action", [])) == ["secretsmanager:GetSecretValue"]
            and len(resources_) == 1 and any(resources_[0] == {"Ref": s} for s in secrets))


def check_token_secret(t):
    """The upload-token secret is a secret the stack generates, which the signer reads itself at
    start (its ARN in UPLOAD_TOKEN_SECRET_ARN, GetSecretValue on it alone in its role): never in a
    function's configuration, where whoever may read that would read it."""
    problems = []
    secrets = [s for s, r in resources(t, "AWS::SecretsManager::Secret").items()
               if r.get("Properties", {}).get("GenerateSecretString")]
    for name, function in resources(t, "AWS::Serverless::Function").items():
        variables = function.get("Properties", {}).get("Environment", {}).get("Variables", {})
        if "resolve:secretsmanager" in json.dumps(variables):
            problems.append(f"{name}: a secret resolved into the environment is readable by whoever reads its configuration")
    for name, function in functions_of(t, "signer").items():
        props = function.get("Properties", {})
        variables = props.get("Environment", {}).get("Variables", {})
        if "UPLOAD_TOKEN_SECRET" in variables:
            problems.append(f"{name}: UPLOAD_TOKEN_SECRET puts the secret in the configuration; "
                            "give UPLOAD_TOKEN_SECRET_ARN")
        arn = variables.get("UPLOAD_TOKEN_SECRET_ARN")
        secret = next((s for s in secrets if arn == {"Ref": s}), None)
        if secret is None:
            problems.append(f"{name}: UPLOAD_TOKEN_SECRET_ARN must be a generated secret's Ref, not {json.dumps(arn)}")
            continue
        role = props.get("Role", {}).get("Fn::GetAtt", [None])[0]
        grants = [st for p in t["Resources"].get(role, {}).get("Properties", {}).get("Policies", [])
                  for st in as_list(p["PolicyDocument"]["Statement"])
                  if st.get("Effect") == "Allow" and is_token_secret_grant(t, st)]
        if not any(g["Resource"] == {"Ref": secret} for g in grants):
            problems.append(f"{name}: its role cannot read the token secret {secret} (GetSecretValue on it alone)")
    return problems


def signer_routes(t):
    """RouteKey -> route of every route that reaches the signer function."""
    functions = functions_of(t, "signer")
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
    for name, function in functions_of(t, "signer").items():
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
    """Alarms on each function's errors, the API's 5xx and its 429s, each telling a topic; and the
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

    for function in functions:
        if not alarmed("AWS/Lambda", "Errors", "FunctionName", [function]):
            problems.append(f"no alarm on the {function} function's Errors")
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
    for output in ("ApiId", "FunctionName", "LogGroupName", "PageUrl", "SignerUrl", "BucketName",
                   "HookDeadLetterQueueUrl", "ResultsPrefix"):
        if output not in t["Outputs"]:
            problems.append(f"no {output} output")
    return problems


def stored_object_rules(t):
    """Name -> properties of every EventBridge rule for stored objects (S3's Object Created)."""
    return {name: r["Properties"] for name, r in resources(t, "AWS::Events::Rule").items()
            if "Object Created" in as_list(r["Properties"].get("EventPattern", {}).get("detail-type", []))}


def dead_letter_queues(t):
    """The SQS queues the stored-object rules' targets send what they cannot deliver to."""
    return [q for q in resources(t, "AWS::SQS::Queue")
            if any(is_arn_of(target.get("DeadLetterConfig", {}).get("Arn"), q)
                   for rule in stored_object_rules(t).values() for target in rule.get("Targets", []))]


def source_arn(statement):
    """A statement's aws:SourceArn condition (keys are case-insensitive), under ArnEquals or
    StringEquals; None without one."""
    for operator in ("ArnEquals", "StringEquals"):
        for key, value in statement.get("Condition", {}).get(operator, {}).items():
            if key.lower() == "aws:sourcearn":
                return value
    return None


def check_after_upload(t):
    """Each object stored under uploads/ (and nothing else: not page/, not the hook's results/)
    is one event, to one function: the stack's own hook, or HookFunctionArn's when given.
    EventBridge retries it and keeps what it cannot deliver in a dead-letter queue, may invoke
    the function for that rule only, and may send to the queue for that rule only; an alarm
    tells the topic of the queue's first message."""
    problems = []
    theirs = t["Values"].get("HookFunctionArn", "") != ""
    buckets = resources(t, "AWS::S3::Bucket")
    hooks = functions_of(t, "hook")
    rules = stored_object_rules(t)
    queues = dead_letter_queues(t)
    for name, bucket in buckets.items():
        events = bucket["Properties"].get("NotificationConfiguration", {}).get("EventBridgeConfiguration", {})
        if events.get("EventBridgeEnabled") is not True:
            problems.append(f"{name}: EventBridge notifications must be on (the after-upload events)")
    if len(rules) != 1:
        problems.append(f"{len(rules)} EventBridge rules for stored objects ({sorted(rules)}); exactly one")
    for name, rule in rules.items():
        pattern = rule.get("EventPattern", {})
        names = pattern.get("detail", {}).get("bucket", {}).get("name")
        wanted = {"source": ["aws.s3"], "detail-type": ["Object Created"],
                  "detail": {"bucket": {"name": names}, "object": {"key": [{"prefix": "uploads/"}]}}}
        if pattern != wanted:
            problems.append(f"{name}: the pattern must be exactly source aws.s3, detail-type Object Created, "
                            f"this bucket, key prefix uploads/; not {json.dumps(pattern)}")
        if not (isinstance(names, list) and len(names) == 1 and any(refers_to(names[0], b) for b in buckets)):
            problems.append(f"{name}: must match this stack's bucket only, not {json.dumps(names)}")
        if rule.get("EventBusName", "default") != "default" or rule.get("State", "ENABLED") != "ENABLED":
            problems.append(f"{name}: must be an enabled rule on the default bus (where S3 sends its events)")
        targets = rule.get("Targets", [])
        if len(targets) != 1:
            problems.append(f"{name}: {len(targets)} targets; exactly one, the hook")
        for target in targets:
            arn = target.get("Arn")
            if theirs and arn != {"Ref": "HookFunctionArn"}:
                problems.append(f"{name}: with HookFunctionArn the target must be that function, not {json.dumps(arn)}")
            if not theirs and not any(is_arn_of(arn, h) for h in hooks):
                problems.append(f"{name}: the target must be the stack's own hook, not {json.dumps(arn)}")
            retry = target.get("RetryPolicy", {})
            if not (isinstance(retry.get("MaximumRetryAttempts"), int)
                    and isinstance(retry.get("MaximumEventAgeInSeconds"), int)):
                problems.append(f"{name}: the target needs a RetryPolicy (attempts and the event's age)")
            if not any(is_arn_of(target.get("DeadLetterConfig", {}).get("Arn"), q)
                       for q in resources(t, "AWS::SQS::Queue")):
                problems.append(f"{name}: the target needs a DeadLetterConfig to the stack's queue")
        # EventBridge's right to invoke: for this rule only, and for the target's function.
        grants = [p["Properties"] for p in resources(t, "AWS::Lambda::Permission").values()
                  if p["Properties"].get("Principal") == "events.amazonaws.com"]
        for grant in grants:
            if not is_arn_of(grant.get("SourceArn"), name) or grant.get("Action") != "lambda:InvokeFunction":
                problems.append(f"a Lambda permission lets EventBridge {grant.get('Action')} for "
                                f"{json.dumps(grant.get('SourceArn'))}; only lambda:InvokeFunction for {name}")
        function = [g.get("FunctionName") for g in grants]
        if theirs and {"Ref": "HookFunctionArn"} not in function:
            problems.append("no Lambda permission lets EventBridge invoke HookFunctionArn's function")
        if not theirs and not any(refers_to(f, h) for f in function for h in hooks):
            problems.append("no Lambda permission lets EventBridge invoke the stack's hook")
    if not queues:
        problems.append("no dead-letter queue for the after-upload events")
    for queue in queues:
        props = resources(t, "AWS::SQS::Queue")[queue].get("Properties", {})
        if props.get("SqsManagedSseEnabled") is not True and "KmsMasterKeyId" not in props:
            problems.append(f"{queue}: must be encrypted (SqsManagedSseEnabled)")
        if props.get("MessageRetentionPeriod") != DEAD_LETTER_RETENTION:
            problems.append(f"{queue}: must keep messages {DEAD_LETTER_RETENTION} s (14 days, the most)")
        policies = [p["Properties"] for p in resources(t, "AWS::SQS::QueuePolicy").values()
                    if any(refers_to(q, queue) for q in as_list(p["Properties"].get("Queues", [])))]
        statements = [s for p in policies for s in as_list(p["PolicyDocument"]["Statement"])
                      if s.get("Effect") == "Allow"]
        if not statements:
            problems.append(f"{queue}: no queue policy lets EventBridge send undelivered events")
        for statement in statements:
            if statement.get("Principal") != {"Service": "events.amazonaws.com"} \
                    or as_list(statement.get("Action")) != ["sqs:SendMessage"] \
                    or not any(is_arn_of(source_arn(statement), r) for r in rules):
                problems.append(f"{queue}: its policy may only let events.amazonaws.com sqs:SendMessage with "
                                f"aws:SourceArn the rule's, not {json.dumps(statement)}")
        alarms = [a["Properties"] for a in resources(t, "AWS::CloudWatch::Alarm").values()
                  if a["Properties"].get("Namespace") == "AWS/SQS"
                  and a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
                  and any(d.get("Name") == "QueueName" and refers_to(d.get("Value"), queue)
                          for d in a["Properties"].get("Dimensions", []))]
        at_first = [a for a in alarms
                    if (a.get("ComparisonOperator"), a.get("Threshold")) in (("GreaterThanThreshold", 0),
                                                                            ("GreaterThanOrEqualToThreshold", 1))]
        if not at_first:
            problems.append(f"{queue}: no alarm on its first message (ApproximateNumberOfMessagesVisible > 0)")
    return problems


def hook_place(resource, buckets, queues):
    """What a hook role's resource names: uploads/* or results/* of the stack's bucket, the
    dead-letter queue, or (anything else) its JSON."""
    for bucket in buckets:
        for prefix in ("uploads/*", "results/*"):
            if text_of(resource) == "${%s.Arn}/%s" % (bucket, prefix) and refers_to(resource, bucket):
                return prefix
    if any(is_arn_of(resource, q) for q in queues):
        return "the dead-letter queue"
    return json.dumps(resource)


def check_hook(t):
    """The stack's own hook, unless HookFunctionArn names the deployer's (then none is made): it
    runs with a role that may only read and tag uploads/*, write results/* and send to the
    dead-letter queue; it is started by the after-upload rule alone (no API route, no Function
    URL, no SAM event); its failures go to the dead-letter queue; and it is told where the uploads
    and the results are."""
    problems = []
    theirs = t["Values"].get("HookFunctionArn", "") != ""
    hooks = functions_of(t, "hook")
    buckets = resources(t, "AWS::S3::Bucket")
    queues = dead_letter_queues(t)
    if theirs and hooks:
        problems.append(f"HookFunctionArn is set, yet the stack makes its own hook {sorted(hooks)}")
    if not theirs and len(hooks) != 1:
        problems.append(f"{len(hooks)} hook functions; exactly one when HookFunctionArn is empty")
    if not theirs and "HookFunctionName" not in t["Outputs"]:
        problems.append("no HookFunctionName output")
    if theirs and "HookFunctionName" in t["Outputs"]:
        problems.append("a HookFunctionName output, yet HookFunctionArn names the deployer's function")
    for name, function in hooks.items():
        props = function.get("Properties", {})
        for role in (r for r in resources(t, "AWS::IAM::Role") if refers_to(props.get("Role"), r)):
            grants = set()
            for policy in resources(t, "AWS::IAM::Role")[role]["Properties"].get("Policies", []):
                for statement in as_list(policy["PolicyDocument"]["Statement"]):
                    if "NotAction" in statement or "NotResource" in statement:
                        problems.append(f"{role}: NotAction/NotResource widen a grant")
                    if statement.get("Effect") != "Allow":
                        continue
                    for action in as_list(statement.get("Action", [])):
                        if "*" in action:
                            problems.append(f"{role}: a wildcard action {action}")
                        for resource in as_list(statement.get("Resource", [])):
                            if resource == "*" or "*" in text_of(resource).split("/")[0]:
                                problems.append(f"{role}: {action} on {json.dumps(resource)}, a wildcard resource")
                            grants.add((action, hook_place(resource, buckets, queues)))
            if grants - HOOK_GRANTS:
                problems.append(f"{role}: the hook may {sorted(grants - HOOK_GRANTS)}; only {sorted(HOOK_GRANTS)}")
            if HOOK_GRANTS - grants:
                problems.append(f"{role}: the hook lacks {sorted(HOOK_GRANTS - grants)}; it needs exactly {sorted(HOOK_GRANTS)}")
            if role_users(t, role) != [name]:
                problems.append(f"{role}: the hook's role is its own, not {role_users(t, role)}'s")
        variables = props.get("Environment", {}).get("Variables", {})
        if not any(refers_to(variables.get("UPLOAD_BUCKET"), b) for b in buckets) \
                or variables.get("UPLOAD_PREFIX") != "uploads/" or variables.get("RESULTS_PREFIX") != "results/":
            problems.append(f"{name}: must be told UPLOAD_BUCKET (the stack's), UPLOAD_PREFIX uploads/ and "
                            "RESULTS_PREFIX results/ (outside uploads/, or its results would start it again)")
        if "UPLOAD_TOKEN_SECRET" in variables or "UPLOAD_TOKEN_SECRET_ARN" in variables:
            problems.append(f"{name}: the upload-token secret is the signer's alone")
        for way_in in ("Events", "FunctionUrlConfig"):
            if way_in in props:
                problems.append(f"{name}: {way_in} would start it other than through the after-upload rule")
        if any(refers_to(i["Properties"].get("IntegrationUri"), name)
               for i in resources(t, "AWS::ApiGatewayV2::Integration").values()):
            problems.append(f"{name}: reachable through the API; only the after-upload rule starts it")
        configs = [c["Properties"] for c in resources(t, "AWS::Lambda::EventInvokeConfig").values()
                   if refers_to(c["Properties"].get("FunctionName"), name)]
        configs += [props["EventInvokeConfig"]] if "EventInvokeConfig" in props else []
        if not any(any(is_arn_of(c.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"), q)
                       for q in queues) and isinstance(c.get("MaximumRetryAttempts"), int) for c in configs):
            problems.append(f"{name}: its failures (after Lambda's retries) must go to the dead-letter queue "
                            "(an EventInvokeConfig with MaximumRetryAttempts and OnFailure to the queue)")
    return problems


def check_lifecycle(t):
    """The hook's verdicts under results/ expire with the uploads they describe: the same status
    and days as the uploads/ rule, which is on with UploadExpiryDays."""
    problems = []
    days = str(t["Values"].get("UploadExpiryDays", "0"))
    if str(t["Parameters"].get("UploadExpiryDays", {}).get("Default", 0)) == "0":
        problems.append("UploadExpiryDays: by default uploads must expire (an endpoint anyone may use "
                        "should not keep every upload for ever)")
    for name, bucket in resources(t, "AWS::S3::Bucket").items():
        rules = bucket["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
        by_prefix = {r.get("Prefix", r.get("Filter", {}).get("Prefix")): r for r in rules}
        uploads, results = by_prefix.get("uploads/"), by_prefix.get("results/")
        if uploads is None or results is None:
            problems.append(f"{name}: needs expiry rules for uploads/ and results/")
            continue
        if days != "0" and (uploads.get("Status"), uploads.get("ExpirationInDays")) != \
                ("Enabled", {"Ref": "UploadExpiryDays"}):
            problems.append(f"{name}: UploadExpiryDays={days} must expire uploads/ after that many days")
        if (results.get("Status"), results.get("ExpirationInDays")) != \
                (uploads.get("Status"), uploads.get("ExpirationInDays")):
            problems.append(f"{name}: results/ must expire as uploads/ does, not {json.dumps(results)}")
    return problems


def check_rate_limit(t):
    """Behind the per-client limit (a web ACL on the distribution) the distribution answers IPv4
    only: WAF counts each IPv6 address apart, and one client holds a /64 of them."""
    problems = []
    for name, distribution in resources(t, "AWS::CloudFront::Distribution").items():
        config = distribution["Properties"]["DistributionConfig"]
        if config.get("WebACLId") not in (None, {"Ref": "AWS::NoValue"}) and config.get("IPV6Enabled") is not False:
            problems.append(f"{name}: with a per-client limit, IPv6 lets one client rotate addresses past it")
    return problems


CHECKS = [check_rate_limit, check_signer_role, check_public_access, check_page_distribution, check_framing,
          check_cors_in_one_place, check_origin_secret, check_token_secret, check_routes, check_sign_in, check_alarms,
          check_after_upload, check_hook, check_lifecycle]


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


def remove_key(name):
    """A mutation that removes `name` from the node at the path."""
    return lambda node, key: node[key].pop(name)


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
    rule = ["Resources", "UploadStoredRule", "Properties"]
    target = rule + ["Targets", 0]
    permission = ["Resources", "HookInvokePermission", "Properties"]
    queue_statement = ["Resources", "HookDeadLetterQueuePolicy", "Properties", "PolicyDocument", "Statement", 0]
    hook_statement = lambda n: ["Resources", "HookRole", "Properties", "Policies", 0,  # noqa: E731
                                "PolicyDocument", "Statement", n]
    hook_variables = ["Resources", "Hook", "Properties", "Environment", "Variables"]
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
        "the token secret resolved into the configuration": mutate(
            mutate(template, variables, remove_key("UPLOAD_TOKEN_SECRET_ARN")), variables + ["UPLOAD_TOKEN_SECRET"],
            {"Fn::Sub": "{{resolve:secretsmanager:${TokenSecret}:SecretString}}"}),
        "no token secret": mutate(template, variables + ["UPLOAD_TOKEN_SECRET_ARN"], remove),
        "token secret ARN a literal": mutate(template, variables + ["UPLOAD_TOKEN_SECRET_ARN"],
                                             "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other"),
        "role cannot read the token secret": mutate(
            template, ["Resources", "SignerRole", "Properties", "Policies"], lambda node, key: node[key].pop(1)),
        "role may read every secret": mutate(
            template, ["Resources", "SignerRole", "Properties", "Policies", 1, "PolicyDocument", "Statement", 0,
                       "Resource"], "*"),
        "role may change the token secret": mutate(
            template, ["Resources", "SignerRole", "Properties", "Policies", 1, "PolicyDocument", "Statement", 0,
                       "Action"], ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"]),
        "IPv6 behind the per-client limit": mutate(template, distribution + ["IPV6Enabled"], True),
        "rules cached for everyone alike": mutate(
            template, ["Resources", "RulesCachePolicy", "Properties", "CachePolicyConfig",
                       "ParametersInCacheKeyAndForwardedToOrigin", "HeadersConfig"], {"HeaderBehavior": "none"}),
        "rules not cached": mutate(template, distribution + ["CacheBehaviors"], lambda node, key: node[key].pop(0)),
        "rules cached a day": mutate(
            template, ["Resources", "RulesCachePolicy", "Properties", "CachePolicyConfig", "MaxTTL"], 86400),
        "uploads kept for ever by default": mutate(template, ["Parameters", "UploadExpiryDays", "Default"], 0),
        "the API bypasses CloudFront": mutate(template, distribution + ["Origins", 1], remove_key("OriginCustomHeaders")),
        "the signer requires no origin secret": mutate(template, variables + ["ORIGIN_SECRET"], remove),
        "an origin secret the distribution does not add": mutate(
            template, distribution + ["Origins", 1, "OriginCustomHeaders", 0, "HeaderValue"], "not-the-stack-id-0000"),
        "a literal origin secret both sides": mutate(
            mutate(template, distribution + ["Origins", 1, "OriginCustomHeaders", 0, "HeaderValue"], "literal-secret-00000"),
            variables + ["ORIGIN_SECRET"], {"Fn::If": ["CloudFront", "literal-secret-00000", {"Ref": "AWS::NoValue"}]}),
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
        "framing allowed": mutate(template, csp + [7, "Fn::If", 2], "*"),
        "no nosniff": mutate(template, headers + ["ContentTypeOptions"], remove),
        "the signer cached at the edge": mutate(template, distribution + ["CacheBehaviors", 1, "CachePolicyId"],
                                                "658327ea-f89d-4fab-a63d-7e88639e58f6"),
        "the signer without Origin and Authorization": mutate(
            template, distribution + ["CacheBehaviors", 1, "OriginRequestPolicyId"], remove),
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
        # Embedding the page.
        "framing allowed to the page's own origin only by X-Frame-Options": mutate(
            template, headers + ["FrameOptions", "Fn::If", 2, "FrameOption"], "SAMEORIGIN"),
        "no X-Frame-Options": mutate(template, headers + ["FrameOptions"], remove),
        "X-Frame-Options DENY kept with EmbedOrigins": mutate(
            template, headers + ["FrameOptions"], {"FrameOption": "DENY", "Override": True}),
        "EmbedOrigins ignored": mutate(template, csp + [7, "Fn::If", 1], "'none'"),
        "any https site may frame the page with EmbedOrigins": mutate(template, csp + [7, "Fn::If", 1], "https:"),
        "EmbedOrigins and the page's own origin": mutate(
            template, csp + [7, "Fn::If", 1], {"Fn::Join": [" ", ["'self'", {"Fn::Join": [" ", {"Ref": "EmbedOrigins"}]}]]}),
        "EmbedOrigins loosen another directive": mutate(
            template, csp + [1], {"Fn::If": ["HasEmbedOrigins", "style-src 'self' 'unsafe-inline'; img-src *; ",
                                             "style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; "]}),
        "EmbedOrigins drop another header": mutate(
            template, headers + ["ReferrerPolicy"], {"Fn::If": ["HasEmbedOrigins", {"Ref": "AWS::NoValue"},
                                                                {"ReferrerPolicy": "no-referrer", "Override": True}]}),
        "EmbedOrigins taken unchecked into the CSP": mutate(
            template, ["Parameters", "EmbedOrigins", "AllowedPattern"], remove),
        "EmbedOrigins taking any text": mutate(
            template, ["Parameters", "EmbedOrigins", "AllowedPattern"], "^(|https://[^,]+)$"),
        # After-upload events.
        "no EventBridge notifications": mutate(template, bucket + ["NotificationConfiguration"], remove),
        "the rule for every bucket": mutate(template, rule + ["EventPattern", "detail"], remove_key("bucket")),
        "the rule for another bucket": mutate(template, rule + ["EventPattern", "detail", "bucket", "name"],
                                              ["someone-elses-bucket"]),
        "the rule for page/ and results/ too": mutate(template, rule + ["EventPattern", "detail", "object", "key"],
                                                      [{"prefix": ""}]),
        "the rule for deletions too": mutate(template, rule + ["EventPattern", "detail-type"],
                                             ["Object Created", "Object Deleted"]),
        "the rule for multipart completes only": mutate(template, rule + ["EventPattern", "detail"],
                                                        lambda node, key: node[key].update(reason=["CompleteMultipartUpload"])),
        "the rule disabled": mutate(template, rule + ["State"], "DISABLED"),
        "two rules for stored objects": mutate(template, ["Resources"], lambda node, key: node[key].update(
            SecondRule=copy.deepcopy(node[key]["UploadStoredRule"]))),
        "the signer as the target": mutate(template, target + ["Arn", "Fn::If", 1], {"Fn::GetAtt": ["Signer", "Arn"]}),
        "HookFunctionArn ignored": mutate(template, target + ["Arn"], {"Fn::GetAtt": ["Hook", "Arn"]}),
        "a second target": mutate(template, rule + ["Targets"], lambda node, key: node[key].append(
            {"Id": "more", "Arn": {"Fn::GetAtt": ["Signer", "Arn"]}})),
        "no retry policy": mutate(template, target + ["RetryPolicy"], remove),
        "no dead-letter queue on the target": mutate(template, target + ["DeadLetterConfig"], remove),
        "EventBridge may invoke the hook for any rule": mutate(template, permission + ["SourceArn"], remove),
        "EventBridge may invoke the hook for another rule": mutate(
            template, permission + ["SourceArn"], "arn:aws:events:eu-west-1:123456789012:rule/other"),
        "no permission for EventBridge": mutate(template, ["Resources"], lambda node, key: node[key].pop("HookInvokePermission")),
        "the permission for the signer": mutate(template, permission + ["FunctionName", "Fn::If", 1], {"Ref": "Signer"}),
        "the permission not for HookFunctionArn": mutate(template, permission + ["FunctionName", "Fn::If", 2],
                                                         "arn:aws:lambda:us-east-1:123456789012:function:another"),
        "the queue takes messages from any rule": mutate(template, queue_statement + ["Condition"], remove),
        "the queue takes messages from anyone": mutate(template, queue_statement + ["Principal"], "*"),
        "the queue may be read by EventBridge": mutate(template, queue_statement + ["Action"],
                                                       ["sqs:SendMessage", "sqs:ReceiveMessage"]),
        "no queue policy": mutate(template, ["Resources"], lambda node, key: node[key].pop("HookDeadLetterQueuePolicy")),
        "the queue unencrypted": mutate(template, ["Resources", "HookDeadLetterQueue", "Properties", "SqsManagedSseEnabled"],
                                        remove),
        "the queue keeps messages 4 days": mutate(template, ["Resources", "HookDeadLetterQueue", "Properties",
                                                             "MessageRetentionPeriod"], remove),
        "no alarm on the dead-letter queue": mutate(template, ["Resources"], lambda node, key: node[key].pop("HookDeadLetterAlarm")),
        "the dead-letter alarm at the fifth message": mutate(
            template, ["Resources", "HookDeadLetterAlarm", "Properties", "Threshold"], 4),
        "the dead-letter alarm telling no one": mutate(
            template, ["Resources", "HookDeadLetterAlarm", "Properties", "AlarmActions"], remove),
        "no HookDeadLetterQueueUrl output": mutate(template, ["Outputs"], lambda node, key: node[key].pop("HookDeadLetterQueueUrl")),
        "no ResultsPrefix output": mutate(template, ["Outputs"], lambda node, key: node[key].pop("ResultsPrefix")),
        # The hook.
        "hook may delete uploads": mutate(template, hook_statement(0) + ["Action"],
                                          ["s3:GetObject", "s3:PutObjectTagging", "s3:DeleteObject"]),
        "hook may overwrite uploads": mutate(template, hook_statement(0) + ["Action"],
                                             ["s3:GetObject", "s3:PutObjectTagging", "s3:PutObject"]),
        "hook may do anything in S3": mutate(template, hook_statement(0) + ["Action"], "s3:*"),
        "hook may read the whole bucket": mutate(template, hook_statement(0) + ["Resource"],
                                                 {"Fn::Sub": "${UploadBucket.Arn}/*"}),
        "hook may write its results into uploads/": mutate(template, hook_statement(1) + ["Resource"],
                                                          {"Fn::Sub": "${UploadBucket.Arn}/uploads/*"}),
        "hook may send to any queue": mutate(template, hook_statement(2) + ["Resource"], "*"),
        "hook may not tag": mutate(template, hook_statement(0) + ["Action"], ["s3:GetObject"]),
        "hook may not send its failures": mutate(template, hook_statement(2), lambda node, key: node[key].update(
            Action="sqs:GetQueueUrl")),
        "hook role widened by NotAction": mutate(template, hook_statement(1), lambda node, key: node[key].update(
            NotAction="iam:*")),
        "hook role shared with the signer": mutate(template, ["Resources", "Signer", "Properties", "Role"],
                                                   {"Fn::If": ["OwnHook", {"Fn::GetAtt": ["HookRole", "Arn"]},
                                                               {"Fn::GetAtt": ["SignerRole", "Arn"]}]}),
        "hook gets admin": mutate(template, ["Resources", "HookRole", "Properties", "ManagedPolicyArns"],
                                  [BASIC_EXECUTION, "arn:aws:iam::aws:policy/AdministratorAccess"]),
        "hook made although HookFunctionArn is set": mutate(template, ["Resources", "Hook"], remove_key("Condition")),
        "hook role made although HookFunctionArn is set": mutate(template, ["Resources", "HookRole"],
                                                                 remove_key("Condition")),
        "hook failures not sent to the queue": mutate(template, ["Resources"], lambda node, key: node[key].pop("HookAsyncConfig")),
        "hook failures sent elsewhere": mutate(
            template, ["Resources", "HookAsyncConfig", "Properties", "DestinationConfig", "OnFailure", "Destination"],
            "arn:aws:sqs:eu-west-1:123456789012:other"),
        "hook results under uploads/": mutate(template, hook_variables + ["RESULTS_PREFIX"], "uploads/results/"),
        "hook told another bucket": mutate(template, hook_variables + ["UPLOAD_BUCKET"], "other-bucket"),
        "hook holds the token secret": mutate(template, hook_variables + ["UPLOAD_TOKEN_SECRET_ARN"],
                                              copy.deepcopy(template["Resources"]["Signer"]["Properties"]
                                                            ["Environment"]["Variables"]["UPLOAD_TOKEN_SECRET_ARN"])),
        "hook with a Function URL": mutate(template, ["Resources", "Hook", "Properties", "FunctionUrlConfig"],
                                           {"AuthType": "NONE"}),
        "hook started by S3 too": mutate(template, ["Resources", "Hook", "Properties", "Events"], {"Stored": {
            "Type": "S3", "Properties": {"Bucket": {"Ref": "UploadBucket"}, "Events": "s3:ObjectCreated:*"}}}),
        "hook with SAM policies": mutate(template, ["Resources", "Hook", "Properties", "Policies"], ["AmazonS3FullAccess"]),
        "a third function": mutate(template, ["Resources"], lambda node, key: node[key].update(
            Other={"Type": "AWS::Serverless::Function", "Properties": {
                "CodeUri": "../target/lambda/other/bootstrap.zip", "Handler": "bootstrap", "Runtime": "provided.al2023",
                "Architectures": ["arm64"], "Role": {"Fn::GetAtt": ["HookRole", "Arn"]}}})),
        "no alarm on the hook's errors": mutate(template, ["Resources"], lambda node, key: node[key].pop("HookErrorsAlarm")),
        "no HookFunctionName output": mutate(template, ["Outputs"], lambda node, key: node[key].pop("HookFunctionName")),
        "results kept when uploads expire": mutate(template, bucket + ["LifecycleConfiguration", "Rules", 2, "Status"],
                                                   "Disabled"),
        "no expiry rule for results/": mutate(template, bucket + ["LifecycleConfiguration", "Rules"],
                                              lambda node, key: node[key].pop(2)),
        "uploads never expire": mutate(template, bucket + ["LifecycleConfiguration", "Rules", 1, "Status"], "Disabled"),
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
