//! Helpers for the signer's integration tests: `signer`, the pure tests' signer; `local_s3`'s minimal blocking HTTP/1.1 client (so
//! the tests send exactly the bytes they mean to, forged ones included), a multipart/form-data
//! builder, and a guard that runs the signer binary in local mode and stops it when dropped.

#![allow(dead_code)]

pub mod stack;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

pub use local_s3::client::HttpResponse;
use signer::{Config, Signer};

/// The variables every pure test's signer starts from: a bucket, a region and keys.
const BASE: [(&str, &str); 4] = [
    ("UPLOAD_BUCKET", "test-bucket"),
    ("AWS_REGION", "us-east-1"),
    ("AWS_ACCESS_KEY_ID", "AKID"),
    ("AWS_SECRET_ACCESS_KEY", "SECRET"),
];

/// A signer for the tests that call `Signer::handle` or `begin` directly (no process): `BASE`
/// with `vars` over it (a variable in `vars` replaces the base's).
pub fn signer(vars: &[(&str, &str)]) -> Signer {
    let mut all: Vec<(&str, &str)> = BASE
        .into_iter()
        .filter(|(name, _)| !vars.iter().any(|(given, _)| given == name))
        .collect();
    all.extend_from_slice(vars);
    Signer::new(Config::from_pairs(&all).unwrap_or_else(|e| panic!("a test config: {e}")))
}

/// Sends one request on a fresh connection (`Connection: close`) and reads the whole answer.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    local_s3::client::request(addr, method, path, headers, body).unwrap_or_else(|e| panic!("{e}"))
}

pub fn json(response: &HttpResponse) -> serde_json::Value {
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", response.text()))
}

/// A multipart/form-data body: the fields in order, then the file part last.
pub fn multipart(
    fields: &[(String, String)],
    file_name: &str,
    file_type: &str,
    file: &[u8],
) -> (String, Vec<u8>) {
    let boundary = "----signer-test-boundary-7d1f0c";
    let mut body = Vec::with_capacity(file.len() + 4096);
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {file_type}\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The signer binary in local mode; killed when dropped.
pub struct SignerProcess {
    child: Child,
    pub addr: SocketAddr,
}

impl SignerProcess {
    /// Starts `signer` with these variables (and `SIGNER_ADDR=127.0.0.1:0`) and waits for its
    /// "listening" line.
    pub fn start(vars: &[(&str, &str)]) -> SignerProcess {
        SignerProcess::spawn(vars, Stdio::inherit())
    }

    /// The same, with its standard error kept for [`SignerProcess::stop_and_read_stderr`].
    pub fn start_with_stderr(vars: &[(&str, &str)]) -> SignerProcess {
        SignerProcess::spawn(vars, Stdio::piped())
    }

    /// Stops the signer and returns all it wrote to standard error.
    pub fn stop_and_read_stderr(&mut self) -> String {
        let _ = self.child.kill();
        let mut text = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        }
        let _ = self.child.wait();
        text
    }

    fn spawn(vars: &[(&str, &str)], stderr: Stdio) -> SignerProcess {
        let mut command = Command::new(env!("CARGO_BIN_EXE_signer"));
        command
            .env_clear()
            .env("SIGNER_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (name, value) in vars {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start the signer");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .rsplit("http://")
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from the signer: {line:?}"));
        SignerProcess { child, addr }
    }
}

impl Drop for SignerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
