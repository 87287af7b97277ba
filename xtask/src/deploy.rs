//! The AWS side: `package` (offline: the arm64 Lambda zip and the release page), `deploy` (SAM
//! stack, then the page synced to `s3://<bucket>/page/` with its config.json), `teardown`, and the
//! offline checks CI runs (cfn-lint, least privilege, the signer under a Lambda runtime emulator).

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{root, run, tools};

/// Goal for the Lambda zip.
const ZIP_GOAL_BYTES: u64 = 3 * 1000 * 1000;
const TEMPLATE: &str = "deploy/template.yaml";

fn lambda_zip() -> PathBuf {
    root()
        .join("target")
        .join("lambda")
        .join("signer")
        .join("bootstrap.zip")
}

/// The signer for Lambda (arm64, release, zipped) and the page for release; prints both sizes.
pub fn package() -> Result<(), String> {
    tools::ensure_cargo_lambda()?;
    package_lambda()?;
    crate::build_page_and_report().map(drop)
}

/// `cargo xtask deploy --stack NAME --region REGION [-- KEY=VALUE...]` (SAM parameter overrides).
pub fn deploy(args: &[String]) -> Result<(), String> {
    let (stack, region, overrides) = stack_args(args)?;
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
    package()?;
    let mut sam = Command::new("sam");
    sam.current_dir(root()).args([
        "deploy",
        "--template-file",
        TEMPLATE,
        "--stack-name",
        &stack,
        "--region",
        &region,
        "--capabilities",
        "CAPABILITY_IAM",
        "--resolve-s3",
        "--no-confirm-changeset",
        "--no-fail-on-empty-changeset",
    ]);
    if !overrides.is_empty() {
        sam.arg("--parameter-overrides").args(&overrides);
    }
    run(sam)?;
    let outputs = stack_outputs(&stack, &region)?;
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
    let dist = root().join("dist");
    std::fs::write(
        dist.join("config.json"),
        format!("{{\"signerUrl\": \"{signer_url}\"}}\n"),
    )
    .map_err(|e| format!("config.json: {e}"))?;
    sync_page(&bucket, &region)?;
    println!("bucket: {bucket}\nsigner: {signer_url}\nthe uploader: {page_url}");
    Ok(())
}

/// Hashed assets are immutable; index.html and config.json are never cached. Content types are
/// set explicitly (`application/wasm` is not in every MIME table). New assets go up first and
/// index.html last, so a visitor never gets an index.html whose assets are missing; assets of
/// earlier builds are deleted at the end.
fn sync_page(bucket: &str, region: &str) -> Result<(), String> {
    let dist = root().join("dist");
    let target = format!("s3://{bucket}/page/");
    let mut names: Vec<String> = std::fs::read_dir(&dist)
        .map_err(|e| format!("{}: {e}", dist.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    // index.html last, config.json just before it.
    names.sort_by_key(|name| match name.as_str() {
        "index.html" => 2,
        "config.json" => 1,
        _ => 0,
    });
    for name in &names {
        let content_type = match name.rsplit('.').next() {
            Some("html") => "text/html; charset=utf-8",
            Some("js") => "text/javascript",
            Some("wasm") => "application/wasm",
            Some("css") => "text/css",
            Some("json") => "application/json",
            _ => "application/octet-stream",
        };
        let cache = if name == "index.html" || name == "config.json" {
            "no-cache"
        } else {
            "public, max-age=31536000, immutable"
        };
        let mut copy = Command::new("aws");
        copy.arg("s3")
            .arg("cp")
            .arg(dist.join(name))
            .arg(format!("{target}{name}"))
            .args([
                "--content-type",
                content_type,
                "--cache-control",
                cache,
                "--region",
                region,
            ]);
        run(copy)?;
    }
    // Everything is uploaded with the same sizes, so this only deletes what dist/ no longer has.
    let mut prune = Command::new("aws");
    prune.args(["s3", "sync"]).arg(&dist).args([
        &target,
        "--delete",
        "--size-only",
        "--region",
        region,
    ]);
    run(prune)
}

/// Empties the bucket (a stack cannot delete a bucket with objects) and deletes the stack.
pub fn teardown(args: &[String]) -> Result<(), String> {
    let (stack, region, _) = stack_args(args)?;
    if let Ok(outputs) = stack_outputs(&stack, &region)
        && let Some((_, bucket)) = outputs.iter().find(|(k, _)| k == "BucketName")
    {
        let mut empty = Command::new("aws");
        empty.args([
            "s3",
            "rm",
            &format!("s3://{bucket}"),
            "--recursive",
            "--region",
            &region,
        ]);
        run(empty)?;
    }
    let mut delete = Command::new("sam");
    delete.args([
        "delete",
        "--stack-name",
        &stack,
        "--region",
        &region,
        "--no-prompts",
    ]);
    run(delete)
}

fn stack_args(args: &[String]) -> Result<(String, String, Vec<String>), String> {
    let usage =
        "usage: cargo xtask deploy|teardown --stack NAME --region REGION [-- Param=Value...]";
    let (mut stack, mut region, mut overrides) = (None, None, Vec::new());
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--stack" => stack = args.next().cloned(),
            "--region" => region = args.next().cloned(),
            "--" => overrides.extend(args.by_ref().cloned()),
            other => return Err(format!("unknown argument {other}; {usage}")),
        }
    }
    let stack = stack.ok_or(usage)?;
    let region = region.ok_or(usage)?;
    check_names(&stack, &region, &overrides)?;
    Ok((stack, region, overrides))
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
                let host = origin.strip_prefix("https://").unwrap_or_default();
                if host.is_empty()
                    || !host
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
                {
                    return Err(format!(
                        "ExtraAllowedOrigins: {origin:?} is not an https origin like https://example.com (no path, no trailing slash)"
                    ));
                }
            }
        }
    }
    Ok(())
}

fn stack_outputs(stack: &str, region: &str) -> Result<Vec<(String, String)>, String> {
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

/// What CI checks without AWS: cfn-lint, the least-privilege checks, the arm64 package, and the
/// signer answering Function URL requests under `cargo lambda watch`.
pub fn offline_checks() -> Result<(), String> {
    tools::ensure_python_tools()?;
    let mut lint = Command::new("cfn-lint");
    lint.current_dir(root())
        .arg(TEMPLATE)
        .env("PATH", tools::path_with_tools());
    run(lint)?;
    let mut checks = Command::new("python3");
    checks
        .current_dir(root())
        .args(["deploy/check_template.py", "--self-test"]);
    run(checks)?;
    package_lambda()?;
    lambda_emulator_check()
}

/// `cargo lambda build --release --arm64` into a zip, its size, and a look inside it.
fn package_lambda() -> Result<(), String> {
    let mut build = Command::new("cargo");
    build
        .current_dir(root())
        .env("PATH", tools::path_with_tools())
        .args([
            "lambda",
            "build",
            "--release",
            "--arm64",
            "-p",
            "signer",
            "--output-format",
            "zip",
        ]);
    run(build)?;
    let size = std::fs::metadata(lambda_zip())
        .map_err(|e| e.to_string())?
        .len();
    println!(
        "lambda package: {size} bytes ({:.2} MB; goal {} MB)",
        size as f64 / 1e6,
        ZIP_GOAL_BYTES as f64 / 1e6
    );
    // What Lambda runs: one entry, `bootstrap`, an arm64 (e_machine 183) ELF executable.
    let mut inspect = Command::new("python3");
    inspect.arg("-c").arg(
        "import sys, zipfile\n\
         z = zipfile.ZipFile(sys.argv[1])\n\
         assert z.namelist() == ['bootstrap'], z.namelist()\n\
         head = z.read('bootstrap')[:20]\n\
         assert head[:4] == b'\\x7fELF' and head[18] == 183, 'bootstrap is not an arm64 executable'\n\
         assert z.getinfo('bootstrap').external_attr >> 16 & 0o111, 'bootstrap is not executable'",
    );
    inspect.arg(lambda_zip());
    run(inspect)?;
    Ok(())
}

/// Runs the signer under cargo-lambda's runtime emulator and signs through Function URL requests,
/// so the lambda_http path is exercised, not assumed.
fn lambda_emulator_check() -> Result<(), String> {
    let port = free_port()?;
    let mut watch = Command::new("cargo");
    watch
        .current_dir(root())
        .env("PATH", tools::path_with_tools())
        .args([
            "lambda",
            "watch",
            "--ignore-changes",
            "-p",
            "signer",
            "-P",
            &port.to_string(),
        ])
        .env("UPLOAD_BUCKET", "emulated-uploads")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "ASIAEMULATED")
        .env("AWS_SECRET_ACCESS_KEY", "emulated/secret")
        .env("AWS_SESSION_TOKEN", "emulated-session-token")
        .env("ALLOWED_ORIGINS", "https://page.example")
        .env(
            "UPLOAD_TOKEN_SECRET",
            "emulated-token-secret-of-32-bytes-or-more",
        )
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut watch, 0);
    let child = watch
        .spawn()
        .map_err(|e| format!("cargo lambda watch: {e}"))?;
    let guard = Group(child);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let base = "/lambda-url/signer";
    let started = Instant::now();
    // The emulator compiles the function on the first request; wait for a real answer.
    loop {
        if started.elapsed() > Duration::from_secs(300) {
            return Err("the signer did not answer under cargo lambda watch".into());
        }
        if TcpStream::connect(addr).is_ok()
            && let Ok((200, _)) = http(addr, "GET", &format!("{base}/rules"), &[], "")
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let mut failures = Vec::new();
    let mut check = |what: &str, ok: bool, detail: String| {
        if !ok {
            failures.push(format!("{what}: {detail}"));
        }
    };
    let body = r#"{"filename":"cat.png","contentType":"image/png","size":12345}"#;
    let (status, text) = http(
        addr,
        "POST",
        &format!("{base}/sign"),
        &[("Origin", "https://page.example")],
        body,
    )?;
    check(
        "sign",
        status == 200
            && text.contains("\"x-amz-security-token\":\"emulated-session-token\"")
            && text.contains("\"url\":\"https://emulated-uploads.s3.eu-west-1.amazonaws.com\""),
        format!("{status} {text}"),
    );
    let (status, text) = http(addr, "POST", &format!("{base}/sign"), &[], "{not json")?;
    check(
        "malformed",
        status == 400 && text.contains("MalformedRequest"),
        format!("{status} {text}"),
    );
    let (status, text) = http(
        addr,
        "POST",
        &format!("{base}/sign"),
        &[("Origin", "https://evil.example")],
        body,
    )?;
    check(
        "other origin",
        status == 403 && text.contains("OriginNotAllowed"),
        format!("{status} {text}"),
    );
    let (status, text) = http(addr, "DELETE", &format!("{base}/sign"), &[], "")?;
    check("wrong method", status == 405, format!("{status} {text}"));
    drop(guard);
    println!(
        "lambda-emulator: {} passed, {} failed",
        4 - failures.len(),
        failures.len()
    );
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// A process group (cargo lambda watch and the function it runs), ended when dropped.
struct Group(std::process::Child);

impl Drop for Group {
    /// `pkill -g` names the group explicitly: a negative pid handed to `kill` is too easy to get
    /// wrong, and `kill -1` signals every process there is.
    fn drop(&mut self) {
        let group = self.0.id().to_string();
        let _ = Command::new("pkill").args(["-TERM", "-g", &group]).status();
        std::thread::sleep(Duration::from_millis(500));
        let _ = Command::new("pkill").args(["-KILL", "-g", &group]).status();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// One HTTP/1.1 request with `Connection: close`; the status and the body.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, String), String> {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status line")?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

#[cfg(test)]
mod name_tests {
    use super::check_names;

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
}
