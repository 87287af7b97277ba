//! What the signer writes to its logs: users' file names never at info level, and one JSON object
//! a line under Lambda's JSON log format.

use std::io::Read;
use std::process::{Command, Stdio};

mod common;
use common::stack::{PAGE, Stack};
use common::{SignerProcess, json, request};

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

/// Issue #23: keys keep the user's folders below the upload's id, and folder names are often
/// people's names, projects or cases: every route that logs an upload (`/sign`, `/sign/batch`,
/// multipart create and complete) names it by its id alone, anonymous and signed in.
#[test]
fn folder_and_file_names_stay_out_of_info_logs_on_every_route() {
    const AUDIENCE: &str = "log-page";
    let name = "Jane Doe/divorce case 2026/diagnosis.pdf";
    for signed_in in [false, true] {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let issuer = signed_in.then(|| {
            runtime
                .block_on(local_s3::issuer::start(
                    local_s3::issuer::IssuerConfig { token_seconds: 600 },
                    ([127, 0, 0, 1], 0).into(),
                ))
                .unwrap()
        });
        let url = issuer.as_ref().map(|i| i.url()).unwrap_or_default();
        let mut extra = vec![("RUST_LOG", "info")];
        if signed_in {
            extra.extend([("AUTH_ISSUER", url.as_str()), ("AUTH_AUDIENCE", AUDIENCE)]);
        }
        let mut stack = Stack::start_logged(&format!("logs-{signed_in}"), &extra);
        let bearer = issuer.as_ref().map(|i| {
            let exp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + 600;
            format!(
                "Bearer {}",
                local_s3::issuer::mint(&i.url(), AUDIENCE, "alice", exp)
            )
        });
        let post = |path: &str, body: serde_json::Value| {
            let mut headers = vec![("Content-Type", "application/json"), ("Origin", PAGE)];
            if let Some(bearer) = &bearer {
                headers.push(("Authorization", bearer));
            }
            let answer = request(
                stack.signer.addr,
                "POST",
                path,
                &headers,
                body.to_string().as_bytes(),
            );
            assert_eq!(answer.status, 200, "{path}: {}", answer.text());
            json(&answer)
        };
        let file =
            serde_json::json!({"filename": name, "contentType": "application/pdf", "size": 1000});
        let form = post("/sign", file.clone());
        post("/sign/batch", serde_json::json!({"files": [file.clone()]}));
        let created = post("/multipart/create", file.clone());
        let token = created["token"].as_str().unwrap().to_string();
        let signed = post(
            "/multipart/sign-parts",
            serde_json::json!({"token": token, "parts": [{"number": 1}]}),
        );
        let part = &signed["parts"][0];
        let path = part["url"]
            .as_str()
            .unwrap()
            .strip_prefix(&stack.s3.as_ref().unwrap().endpoint())
            .unwrap()
            .to_string();
        let headers: Vec<(String, String)> = part["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let stored = request(stack.s3_addr(), "PUT", &path, &headers, &[7u8; 1000]);
        assert_eq!(stored.status, 200, "{}", stored.text());
        post("/multipart/complete", serde_json::json!({"token": token}));
        let logs = stack.signer.stop_and_read_stderr();
        for said in [
            "signed",
            "multipart upload created",
            "multipart upload completed",
        ] {
            assert!(logs.contains(said), "{said}: {logs}");
        }
        // The uploads are named by their ids.
        for key in [
            form["key"].as_str().unwrap(),
            created["key"].as_str().unwrap(),
        ] {
            let id = signer::key::upload_id(key, "uploads/", signed_in);
            assert_eq!(id.len(), 32, "{key}");
            assert!(logs.contains(id), "{id}: {logs}");
        }
        for secret in ["Jane", "divorce", "diagnosis", "alice"] {
            assert!(
                !logs.contains(secret),
                "{secret} (signed in: {signed_in}): {logs}"
            );
        }
    }
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
