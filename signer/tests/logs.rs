//! What the signer writes to its logs: users' file names never at info level, and one JSON object
//! a line under Lambda's JSON log format.

use std::io::Read;
use std::process::{Command, Stdio};

mod common;
use common::{SignerProcess, request};

const BASE: [(&str, &str); 4] = [
    ("UPLOAD_BUCKET", "log-bucket"),
    ("AWS_REGION", "us-east-1"),
    ("AWS_ACCESS_KEY_ID", "AKID"),
    ("AWS_SECRET_ACCESS_KEY", "SECRET"),
];

#[test]
fn file_names_stay_out_of_info_logs() {
    let mut vars = BASE.to_vec();
    vars.push(("RUST_LOG", "info"));
    let mut signer = SignerProcess::start_with_stderr(&vars);
    let name = "secret-diagnosis-of-jane-doe.pdf";
    let body = format!(r#"{{"filename":"{name}","contentType":"application/pdf","size":10}}"#);
    let response = request(signer.addr, "POST", "/sign", &[], body.as_bytes());
    assert_eq!(response.status, 200, "{}", response.text());
    let logs = signer.stop_and_read_stderr();
    assert!(logs.contains("signed"), "{logs}");
    assert!(!logs.contains("jane-doe"), "{logs}");
}

#[test]
fn lambda_json_log_format_writes_json_lines() {
    // No runtime API answers at this address: the signer logs its start-up warning, then stops.
    let mut command = Command::new(env!("CARGO_BIN_EXE_signer"));
    command
        .env_clear()
        .envs(BASE)
        .env("UPLOAD_TOKEN_SECRET", "a-token-secret-of-32-bytes-or-more!")
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let _ = child.wait();
    let first = stderr.lines().next().unwrap_or_default();
    let line: serde_json::Value =
        serde_json::from_str(first).unwrap_or_else(|e| panic!("not JSON ({e}): {stderr}"));
    assert_eq!(line["level"], "WARN", "{first}");
    assert!(
        line["message"]
            .as_str()
            .unwrap()
            .contains("ALLOWED_ORIGINS"),
        "{first}"
    );
}
