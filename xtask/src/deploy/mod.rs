//! The AWS side: `package` (offline: the arm64 Lambda zips and the release page), `deploy` (SAM
//! stack, then the page copied to `s3://<bucket>/page/` with its config.json), `teardown`, and
//! the offline checks CI runs (cfn-lint, least privilege, the signer under a Lambda runtime
//! emulator). What can be decided without AWS (arguments, names, parameter combinations, how each
//! page file is uploaded, the account's Block Public Access answer, the teardown's batches) is in
//! plain functions tested below; the functions that call `aws` and `sam` stay thin.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::{root, run, tools};

mod aws;
mod offline;
mod page;
mod teardown;

use aws::*;
pub(crate) use offline::free_port;
pub use offline::offline_checks;
use offline::*;
use page::*;
pub use teardown::teardown;

/// Goal for each Lambda zip.
const ZIP_GOAL_BYTES: u64 = 3 * 1000 * 1000;
/// The crates built for Lambda: the signer, and the after-upload hook. The hook is built even
/// when a deploy names its own HookFunctionArn, because SAM packages every function's CodeUri
/// whatever the template's conditions.
const LAMBDAS: &[&str] = &["signer", "hook"];
const TEMPLATE: &str = "deploy/template.yaml";
/// The template's parameters, the only keys `-- Key=Value` may set (a test keeps this list and
/// the template in step).
const PARAMETERS: &[&str] = &[
    "UseCloudFront",
    "DomainName",
    "CertificateArn",
    "ExtraAllowedOrigins",
    "MaxUploadBytes",
    "AllowedContentTypes",
    "PolicyTtlSeconds",
    "RequireMd5",
    "AllowEmptyFiles",
    "MultipartThresholdBytes",
    "UploadExpiryDays",
    "ThrottlingRateLimit",
    "ThrottlingBurstLimit",
    "WebAclArn",
    "AuthIssuer",
    "AuthAudience",
    "AuthTokenOrigin",
    "AlarmEmail",
    "HookFunctionArn",
    "EmbedOrigins",
];
/// WAF's smallest rate-based limit.
const WAF_MIN_RATE_LIMIT: u64 = 10;
/// The per-client limit's web ACL (`RateLimitPerFiveMinutes=N`, an option of the deploy, not of
/// the template): its own stack, in us-east-1 whatever the uploader's region, since CloudFront
/// takes web ACLs from there only.
const RATE_LIMIT_TEMPLATE: &str = "deploy/rate-limit.yaml";
const RATE_LIMIT_REGION: &str = "us-east-1";
/// The per-client limit when none is given (rate-limit.yaml's default, said again here so the
/// deploy can report it).
const DEFAULT_RATE_LIMIT: u64 = 6000;

/// The per-client limit's stack for the uploader stack `stack`.
fn rate_limit_stack(stack: &str) -> String {
    format!("{stack}-rate-limit")
}

/// Where `cargo lambda build --output-format zip` puts a crate's zip (the template's CodeUri).
fn lambda_zip(krate: &str) -> PathBuf {
    root()
        .join("target")
        .join("lambda")
        .join(krate)
        .join("bootstrap.zip")
}

/// The signer and the hook for Lambda (arm64, release, zipped) and the page for release; prints
/// their sizes.
pub fn package() -> Result<(), String> {
    tools::ensure_cargo_lambda()?;
    // trunk, wasm-bindgen and wasm-opt: `deploy` from a fresh clone builds the page too.
    tools::ensure_page_tools()?;
    package_lambda()?;
    crate::build_page_and_report().map(drop)
}

/// `cargo xtask deploy --stack NAME --region REGION [-- KEY=VALUE...]` (SAM parameter overrides).
pub fn deploy(args: &[String]) -> Result<(), String> {
    let args = stack_args(args)?;
    if args.yes {
        return Err("--yes is for teardown".into());
    }
    let options = DeployOptions::parse(&args.region, &args.overrides)?;
    for tool in ["sam", "aws"] {
        if Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            return Err(format!(
                "`{tool}` is needed to deploy: pip install aws-sam-cli awscli, then configure credentials"
            ));
        }
    }
    if !options.cloudfront {
        check_account_allows_public_page(&args.region)?;
    }
    if let Some(function) = &options.hook_function {
        hook_in_account(function, caller_account()?.trim())?;
    }
    package()?;
    let dist = root().join("dist");
    move_page_scripts_out(&dist)?;
    let mut sam = Command::new("sam");
    sam.current_dir(root()).args([
        "deploy",
        "--template-file",
        TEMPLATE,
        "--stack-name",
        &args.stack,
        "--region",
        &args.region,
        "--capabilities",
        "CAPABILITY_IAM",
        "--resolve-s3",
        "--no-confirm-changeset",
        "--no-fail-on-empty-changeset",
    ]);
    let mut overrides: Vec<String> = args
        .overrides
        .iter()
        .filter(|o| !o.starts_with("RateLimitPerFiveMinutes="))
        .cloned()
        .collect();
    if options.rate_limit != 0 {
        overrides.push(format!(
            "WebAclArn={}",
            deploy_rate_limit(&args.stack, options.rate_limit)?
        ));
    }
    if !overrides.is_empty() {
        sam.arg("--parameter-overrides").args(&overrides);
    }
    run(sam)?;
    if options.rate_limit == 0 && options.cloudfront {
        // Off (or the deployer's own ACL): a limit made by an earlier deploy goes, now that the
        // distribution no longer uses it.
        delete_rate_limit(&args.stack)?;
    }
    let outputs = stack_outputs(&args.stack, &args.region)?;
    let output = |key: &str| {
        outputs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .ok_or(format!("the stack has no {key} output"))
    };
    let (bucket, signer_url, page_url) = (
        output("BucketName")?,
        output("SignerUrl")?,
        output("PageUrl")?,
    );
    // Behind CloudFront this is `https://<page's domain>/api`: the signer on the page's origin.
    // What a deployer set in the deployed config.json themselves (concurrency, checksums, ...)
    // stays: the deploy owns only the signer's URL and the embedding sites.
    let earlier = aws_text(&[
        "s3",
        "cp",
        &format!("s3://{bucket}/page/config.json"),
        "-",
        "--region",
        &args.region,
    ])
    .ok();
    std::fs::write(
        dist.join("config.json"),
        page_config(&signer_url, &options.embed_origins, earlier.as_deref()),
    )
    .map_err(|e| format!("config.json: {e}"))?;
    sync_page(&bucket, &args.region, options.cloudfront)?;
    println!("bucket: {bucket}\nsigner: {signer_url}\nthe uploader: {page_url}");
    match &options.hook_function {
        None => println!(
            "after each upload: the hook's verdict in {} (<key>.json, and an upload-verdict tag on the upload)",
            output("ResultsPrefix")?
        ),
        Some(function) => println!(
            "after each upload: {function} (its own retries and on-failure destination are yours to set)"
        ),
    }
    println!(
        "after-upload events not handled (kept 14 days; the alarm topic is told): {}",
        output("HookDeadLetterQueueUrl")?
    );
    if let Some(domain) = &options.domain {
        let target = output("DistributionDomainName")?;
        println!(
            "DNS: point {domain} at {target} (a CNAME, or an alias record in Route 53); the page is also at https://{target}/"
        );
    }
    Ok(())
}

/// The page's config.json: the signer's URL and, when sites may frame the page, their origins
/// (`embedOrigins`, the same list as the CSP's frame-ancestors), so the page knows which parent
/// may embed it; then every other setting of the `earlier` deployed file (a deployer's own
/// `concurrency`, `checksums`, ...), kept as it was. Every value is JSON-escaped by serde_json;
/// without EmbedOrigins or earlier settings the file is exactly what it was before there were any.
fn page_config(signer_url: &str, embed_origins: &[String], earlier: Option<&str>) -> String {
    let mut config = format!("{{\"signerUrl\": {}", serde_json::Value::from(signer_url));
    if !embed_origins.is_empty() {
        config.push_str(&format!(
            ", \"embedOrigins\": {}",
            serde_json::Value::from(embed_origins.to_vec())
        ));
    }
    let kept = earlier
        .and_then(|text| {
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text).ok()
        })
        .unwrap_or_default();
    for (name, value) in kept {
        if name != "signerUrl" && name != "embedOrigins" {
            config.push_str(&format!(", {}: {value}", serde_json::Value::from(name)));
        }
    }
    config.push_str("}\n");
    config
}

/// What the stack's parameters (as `-- Key=Value` overrides) decide for the deploy, checked
/// before anything is built or deployed, with the template's own defaults for what is not given.
#[derive(Debug, PartialEq)]
struct DeployOptions {
    /// The page (and the signer at /api) behind CloudFront; else the page from the bucket.
    cloudfront: bool,
    /// The page's custom domain (with its certificate).
    domain: Option<String>,
    /// The deployer's own after-upload function (HookFunctionArn); `None`: the stack's hook.
    hook_function: Option<String>,
    /// The sites that may frame the page (EmbedOrigins), which the page's config.json lists too.
    embed_origins: Vec<String>,
    /// Signer requests per client address in five minutes (the web ACL of `RATE_LIMIT_TEMPLATE`);
    /// 0: none made (off, or the deployer's own WebAclArn).
    rate_limit: u64,
}

impl DeployOptions {
    /// The combinations CloudFormation would refuse late (the template's Rules), or not at all,
    /// refused here with what to do instead.
    fn parse(region: &str, overrides: &[String]) -> Result<Self, String> {
        let mut given = std::collections::BTreeMap::new();
        for item in overrides {
            let (key, value) = item.split_once('=').ok_or(format!(
                "{item:?}: parameter overrides are Key=Value (e.g. MaxUploadBytes=104857600)"
            ))?;
            if !PARAMETERS.contains(&key) && key != "RateLimitPerFiveMinutes" {
                return Err(format!(
                    "{key}: not a parameter of {TEMPLATE}; it has {} (and the deploy takes RateLimitPerFiveMinutes)",
                    PARAMETERS.join(", ")
                ));
            }
            given.insert(key, value.trim());
        }
        let get = |key: &str| given.get(key).copied().unwrap_or_default();
        let cloudfront = match get("UseCloudFront") {
            "" | "true" => true,
            "false" => false,
            other => return Err(format!("UseCloudFront={other}: true or false")),
        };
        let (domain, certificate) = (get("DomainName"), get("CertificateArn"));
        match (domain.is_empty(), certificate.is_empty()) {
            (false, true) => {
                return Err(format!(
                    "DomainName={domain} needs CertificateArn=<an ACM certificate for it in us-east-1>"
                ));
            }
            (true, false) => {
                return Err("CertificateArn needs DomainName=<the page's domain>".into());
            }
            _ => {}
        }
        if !domain.is_empty() {
            if !cloudfront {
                return Err("DomainName is served by CloudFront: drop UseCloudFront=false".into());
            }
            if !certificate.starts_with("arn:aws") || !certificate.contains(":acm:us-east-1:") {
                return Err(format!(
                    "CertificateArn={certificate}: CloudFront takes ACM certificates from us-east-1 only (arn:aws:acm:us-east-1:...), whatever the stack's region"
                ));
            }
        }
        let web_acl = get("WebAclArn");
        if !web_acl.is_empty() {
            if !cloudfront {
                return Err("WebAclArn is attached to CloudFront: drop UseCloudFront=false".into());
            }
            if !web_acl.contains(":wafv2:us-east-1:") || !web_acl.contains(":global/webacl/") {
                return Err(format!(
                    "WebAclArn={web_acl}: a CLOUDFRONT-scope web ACL (arn:aws:wafv2:us-east-1:<account>:global/webacl/...)"
                ));
            }
        }
        // The per-client limit: on by default behind CloudFront (its own stack in us-east-1),
        // unless the deployer brings a web ACL or turns it off with 0.
        let rate = get("RateLimitPerFiveMinutes");
        let rate_limit: u64 = if rate.is_empty() {
            if cloudfront && web_acl.is_empty() {
                DEFAULT_RATE_LIMIT
            } else {
                0
            }
        } else {
            rate.parse()
                .map_err(|_| format!("RateLimitPerFiveMinutes={rate}: a whole number"))?
        };
        if rate_limit != 0 {
            if rate_limit < WAF_MIN_RATE_LIMIT {
                return Err(format!(
                    "RateLimitPerFiveMinutes={rate_limit}: WAF counts at least {WAF_MIN_RATE_LIMIT} (0 turns the limit off)"
                ));
            }
            if !cloudfront {
                return Err(
                    "RateLimitPerFiveMinutes is a WAF rule on CloudFront: drop UseCloudFront=false"
                        .into(),
                );
            }
            if !web_acl.is_empty() {
                return Err("RateLimitPerFiveMinutes or WebAclArn, not both".into());
            }
        }
        let (issuer, audience) = (get("AuthIssuer"), get("AuthAudience"));
        match (issuer.is_empty(), audience.is_empty()) {
            (false, true) => {
                return Err(
                    "AuthIssuer needs AuthAudience (with Cognito: the app client id)".into(),
                );
            }
            (true, false) => {
                return Err("AuthAudience needs AuthIssuer (with Cognito: https://cognito-idp.<region>.amazonaws.com/<user pool id>)".into());
            }
            _ => {}
        }
        if !issuer.is_empty() && !cloudfront {
            return Err("AuthIssuer needs CloudFront: drop UseCloudFront=false. API Gateway's authorizer answers an ended sign-in with a 401 without CORS headers, which only a page on the API's own origin can read".into());
        }
        if !issuer.is_empty() && (!issuer.starts_with("https://") || issuer.contains(',')) {
            return Err(format!("AuthIssuer={issuer}: the issuer's https:// URL"));
        }
        let token_origin = get("AuthTokenOrigin");
        if !token_origin.is_empty() {
            if issuer.is_empty() {
                return Err("AuthTokenOrigin goes with AuthIssuer".into());
            }
            if !is_https_origin(token_origin) {
                return Err(format!(
                    "AuthTokenOrigin={token_origin}: an https origin like https://example.auth.eu-west-1.amazoncognito.com (no path)"
                ));
            }
        }
        let email = get("AlarmEmail");
        if !email.is_empty()
            && (email.matches('@').count() != 1 || email.starts_with('@') || email.ends_with('@'))
        {
            return Err(format!("AlarmEmail={email}: one e-mail address"));
        }
        let hook = get("HookFunctionArn");
        if !hook.is_empty() {
            let Some(hook_region) = lambda_function_region(hook) else {
                return Err(format!(
                    "HookFunctionArn={hook}: a Lambda function's ARN, arn:aws:lambda:<region>:<account>:function:<name>[:<alias or version>]"
                ));
            };
            if hook_region != region {
                return Err(format!(
                    "HookFunctionArn={hook}: EventBridge invokes a function in the stack's own region ({region}), and this one is in {hook_region}"
                ));
            }
        }
        // Each value goes into the page's CSP (frame-ancestors) as it is, so it is checked as it
        // is: no trimming, an entry with a space is refused (as the template's pattern would).
        let embed_origins: Vec<String> = get("EmbedOrigins")
            .split(',')
            .filter(|origin| !origin.is_empty())
            .map(str::to_string)
            .collect();
        if let Some(origin) = embed_origins.iter().find(|origin| !is_https_origin(origin)) {
            return Err(format!(
                "EmbedOrigins: {origin:?} is not an https origin like https://shop.example.com (no path, no trailing slash, no space)"
            ));
        }
        Ok(DeployOptions {
            cloudfront,
            domain: (!domain.is_empty()).then(|| domain.to_string()),
            hook_function: (!hook.is_empty()).then(|| hook.to_string()),
            embed_origins,
            rate_limit,
        })
    }
}

/// `deploy` and `teardown`'s arguments.
#[derive(Debug)]
struct StackArgs {
    stack: String,
    region: String,
    /// Teardown without the question.
    yes: bool,
    /// SAM parameter overrides, `Key=Value`.
    overrides: Vec<String>,
}

fn stack_args(args: &[String]) -> Result<StackArgs, String> {
    let usage = "usage: cargo xtask deploy --stack NAME --region REGION [-- Param=Value...] | cargo xtask teardown --stack NAME --region REGION [--yes]";
    let (mut stack, mut region, mut yes, mut overrides) = (None, None, false, Vec::new());
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--stack" => stack = args.next().cloned(),
            "--region" => region = args.next().cloned(),
            "--yes" => yes = true,
            "--" => overrides.extend(args.by_ref().cloned()),
            other => return Err(format!("unknown argument {other}; {usage}")),
        }
    }
    let stack = stack.ok_or(usage)?;
    let region = region.ok_or(usage)?;
    check_names(&stack, &region, &overrides)?;
    Ok(StackArgs {
        stack,
        region,
        yes,
        overrides,
    })
}

/// The bucket is `<stack>-<account>-<region>` (unique across accounts and regions): it must be a
/// valid S3 bucket name, at most 63 characters with the 12-digit account id. And every extra
/// page origin must be an https URL origin. Checked before anything is deployed.
fn check_names(stack: &str, region: &str, overrides: &[String]) -> Result<(), String> {
    if stack.is_empty()
        || !stack
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        || !stack.as_bytes()[0].is_ascii_lowercase()
        || stack.ends_with('-')
    {
        return Err(
            "the stack name names the bucket: start with a lower-case letter, then lower-case letters, digits and hyphens".into(),
        );
    }
    let bucket = format!("{stack}-123456789012-{region}");
    if bucket.len() > 63 {
        return Err(format!(
            "the bucket would be {} characters ({stack}-<account>-{region}); S3 allows 63: use a stack name of at most {} characters",
            bucket.len(),
            63 - (bucket.len() - stack.len())
        ));
    }
    for value in overrides {
        if let Some(list) = value.strip_prefix("ExtraAllowedOrigins=") {
            for origin in list.split(',').filter(|o| !o.trim().is_empty()) {
                let origin = origin.trim();
                if !is_https_origin(origin) {
                    return Err(format!(
                        "ExtraAllowedOrigins: {origin:?} is not an https origin like https://example.com (no path, no trailing slash)"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Whether `origin` is an https origin as a browser sends it, `https://<host>[:<port>]`: no
/// path, no trailing slash, no space. The template's patterns for AuthTokenOrigin and each
/// EmbedOrigins value say the same, so what passes here is not refused by CloudFormation later.
fn is_https_origin(origin: &str) -> bool {
    let authority = origin.strip_prefix("https://").unwrap_or_default();
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        && port.is_none_or(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
}

/// The region of a Lambda function's ARN in the form the template's HookFunctionArn pattern
/// takes (`arn:<partition>:lambda:<region>:<12-digit account>:function:<name>[:<qualifier>]`),
/// or `None` for anything else.
fn lambda_function_region(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.split(':').collect();
    let [
        "arn",
        partition,
        "lambda",
        region,
        account,
        "function",
        name,
        qualifier @ ..,
    ] = parts.as_slice()
    else {
        return None;
    };
    let word = |text: &str, extra: &[u8]| {
        !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
    };
    let valid = partition
        .strip_prefix("aws")
        .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-'))
        && word(region, b"-")
        && region.bytes().all(|b| !b.is_ascii_uppercase())
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && word(name, b"_-")
        && match qualifier {
            [] => true,
            [qualifier] => word(qualifier, b"_$-"),
            _ => false,
        };
    valid.then_some(*region)
}

/// EventBridge may invoke only a function of the stack's own account here: the stack grants it
/// the right (a Lambda permission on the function), which another account's function cannot get
/// from this stack. Checked against the deploying credentials' account before anything is built.
fn hook_in_account(arn: &str, account: &str) -> Result<(), String> {
    match arn.split(':').nth(4) {
        Some(owner) if owner == account => Ok(()),
        owner => Err(format!(
            "HookFunctionArn={arn}: the function is in account {}, and the stack is deployed to {account}; EventBridge can only be let invoke a function of the stack's own account (deploy a function here, or leave HookFunctionArn empty for the stack's own hook)",
            owner.unwrap_or("?")
        )),
    }
}

#[cfg(test)]
mod name_tests {
    use super::aws::{public_page_allowed, rate_limit_deploy_args};
    use super::page::{
        PageUpload, inline_scripts_to_files, page_upload, stale_page_keys, upload_order,
    };
    use super::teardown::{confirmed, delete_batch, delete_errors, version_counts};
    use super::{
        DEFAULT_RATE_LIMIT, DeployOptions, PARAMETERS, check_names, hook_in_account,
        is_https_origin, lambda_function_region, page_config, stack_args,
    };

    #[test]
    fn bucket_names_fit_and_origins_are_origins() {
        assert!(check_names("my-uploader", "eu-west-1", &[]).is_ok());
        let err = check_names(&"a".repeat(40), "ap-southeast-2", &[]).unwrap_err();
        assert!(err.contains("at most 35 characters"), "{err}");
        for bad in ["My-Uploader", "", "-x", "x-", "1abc", "a_b"] {
            assert!(check_names(bad, "eu-west-1", &[]).is_err(), "{bad}");
        }
        let ok =
            ["ExtraAllowedOrigins=https://example.com,https://app.example.com:8443".to_string()];
        assert!(check_names("s", "eu-west-1", &ok).is_ok());
        for bad in [
            "http://example.com",
            "https://example.com/",
            "https://example.com/path",
            "example.com",
            "https://",
        ] {
            let overrides = [format!("ExtraAllowedOrigins={bad}")];
            assert!(check_names("s", "eu-west-1", &overrides).is_err(), "{bad}");
        }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments_take_yes_and_overrides() {
        let args = stack_args(&strings(&[
            "--stack",
            "up",
            "--region",
            "eu-west-1",
            "--yes",
        ]))
        .unwrap();
        assert_eq!(
            (args.stack.as_str(), args.region.as_str(), args.yes),
            ("up", "eu-west-1", true)
        );
        let args = stack_args(&strings(&[
            "--stack",
            "up",
            "--region",
            "eu-west-1",
            "--",
            "UseCloudFront=false",
            "MaxUploadBytes=1",
        ]))
        .unwrap();
        assert!(!args.yes);
        assert_eq!(
            args.overrides,
            strings(&["UseCloudFront=false", "MaxUploadBytes=1"])
        );
        for bad in [
            &["--stack", "up"][..],
            &["--region", "x"],
            &["--stack", "up", "--region", "x", "--force"],
        ] {
            assert!(stack_args(&strings(bad)).is_err(), "{bad:?}");
        }
    }

    /// One `DeployOptions::parse` case: `Ok(cloudfront, domain)` or a part of the error (the
    /// after-upload and embedding options are `hook_and_embedding_are_checked_before_deploying`'s).
    fn check(region: &str, overrides: &[&str], expected: Result<(bool, Option<&str>), &str>) {
        let got = DeployOptions::parse(region, &strings(overrides));
        match (got, expected) {
            (Ok(options), Ok((cloudfront, domain))) => assert_eq!(
                (options.cloudfront, options.domain),
                (cloudfront, domain.map(str::to_string)),
                "{overrides:?}"
            ),
            (Err(error), Err(part)) => assert!(error.contains(part), "{overrides:?}: {error}"),
            (got, expected) => panic!("{overrides:?}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn the_per_client_limit_is_on_by_default_behind_cloudfront() {
        let rate = |overrides: &[&str]| {
            DeployOptions::parse("eu-west-1", &strings(overrides))
                .unwrap()
                .rate_limit
        };
        assert_eq!(rate(&[]), DEFAULT_RATE_LIMIT);
        assert_eq!(rate(&["RateLimitPerFiveMinutes=300"]), 300);
        assert_eq!(rate(&["RateLimitPerFiveMinutes=0"]), 0);
        assert_eq!(rate(&["UseCloudFront=false"]), 0);
        assert_eq!(
            rate(&["WebAclArn=arn:aws:wafv2:us-east-1:123456789012:global/webacl/limit/abc"]),
            0
        );
        // rate-limit.yaml's default is the same number.
        let template = include_str!("../../../deploy/rate-limit.yaml");
        assert!(template.contains(&format!("Default: {DEFAULT_RATE_LIMIT}\n")));
        assert_eq!(
            rate_limit_deploy_args("up-rate-limit", 300)[..9].join(" "),
            "cloudformation deploy --template-file deploy/rate-limit.yaml --stack-name up-rate-limit --region us-east-1 --no-fail-on-empty-changeset"
        );
        assert_eq!(
            rate_limit_deploy_args("up-rate-limit", 300).last().unwrap(),
            "RateLimitPerFiveMinutes=300"
        );
    }

    #[test]
    fn parameter_combinations_are_checked_before_deploying() {
        let cert = "CertificateArn=arn:aws:acm:us-east-1:123456789012:certificate/abc-123";
        let acl = "WebAclArn=arn:aws:wafv2:us-east-1:123456789012:global/webacl/limit/abc";
        check("eu-west-1", &[], Ok((true, None)));
        check("eu-west-1", &["UseCloudFront=false"], Ok((false, None)));
        check("eu-west-1", &["UseCloudFront=yes"], Err("true or false"));
        check("eu-west-1", &["NoSuchParameter=1"], Err("not a parameter"));
        check("eu-west-1", &["MaxUploadBytes"], Err("Key=Value"));
        // The custom domain: both or neither, a us-east-1 certificate, with CloudFront.
        check(
            "eu-west-1",
            &["DomainName=up.example.com", cert],
            Ok((true, Some("up.example.com"))),
        );
        check(
            "eu-west-1",
            &["DomainName=up.example.com"],
            Err("needs CertificateArn"),
        );
        check("eu-west-1", &[cert], Err("needs DomainName"));
        check(
            "eu-west-1",
            &[
                "DomainName=up.example.com",
                "CertificateArn=arn:aws:acm:eu-west-1:123456789012:certificate/abc",
            ],
            Err("us-east-1 only"),
        );
        check(
            "eu-west-1",
            &["DomainName=up.example.com", cert, "UseCloudFront=false"],
            Err("drop UseCloudFront=false"),
        );
        // The per-client rate limit: WAF's minimum, not with an existing ACL.
        check(
            "us-east-1",
            &["RateLimitPerFiveMinutes=300"],
            Ok((true, None)),
        );
        check(
            "us-east-1",
            &["RateLimitPerFiveMinutes=0"],
            Ok((true, None)),
        );
        check(
            "us-east-1",
            &["RateLimitPerFiveMinutes=5"],
            Err("at least 10"),
        );
        check(
            "us-east-1",
            &["RateLimitPerFiveMinutes=lots"],
            Err("whole number"),
        );
        // In any region: the web ACL is its own stack in us-east-1.
        check(
            "eu-west-1",
            &["RateLimitPerFiveMinutes=300"],
            Ok((true, None)),
        );
        check(
            "us-east-1",
            &["RateLimitPerFiveMinutes=300", acl],
            Err("not both"),
        );
        check(
            "us-east-1",
            &["RateLimitPerFiveMinutes=300", "UseCloudFront=false"],
            Err("drop UseCloudFront=false"),
        );
        check("eu-west-1", &[acl], Ok((true, None)));
        check(
            "eu-west-1",
            &[acl, "UseCloudFront=false"],
            Err("drop UseCloudFront=false"),
        );
        check(
            "eu-west-1",
            &["WebAclArn=arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/y"],
            Err("CLOUDFRONT-scope"),
        );
        // Signing in: only behind CloudFront (the authorizer's 401 is readable there alone).
        check(
            "eu-west-1",
            &[
                "AuthIssuer=https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc",
                "AuthAudience=client",
                "UseCloudFront=false",
            ],
            Err("AuthIssuer needs CloudFront"),
        );
        // Signing in: issuer and audience together.
        let issuer = "AuthIssuer=https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc";
        check(
            "eu-west-1",
            &[issuer, "AuthAudience=client"],
            Ok((true, None)),
        );
        check("eu-west-1", &[issuer], Err("needs AuthAudience"));
        check(
            "eu-west-1",
            &["AuthAudience=client"],
            Err("needs AuthIssuer"),
        );
        check(
            "eu-west-1",
            &["AuthIssuer=http://issuer.example", "AuthAudience=c"],
            Err("https://"),
        );
        check(
            "eu-west-1",
            &["AlarmEmail=ops@example.com"],
            Ok((true, None)),
        );
        check("eu-west-1", &["AlarmEmail=ops"], Err("e-mail"));
    }

    #[test]
    fn hook_and_embedding_are_checked_before_deploying() {
        let parse =
            |region: &str, overrides: &[&str]| DeployOptions::parse(region, &strings(overrides));
        let options = parse("eu-west-1", &[]).unwrap();
        assert_eq!(
            (options.hook_function, options.embed_origins),
            (None, vec![])
        );
        // HookFunctionArn: a Lambda function (an alias or version allowed) in the stack's region.
        for arn in [
            "arn:aws:lambda:eu-west-1:123456789012:function:after-upload",
            "arn:aws:lambda:eu-west-1:123456789012:function:after_upload:live",
            "arn:aws:lambda:eu-west-1:123456789012:function:after-upload:$LATEST",
        ] {
            let options = parse("eu-west-1", &[&format!("HookFunctionArn={arn}")]).unwrap();
            assert_eq!(options.hook_function.as_deref(), Some(arn));
        }
        for bad in [
            "after-upload",
            "arn:aws:lambda:eu-west-1:123456789012:after-upload",
            "arn:aws:lambda:eu-west-1:1234:function:after-upload",
            "arn:aws:sqs:eu-west-1:123456789012:function:after-upload",
            "arn:aws:lambda:eu-west-1:123456789012:function:",
            "arn:aws:lambda:eu-west-1:123456789012:function:a b",
            "arn:aws:lambda:eu-west-1:123456789012:function:a:b:c",
            "arn:aws:lambda:EU-WEST-1:123456789012:function:a",
            "arn:aws:lambda:eu-west-1:123456789012:layer:a:1",
        ] {
            let err = parse("eu-west-1", &[&format!("HookFunctionArn={bad}")]).unwrap_err();
            assert!(err.contains("a Lambda function's ARN"), "{bad}: {err}");
        }
        let err = parse(
            "eu-west-1",
            &["HookFunctionArn=arn:aws:lambda:us-east-1:123456789012:function:a"],
        )
        .unwrap_err();
        assert!(err.contains("stack's own region (eu-west-1)"), "{err}");
        assert_eq!(
            lambda_function_region("arn:aws-cn:lambda:cn-north-1:123456789012:function:a"),
            Some("cn-north-1")
        );
        assert!(
            hook_in_account(
                "arn:aws:lambda:eu-west-1:123456789012:function:a",
                "123456789012"
            )
            .is_ok()
        );
        let err = hook_in_account(
            "arn:aws:lambda:eu-west-1:210987654321:function:a",
            "123456789012",
        )
        .unwrap_err();
        assert!(err.contains("account 210987654321"), "{err}");
        // EmbedOrigins: https origins, taken as given (each one goes into the CSP).
        let options = parse(
            "eu-west-1",
            &["EmbedOrigins=https://shop.example.com,https://partner.example:8443"],
        )
        .unwrap();
        assert_eq!(
            options.embed_origins,
            strings(&["https://shop.example.com", "https://partner.example:8443"])
        );
        for bad in [
            "http://shop.example.com",
            "https://shop.example.com/",
            "https://shop.example.com; script-src *",
            "https://shop.example.com, https://partner.example",
            "https://*.example.com",
            "https://shop.example.com:",
            "https://shop.example.com:84a3",
            "*",
            "'self'",
        ] {
            let err = parse("eu-west-1", &[&format!("EmbedOrigins={bad}")]).unwrap_err();
            assert!(
                err.contains("EmbedOrigins") && err.contains("https origin"),
                "{bad}: {err}"
            );
        }
        assert!(is_https_origin("https://a.example:443"));
        assert!(!is_https_origin("https://"));
    }

    #[test]
    fn config_json_names_the_signer_and_the_embedding_sites() {
        // Without EmbedOrigins, the file of before.
        assert_eq!(
            page_config("https://d111.cloudfront.net/api", &[], None),
            "{\"signerUrl\": \"https://d111.cloudfront.net/api\"}\n"
        );
        let config = page_config(
            "https://d111.cloudfront.net/api",
            &strings(&["https://shop.example.com", "https://partner.example:8443"]),
            None,
        );
        assert!(config.ends_with("}\n"), "{config}");
        let config: serde_json::Value = serde_json::from_str(&config).unwrap();
        assert_eq!(
            config,
            serde_json::json!({"signerUrl": "https://d111.cloudfront.net/api",
                "embedOrigins": ["https://shop.example.com", "https://partner.example:8443"]})
        );
        // Escaped: a quote or a backslash stays inside its string.
        let odd = page_config("https://x/\"a\\", &strings(&["https://b\"\u{2028}"]), None);
        let odd: serde_json::Value = serde_json::from_str(&odd).unwrap();
        assert_eq!(odd["signerUrl"], "https://x/\"a\\");
        assert_eq!(odd["embedOrigins"][0], "https://b\"\u{2028}");
    }

    #[test]
    fn a_redeploy_keeps_the_deployers_own_page_settings() {
        let earlier = r#"{"signerUrl": "https://old/api", "embedOrigins": ["https://gone.example"],
            "concurrency": 2, "checksums": false, "auth": {"issuer": "https://id.example"}}"#;
        let config = page_config("https://new/api", &[], Some(earlier));
        let config: serde_json::Value = serde_json::from_str(&config).unwrap();
        // The deploy's own: the new signer, and no embedding sites now; the rest as it was.
        assert_eq!(
            config,
            serde_json::json!({"signerUrl": "https://new/api", "concurrency": 2,
                "checksums": false, "auth": {"issuer": "https://id.example"}})
        );
        // A first deploy (nothing there) or a file that is not a JSON object: the deploy's alone.
        for earlier in [None, Some("not json"), Some("[1]")] {
            assert_eq!(
                page_config("https://new/api", &[], earlier),
                "{\"signerUrl\": \"https://new/api\"}\n"
            );
        }
    }

    #[test]
    fn every_parameter_is_the_templates() {
        let template = include_str!("../../../deploy/template.yaml");
        let (parameters, _) = template
            .split_once("\nParameters:\n")
            .and_then(|(_, rest)| rest.split_once("\nRules:\n"))
            .unwrap();
        let declared: Vec<&str> = parameters
            .lines()
            .filter_map(|line| line.strip_prefix("  ")?.strip_suffix(':'))
            .filter(|name| !name.starts_with(' '))
            .collect();
        assert_eq!(declared, PARAMETERS);
    }

    #[test]
    fn a_public_page_needs_the_account_to_allow_public_policies() {
        assert!(public_page_allowed("False\tFalse\n").is_ok());
        let err = public_page_allowed("True\tFalse\n").unwrap_err();
        assert!(
            err.contains("BlockPublicPolicy on") && err.contains("CloudFront"),
            "{err}"
        );
        let err = public_page_allowed("False\tTrue\n").unwrap_err();
        assert!(err.contains("RestrictPublicBuckets on"), "{err}");
        let err = public_page_allowed("True\tTrue\n").unwrap_err();
        assert!(
            err.contains("BlockPublicPolicy and RestrictPublicBuckets"),
            "{err}"
        );
    }

    #[test]
    fn page_files_are_compressed_only_without_cloudfront() {
        let immutable = "public, max-age=31536000, immutable";
        assert_eq!(
            page_upload("frontend-1a2b_bg.wasm", false),
            PageUpload {
                content_type: "application/wasm",
                cache_control: immutable,
                gzip: true
            }
        );
        assert_eq!(
            page_upload("frontend-1a2b_bg.wasm", true),
            PageUpload {
                content_type: "application/wasm",
                cache_control: immutable,
                gzip: false
            }
        );
        assert_eq!(
            page_upload("index.html", false),
            PageUpload {
                content_type: "text/html; charset=utf-8",
                cache_control: "no-cache",
                gzip: true
            }
        );
        assert_eq!(
            page_upload("config.json", false),
            PageUpload {
                content_type: "application/json",
                cache_control: "no-cache",
                gzip: false
            }
        );
        for name in ["boot-00ff.js", "style-9.css"] {
            assert!(
                page_upload(name, false).gzip && !page_upload(name, true).gzip,
                "{name}"
            );
        }
        assert!(!page_upload("logo.png", false).gzip);
        let mut names = strings(&["index.html", "a.js", "config.json", "b.wasm"]);
        upload_order(&mut names);
        assert_eq!(
            names,
            strings(&["a.js", "b.wasm", "config.json", "index.html"])
        );
    }

    #[test]
    fn stale_page_files_are_the_ones_the_build_no_longer_has() {
        let names = strings(&["index.html", "frontend-new.js"]);
        let listing =
            "page/index.html\tpage/frontend-old.js\tpage/frontend-new.js\npage/boot-1.js\n";
        assert_eq!(
            stale_page_keys(listing, &names),
            strings(&["page/frontend-old.js", "page/boot-1.js"])
        );
        assert!(stale_page_keys("None\n", &names).is_empty());
    }

    #[test]
    fn the_inline_bootstrap_becomes_a_file() {
        let html = "<head><link rel=\"modulepreload\" href=\"./f.js\"></head><body>\
                    <script type=\"module\">\nimport init from './f.js';\nawait init();\n</script>\
                    <script src=\"./other.js\"></script></body>";
        let (page, files) = inline_scripts_to_files(html);
        assert_eq!(files.len(), 1);
        let (name, script) = &files[0];
        assert!(name.starts_with("boot-") && name.ends_with(".js"), "{name}");
        assert_eq!(script, "\nimport init from './f.js';\nawait init();\n");
        assert_eq!(
            page,
            format!(
                "<head><link rel=\"modulepreload\" href=\"./f.js\"></head><body>\
                 <script type=\"module\" src=\"./{name}\"></script>\
                 <script src=\"./other.js\"></script></body>"
            )
        );
        // The same script, the same name; another script, another name; nothing inline, no change.
        assert_eq!(inline_scripts_to_files(html).1[0].0, *name);
        assert_ne!(
            inline_scripts_to_files(&html.replace("init()", "init(1)")).1[0].0,
            *name
        );
        let plain = "<body><script src=\"./a.js\"></script></body>";
        assert_eq!(inline_scripts_to_files(plain), (plain.to_string(), vec![]));
    }

    #[test]
    fn teardown_asks_and_deletes_every_version() {
        assert!(confirmed("my-uploader\n", "my-uploader"));
        for no in ["", "y\n", "yes\n", "my-uploader2\n"] {
            assert!(!confirmed(no, "my-uploader"), "{no:?}");
        }
        // One line a page of the CLI's paginated answer.
        assert_eq!(version_counts("1000\t3\n250\t0\n"), (1250, 3));
        assert_eq!(version_counts(""), (0, 0));
        assert_eq!(delete_batch("").unwrap(), None);
        assert_eq!(delete_batch("{}").unwrap(), None);
        let listing = r#"{"Versions":[{"Key":"uploads/a","VersionId":"v1","Size":3},
            {"Key":"page/index.html","VersionId":"null"}],
            "DeleteMarkers":[{"Key":"uploads/a","VersionId":"v2","IsLatest":true}]}"#;
        let (request, count) = delete_batch(listing).unwrap().unwrap();
        assert_eq!(count, 3);
        let request: serde_json::Value = serde_json::from_str(&request).unwrap();
        assert_eq!(
            request,
            serde_json::json!({"Quiet": true, "Objects": [
                {"Key": "uploads/a", "VersionId": "v1"},
                {"Key": "page/index.html", "VersionId": "null"},
                {"Key": "uploads/a", "VersionId": "v2"}]})
        );
        assert!(delete_errors("{}").is_ok());
        assert!(delete_errors("").is_ok());
        let err =
            delete_errors(r#"{"Errors":[{"Key":"uploads/a","Code":"AccessDenied"}]}"#).unwrap_err();
        assert!(err.contains("AccessDenied"), "{err}");
    }
}
