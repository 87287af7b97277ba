//! The offline checks CI runs: cfn-lint on both templates, the least-privilege checks, the arm64
//! Lambda packages, and the signer and the hook under `cargo lambda watch`'s runtime emulator.

use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::*;
use crate::{root, run, tools};

/// What CI checks without AWS: cfn-lint, the least-privilege checks, the arm64 package, and the
/// signer answering Function URL requests under `cargo lambda watch`.
pub fn offline_checks() -> Result<(), String> {
    tools::ensure_python_tools()?;
    let mut lint = Command::new("cfn-lint");
    lint.current_dir(root())
        .args([TEMPLATE, RATE_LIMIT_TEMPLATE])
        .env("PATH", tools::path_with_tools());
    run(lint)?;
    let mut checks = Command::new("python3");
    checks
        .current_dir(root())
        .args(["deploy/check_template.py", "--self-test"]);
    run(checks)?;
    package_lambda()?;
    lambda_emulator_check()?;
    hook_emulator_check()
}

/// Every crate of `LAMBDAS` built in one `cargo lambda build --release --arm64` (their link steps,
/// the slow part with LTO, run side by side), each zip then checked alike.
pub(super) fn package_lambda() -> Result<(), String> {
    let mut build = Command::new("cargo");
    build
        .current_dir(root())
        .env("PATH", tools::path_with_tools())
        .args([
            "lambda",
            "build",
            "--release",
            "--arm64",
            "--output-format",
            "zip",
        ]);
    for krate in LAMBDAS {
        build.args(["-p", krate]);
    }
    run(build)?;
    for krate in LAMBDAS {
        check_package(krate)?;
    }
    Ok(())
}

/// A function's zip: its size, and a look inside it.
pub(super) fn check_package(krate: &str) -> Result<(), String> {
    let zip = lambda_zip(krate);
    let size = std::fs::metadata(&zip)
        .map_err(|e| format!("{}: {e}", zip.display()))?
        .len();
    println!(
        "lambda package {krate}: {size} bytes ({:.2} MB; goal {} MB)",
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
    inspect.arg(&zip);
    run(inspect)?;
    Ok(())
}

/// Runs the signer under cargo-lambda's runtime emulator and signs through Function URL requests,
/// so the lambda_http path is exercised, not assumed.
pub(super) fn lambda_emulator_check() -> Result<(), String> {
    let (guard, addr) = start_emulator(&[])?;
    let base = "/lambda-url/signer";
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
    auth_checks(&mut failures)?;
    report("lambda-emulator", 7, failures)
}

/// Prints how many of `total` checks passed; the failures, if any, are the error.
pub(super) fn report(what: &str, total: usize, failures: Vec<String>) -> Result<(), String> {
    println!(
        "{what}: {} passed, {} failed",
        total - failures.len(),
        failures.len()
    );
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// The authenticated mode under the emulator: an API Gateway HTTP API event whose JWT
/// authorizer's claims name the user gets a form in that user's space; a Function URL request
/// (no authorizer) is refused even with a bearer token, since under Lambda only the authorizer
/// verifies tokens.
pub(super) fn auth_checks(failures: &mut Vec<String>) -> Result<(), String> {
    let issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example";
    let (guard, addr) = start_emulator(&[
        ("AUTH_ISSUER", issuer),
        ("AUTH_AUDIENCE", "4example7clientid"),
        // The saved event's page.
        (
            "ALLOWED_ORIGINS",
            "https://page.example,https://uploads.example.com",
        ),
    ])?;
    let mut check = |what: &str, ok: bool, detail: String| {
        if !ok {
            failures.push(format!("{what}: {detail}"));
        }
    };
    let event = std::fs::read_to_string(root().join("signer/tests/events/apigw_v2_sign_jwt.json"))
        .map_err(|e| format!("the saved JWT event: {e}"))?;
    let (status, text) = http(
        addr,
        "POST",
        "/2015-03-31/functions/signer/invocations",
        &[],
        &event,
    )?;
    check(
        "signed-in event",
        status == 200
            && text.contains("\"statusCode\":200")
            && text.contains("uploads/3f6c2a9e-7d41-4b8e-a1c5-0e9d8b7a6f51/"),
        format!("{status} {text}"),
    );
    let body = r#"{"filename":"cat.png","contentType":"image/png","size":12345}"#;
    let (status, text) = http(
        addr,
        "POST",
        "/lambda-url/signer/sign",
        &[
            ("Origin", "https://page.example"),
            ("Authorization", "Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln"),
        ],
        body,
    )?;
    check(
        "no authorizer",
        status == 401 && text.contains("SignInRequired"),
        format!("{status} {text}"),
    );
    let (status, text) = http(addr, "GET", "/lambda-url/signer/rules", &[], "")?;
    check(
        "rules name the provider",
        status == 200 && text.contains(&format!("\"signIn\":{{\"issuer\":\"{issuer}\"")),
        format!("{status} {text}"),
    );
    drop(guard);
    Ok(())
}

/// `cargo lambda watch` running the signer with the emulator's settings and `extra`, answering.
pub(super) fn start_emulator(extra: &[(&str, &str)]) -> Result<(Group, SocketAddr), String> {
    let mut vars = vec![
        ("UPLOAD_BUCKET", "emulated-uploads"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "ASIAEMULATED"),
        ("AWS_SECRET_ACCESS_KEY", "emulated/secret"),
        ("AWS_SESSION_TOKEN", "emulated-session-token"),
        ("ALLOWED_ORIGINS", "https://page.example"),
        (
            "UPLOAD_TOKEN_SECRET",
            "emulated-token-secret-of-32-bytes-or-more",
        ),
    ];
    // Later entries win.
    vars.extend_from_slice(extra);
    let (guard, addr) = lambda_watch("signer", &vars)?;
    let started = Instant::now();
    // The emulator compiles the function on the first request; wait for a real answer.
    loop {
        if started.elapsed() > Duration::from_secs(300) {
            return Err("the signer did not answer under cargo lambda watch".into());
        }
        if TcpStream::connect(addr).is_ok()
            && let Ok((200, _)) = http(addr, "GET", "/lambda-url/signer/rules", &[], "")
        {
            return Ok((guard, addr));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The hook under cargo-lambda's runtime emulator, invoked as EventBridge invokes it, against
/// local-s3 started here: its result lands in the bucket, so the `lambda_runtime` path is
/// exercised, not assumed; an event that is not an S3 one fails the invocation (Lambda then
/// retries it, and the stack's dead-letter queue keeps it).
pub(super) fn hook_emulator_check() -> Result<(), String> {
    use local_s3::client::Aws;
    const BUCKET: &str = "emulated-uploads";
    const KEY: &str = "uploads/0123456789abcdef0123456789abcdef/hello world.txt";
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let data = root().join("target").join("hook-emulator-s3");
    let _ = std::fs::remove_dir_all(&data);
    let s3 = runtime
        .block_on(local_s3::start(
            local_s3::Config {
                root: data.clone(),
                bucket: BUCKET.into(),
                access_key: "AKIDEMULATED".into(),
                secret_key: "emulated/secret".into(),
                region: "eu-west-1".into(),
                allowed_origins: Vec::new(),
                notify: None,
            },
            SocketAddr::from(([127, 0, 0, 1], 0)),
        ))
        .map_err(|e| e.to_string())?;
    let aws = Aws {
        addr: s3.addr(),
        access_key: "AKIDEMULATED".into(),
        secret_key: "emulated/secret".into(),
        session_token: None,
        region: "eu-west-1".into(),
    };
    let put = aws.send(
        "s3",
        "PUT",
        &format!("/{BUCKET}/{KEY}"),
        &[],
        &[("Content-Type", "text/plain")],
        b"hello\n",
    )?;
    if put.status != 200 {
        return Err(format!("PUT: {} {}", put.status, put.text()));
    }
    let etag = put
        .header("etag")
        .unwrap_or_default()
        .trim_matches('"')
        .to_string();
    let endpoint = s3.endpoint();
    let (guard, addr) = lambda_watch(
        "hook",
        &[
            ("UPLOAD_BUCKET", BUCKET),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEMULATED"),
            ("AWS_SECRET_ACCESS_KEY", "emulated/secret"),
            ("S3_ENDPOINT", &endpoint),
        ],
    )?;
    let invoke = |event: &str| {
        http(
            addr,
            "POST",
            "/2015-03-31/functions/hook/invocations",
            &[],
            event,
        )
    };
    let event = serde_json::json!({
        "version": "0", "id": "emulated", "detail-type": "Object Created", "source": "aws.s3",
        "account": "111122223333", "time": "2026-12-04T00:00:00Z", "region": "eu-west-1",
        "resources": [format!("arn:aws:s3:::{BUCKET}")],
        "detail": {"version": "0", "bucket": {"name": BUCKET},
            "object": {"key": KEY, "size": 6, "etag": etag}, "reason": "PutObject"}
    })
    .to_string();
    // The emulator compiles the function on the first invocation.
    let started = Instant::now();
    let answer = loop {
        match invoke(&event) {
            Ok(answer) => break answer,
            Err(_) if started.elapsed() < Duration::from_secs(300) => {
                std::thread::sleep(Duration::from_millis(500))
            }
            Err(e) => {
                return Err(format!(
                    "the hook did not answer under cargo lambda watch: {e}"
                ));
            }
        }
    };
    let mut failures = Vec::new();
    if answer.0 != 200 || !answer.1.contains("\"judged\":1") {
        failures.push(format!("invoke: {} {}", answer.0, answer.1));
    }
    let result = aws.send(
        "s3",
        "GET",
        &format!("/{BUCKET}/results/{KEY}.json"),
        &[],
        &[],
        b"",
    )?;
    let text = result.text();
    if result.status != 200 || !text.contains("\"verdict\": \"unknown\"") || !text.contains(&etag) {
        failures.push(format!("result: {} {text}", result.status));
    }
    let (status, text) = invoke(r#"{"not": "an S3 event"}"#)?;
    if status == 200 && !text.contains("errorMessage") {
        failures.push(format!("a bad event succeeded: {status} {text}"));
    }
    drop(guard);
    runtime.block_on(s3.stop());
    let _ = std::fs::remove_dir_all(&data);
    report("hook under the lambda emulator", 3, failures)
}

/// `cargo lambda watch` running `krate` with only `vars` of the AWS ones (a session token only if
/// given) in its environment; its runtime emulator's address.
pub(super) fn lambda_watch(
    krate: &str,
    vars: &[(&str, &str)],
) -> Result<(Group, SocketAddr), String> {
    let port = free_port()?;
    let mut watch = Command::new("cargo");
    watch
        .current_dir(root())
        .env("PATH", tools::path_with_tools())
        .args(["lambda", "watch", "--ignore-changes", "-p", krate, "-P"])
        .arg(port.to_string())
        .env_remove("AWS_SESSION_TOKEN")
        .envs(vars.iter().copied())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut watch, 0);
    let child = watch
        .spawn()
        .map_err(|e| format!("cargo lambda watch: {e}"))?;
    Ok((Group(child), SocketAddr::from(([127, 0, 0, 1], port))))
}

/// A process group (cargo lambda watch and the function it runs), ended when dropped.
pub(super) struct Group(std::process::Child);

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

pub(crate) fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// One request to the emulator, through `local-s3`'s test client (a JSON body): its status and
/// body text.
pub(super) fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, String), String> {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    let response = local_s3::client::request(addr, method, path, &all, body.as_bytes())?;
    Ok((response.status, response.text()))
}
