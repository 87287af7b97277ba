//! The token secret read from Secrets Manager at start (`UPLOAD_TOKEN_SECRET_ARN`, issue #24),
//! against moto's Secrets Manager server on 127.0.0.1 (`moto_server`, from PyPI): it implements
//! `CreateSecret`/`GetSecretValue`/`PutSecretValue` as AWS answers them, though it checks no
//! signature (the signature is checked against AWS's own derivation in `secrets.rs`'s tests).
//! Run by `cargo xtask test` (`cargo test -p signer --features secrets-manager-tests --test
//! secrets_manager`), which installs moto.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use signer::time::UnixTime;
use signer::token::TokenSecret;

const REGION: &str = "us-east-1";

/// `moto_server` on a free loopback port; stopped (by its pid) when dropped.
struct Moto {
    child: Child,
    addr: SocketAddr,
}

impl Moto {
    fn start() -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(std::env::var("MOTO_SERVER").unwrap_or("moto_server".into()))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server (pip install 'moto[server]'; cargo xtask test installs it)");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let start = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "moto did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto { child, addr }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// One Secrets Manager call (moto reads the region from the credential scope).
    fn call(&self, action: &str, body: Value) -> (u16, Value) {
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/{REGION}/secretsmanager/aws4_request, SignedHeaders=host, Signature=0"
        );
        let response = common::request(
            self.addr,
            "POST",
            "/",
            &[
                ("Content-Type", "application/x-amz-json-1.1"),
                ("X-Amz-Target", &format!("secretsmanager.{action}")),
                ("Authorization", &authorization),
            ],
            body.to_string().as_bytes(),
        );
        let value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        (response.status, value)
    }

    fn create(&self, name: &str, secret: &str) -> String {
        let (status, answer) = self.call(
            "CreateSecret",
            json!({"Name": name, "SecretString": secret}),
        );
        assert_eq!(status, 200, "{answer}");
        answer["ARN"].as_str().unwrap().to_string()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn vars<'a>(moto: &'a str, arn: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("UPLOAD_BUCKET", "secret-bucket"),
        ("AWS_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "SECRET"),
        ("AWS_SESSION_TOKEN", "session"),
        ("ALLOWED_ORIGINS", "https://page.example"),
        ("UPLOAD_TOKEN_SECRET_ARN", arn),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto),
    ]
}

fn token(signer: &common::SignerProcess) -> String {
    let response = common::request(
        signer.addr,
        "POST",
        "/sign",
        &[("Origin", "https://page.example")],
        br#"{"filename":"a.txt","contentType":"text/plain","size":3}"#,
    );
    assert_eq!(response.status, 200, "{}", response.text());
    common::json(&response)["token"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn the_signer_reads_its_token_secret_from_secrets_manager_and_rotates_it() {
    let moto = Moto::start();
    let old = "o".repeat(48);
    let new = "n".repeat(48);
    let arn = moto.create("uploader-tokens", &old);
    let endpoint = moto.endpoint();

    let signer = common::SignerProcess::start(&vars(&endpoint, &arn));
    let first = token(&signer);
    let by_old = TokenSecret::parse(&old).unwrap();
    assert!(by_old.verify(&first, UnixTime::now()).is_ok(), "{first}");
    drop(signer);

    // Rotation: the new secret first (it signs), the old one second (its tokens still verify).
    let (status, answer) = moto.call(
        "PutSecretValue",
        json!({"SecretId": arn, "SecretString": format!("{new}\n{old}")}),
    );
    assert_eq!(status, 200, "{answer}");
    let signer = common::SignerProcess::start(&vars(&endpoint, &arn));
    let second = token(&signer);
    assert!(
        TokenSecret::parse(&new)
            .unwrap()
            .verify(&second, UnixTime::now())
            .is_ok()
    );
    assert!(by_old.verify(&second, UnixTime::now()).is_err());
    // A retry with the token of before the rotation keeps its key.
    let retry = common::request(
        signer.addr,
        "POST",
        "/sign",
        &[("Origin", "https://page.example")],
        json!({"filename": "a.txt", "contentType": "text/plain", "size": 3, "token": first})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(retry.status, 200, "{}", retry.text());
    drop(signer);
}

#[test]
fn a_secret_that_cannot_be_read_or_is_short_stops_the_signer_at_start() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let short = moto.create("short", "only 20 bytes long..");
    let missing = short.replace(":secret:short", ":secret:missing");
    for (arn, expected) in [
        (short.as_str(), "at least 32 random bytes"),
        (missing.as_str(), "ResourceNotFoundException"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_signer"))
            .env_clear()
            .envs(vars(&endpoint, arn))
            .env("SIGNER_ADDR", "127.0.0.1:0")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{arn}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("UPLOAD_TOKEN_SECRET_ARN"), "{stderr}");
        assert!(stderr.contains(expected), "{expected}: {stderr}");
        // Nothing of the secret is printed.
        assert!(!stderr.contains("only 20 bytes"), "{stderr}");
    }
}
