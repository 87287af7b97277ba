//! The `aws` CLI: stack outputs, the account, its Block Public Access answer, and the per-client
//! limit's stack in us-east-1.

use std::process::Command;

use super::*;
use crate::{root, run};

/// One `aws` call's standard output, or its standard error as the failure.
pub(super) fn aws_text(args: &[&str]) -> Result<String, String> {
    let output = Command::new("aws")
        .args(args)
        .output()
        .map_err(|e| format!("aws: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "aws {}: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

pub(super) fn stack_outputs(stack: &str, region: &str) -> Result<Vec<(String, String)>, String> {
    let output = Command::new("aws")
        .args([
            "cloudformation",
            "describe-stacks",
            "--stack-name",
            stack,
            "--region",
            region,
        ])
        .args([
            "--query",
            "Stacks[0].Outputs[].[OutputKey,OutputValue]",
            "--output",
            "text",
        ])
        .output()
        .map_err(|e| format!("aws: {e}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect())
}

/// The account the deploying credentials belong to (the stack's).
pub(super) fn caller_account() -> Result<String, String> {
    aws_text(&[
        "sts",
        "get-caller-identity",
        "--query",
        "Account",
        "--output",
        "text",
    ])
}

/// Without CloudFront the page is read through a public bucket policy, which the account's S3
/// Block Public Access may forbid (BlockPublicPolicy: the stack fails) or make void
/// (RestrictPublicBuckets: the page answers 403). Asked before deploying.
pub(super) fn check_account_allows_public_page(region: &str) -> Result<(), String> {
    let account = caller_account()?;
    let output = Command::new("aws")
        .args(["s3control", "get-public-access-block", "--account-id"])
        .arg(account.trim())
        .args(["--region", region, "--output", "text"])
        .args([
            "--query",
            "PublicAccessBlockConfiguration.[BlockPublicPolicy,RestrictPublicBuckets]",
        ])
        .output()
        .map_err(|e| format!("aws: {e}"))?;
    if output.status.success() {
        public_page_allowed(&String::from_utf8_lossy(&output.stdout))
    } else {
        let error = String::from_utf8_lossy(&output.stderr);
        // No account-level configuration at all: nothing is blocked.
        if error.contains("NoSuchPublicAccessBlockConfiguration") {
            Ok(())
        } else {
            Err(format!(
                "reading the account's S3 Block Public Access: {error}"
            ))
        }
    }
}

/// The answer to `get-public-access-block --query [BlockPublicPolicy,RestrictPublicBuckets]`.
pub(super) fn public_page_allowed(flags: &str) -> Result<(), String> {
    let on: Vec<bool> = flags
        .split_whitespace()
        .map(|flag| flag.eq_ignore_ascii_case("true"))
        .collect();
    let named: Vec<&str> = ["BlockPublicPolicy", "RestrictPublicBuckets"]
        .into_iter()
        .zip(&on)
        .filter(|(_, on)| **on)
        .map(|(name, _)| name)
        .collect();
    if named.is_empty() {
        return Ok(());
    }
    Err(format!(
        "this account's S3 Block Public Access has {} on, so a page served straight from the bucket (UseCloudFront=false) would not be readable. Deploy with CloudFront (the default: drop UseCloudFront=false), which keeps the bucket private, or turn the setting off for the account (aws s3control put-public-access-block) if public buckets are really wanted",
        named.join(" and ")
    ))
}

/// Deploys (or updates) the per-client limit's web ACL in us-east-1; its ARN.
pub(super) fn deploy_rate_limit(stack: &str, limit: u64) -> Result<String, String> {
    let name = rate_limit_stack(stack);
    let mut deploy = Command::new("aws");
    deploy
        .current_dir(root())
        .args(rate_limit_deploy_args(&name, limit));
    run(deploy)?;
    stack_outputs(&name, RATE_LIMIT_REGION)?
        .into_iter()
        .find(|(key, _)| key == "WebAclArn")
        .map(|(_, arn)| arn)
        .ok_or(format!("the stack {name} has no WebAclArn output"))
}

pub(super) fn rate_limit_deploy_args(name: &str, limit: u64) -> Vec<String> {
    [
        "cloudformation",
        "deploy",
        "--template-file",
        RATE_LIMIT_TEMPLATE,
        "--stack-name",
        name,
        "--region",
        RATE_LIMIT_REGION,
        "--no-fail-on-empty-changeset",
        "--parameter-overrides",
    ]
    .into_iter()
    .map(str::to_string)
    .chain([format!("RateLimitPerFiveMinutes={limit}")])
    .collect()
}

/// Deletes the per-client limit's stack, if there is one (and waits for it to go).
pub(super) fn delete_rate_limit(stack: &str) -> Result<(), String> {
    let name = rate_limit_stack(stack);
    for action in [
        ["delete-stack"].as_slice(),
        &["wait", "stack-delete-complete"],
    ] {
        let mut command = Command::new("aws");
        command.arg("cloudformation").args(action).args([
            "--stack-name",
            &name,
            "--region",
            RATE_LIMIT_REGION,
        ]);
        run(command)?;
    }
    Ok(())
}
