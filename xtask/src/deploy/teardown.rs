//! `teardown`: the question, the functions stopped, the bucket emptied version by version, the
//! stack deleted (and the per-client limit's stack in us-east-1).

use std::process::Command;

use super::*;
use crate::{root, run};

/// `cargo xtask teardown --stack NAME --region REGION [--yes]`: shows what goes, asks (unless
/// `--yes`), stops new forms and new verdicts (the signer's and the stack's hook's concurrency
/// set to 0, so neither writes into the bucket while it is emptied), deletes every object version
/// and delete marker (a stack cannot delete a bucket with objects, versioned or not), and deletes
/// the stack. Forms signed just before the stop stay valid for PolicyTtlSeconds, so an upload may
/// still land: the bucket is emptied again and the delete retried.
pub fn teardown(args: &[String]) -> Result<(), String> {
    let args = stack_args(args)?;
    if !args.overrides.is_empty() {
        return Err("teardown takes no parameter overrides".into());
    }
    let outputs = stack_outputs(&args.stack, &args.region).unwrap_or_default();
    let output = |key: &str| {
        outputs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let bucket = output("BucketName");
    let functions = [output("FunctionName"), output("HookFunctionName")];
    if !args.yes {
        let contents = match &bucket {
            Some(bucket) => {
                let (versions, markers) = version_counts(&aws_text(&[
                    "s3api",
                    "list-object-versions",
                    "--bucket",
                    bucket,
                    "--region",
                    &args.region,
                    "--query",
                    "[length(Versions || `[]`), length(DeleteMarkers || `[]`)]",
                    "--output",
                    "text",
                ])?);
                format!(
                    "the bucket {bucket} and everything in it ({versions} object versions, {markers} delete markers)"
                )
            }
            None => "(no bucket found in its outputs)".into(),
        };
        println!(
            "This deletes the stack {} in {} and {contents}.\nType the stack name to go on:",
            args.stack, args.region
        );
        let mut answer = String::new();
        std::io::stdin()
            .read_line(&mut answer)
            .map_err(|e| e.to_string())?;
        if !confirmed(&answer, &args.stack) {
            return Err("not confirmed; nothing was changed (--yes skips the question)".into());
        }
    }
    for function in functions.iter().flatten() {
        let mut stop = Command::new("aws");
        stop.args([
            "lambda",
            "put-function-concurrency",
            "--function-name",
            function,
            "--reserved-concurrent-executions",
            "0",
            "--region",
            &args.region,
        ]);
        run(stop)?;
    }
    for attempt in 1..=3 {
        if let Some(bucket) = &bucket {
            empty_bucket(bucket, &args.region)?;
        }
        let mut delete = Command::new("sam");
        delete.args([
            "delete",
            "--stack-name",
            &args.stack,
            "--region",
            &args.region,
            "--no-prompts",
        ]);
        match run(delete) {
            // Then the per-client limit's web ACL, which the distribution no longer holds.
            Ok(()) => return delete_rate_limit(&args.stack),
            Err(e) if attempt < 3 && bucket.is_some() => {
                eprintln!(
                    "xtask: {e}; an upload signed before the stop may have landed: emptying the bucket again"
                );
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Whether the answer to the teardown's question is the stack's name.
pub(super) fn confirmed(answer: &str, stack: &str) -> bool {
    answer.trim() == stack
}

/// Sums the per-page `[versions, markers]` lines the CLI prints for a paginated `--query`.
pub(super) fn version_counts(text: &str) -> (u64, u64) {
    text.lines()
        .filter_map(|line| {
            let mut numbers = line.split_whitespace().map(str::parse::<u64>);
            match (numbers.next(), numbers.next()) {
                (Some(Ok(versions)), Some(Ok(markers))) => Some((versions, markers)),
                _ => None,
            }
        })
        .fold((0, 0), |(v, m), (versions, markers)| {
            (v + versions, m + markers)
        })
}

/// Deletes every object version and delete marker, 1000 (one `delete-objects`) at a time.
pub(super) fn empty_bucket(bucket: &str, region: &str) -> Result<(), String> {
    let batch_file = root().join("target").join("teardown-batch.json");
    let mut deleted = 0;
    loop {
        let listing = aws_text(&[
            "s3api",
            "list-object-versions",
            "--bucket",
            bucket,
            "--max-keys",
            "1000",
            "--no-paginate",
            "--output",
            "json",
            "--region",
            region,
        ])?;
        let Some((batch, count)) = delete_batch(&listing)? else {
            break;
        };
        std::fs::write(&batch_file, batch).map_err(|e| e.to_string())?;
        let answer = aws_text(&[
            "s3api",
            "delete-objects",
            "--bucket",
            bucket,
            "--delete",
            &format!("file://{}", batch_file.display()),
            "--output",
            "json",
            "--region",
            region,
        ])?;
        delete_errors(&answer)?;
        deleted += count;
        println!("teardown: {deleted} versions and delete markers deleted from {bucket}");
    }
    let _ = std::fs::remove_file(&batch_file);
    Ok(())
}

/// The `delete-objects` request for one `list-object-versions` page (versions and delete markers
/// alike, by key and version id; an unversioned bucket's objects have version id "null"), and
/// how many it names; `None` when the bucket is empty.
pub(super) fn delete_batch(listing: &str) -> Result<Option<(String, usize)>, String> {
    let listing: serde_json::Value = if listing.trim().is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(listing).map_err(|e| format!("list-object-versions: {e}"))?
    };
    let objects: Vec<serde_json::Value> = ["Versions", "DeleteMarkers"]
        .iter()
        .filter_map(|kind| listing.get(kind).and_then(|list| list.as_array()))
        .flatten()
        .map(|item| serde_json::json!({"Key": item["Key"], "VersionId": item["VersionId"]}))
        .collect();
    if objects.is_empty() {
        return Ok(None);
    }
    let count = objects.len();
    let request = serde_json::json!({"Objects": objects, "Quiet": true});
    Ok(Some((request.to_string(), count)))
}

/// `delete-objects` answers 200 with per-key errors: any is a failure.
pub(super) fn delete_errors(answer: &str) -> Result<(), String> {
    let answer: serde_json::Value = serde_json::from_str(answer).unwrap_or_default();
    match answer.get("Errors").and_then(|e| e.as_array()) {
        Some(errors) if !errors.is_empty() => Err(format!(
            "delete-objects refused {} keys, e.g. {}",
            errors.len(),
            errors[0]
        )),
        _ => Ok(()),
    }
}
