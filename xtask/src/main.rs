//! `cargo xtask <command>`: the project's two set-up commands.
//!
//! - `dev`: builds and starts the local stack on 127.0.0.1 (an S3 server that verifies POST
//!   policies, and the signer pointed at it), prints where everything is, and stops it all on Ctrl-C.
//! - `test`: runs every test the project has (and checks that the shared contract builds for the
//!   page's `wasm32` target).
//!
//! Plain `std` only, so it builds in seconds on a fresh machine.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const S3_ADDR: &str = "127.0.0.1:9000";
const SIGNER_ADDR: &str = "127.0.0.1:9001";
const PAGE_ORIGIN: &str = "http://127.0.0.1:8080";
const BUCKET: &str = "uploads";
const DEV_ACCESS_KEY: &str = "devkey";
const DEV_SECRET_KEY: &str = "devsecret";
const REGION: &str = "us-east-1";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dev") => dev(),
        Some("test") => test(),
        _ => Err("usage: cargo xtask dev | cargo xtask test".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root());
    command
}

fn run(mut command: Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    eprintln!("xtask: running {shown}");
    let status = command
        .status()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

/// Every test: native unit, property, Lambda-event and S3 integration tests, then a `wasm32` build
/// of the page's side of the contract.
fn test() -> Result<(), String> {
    ensure_wasm_target()?;
    let mut native = cargo();
    native.args(["test", "--workspace", "--all-targets"]);
    run(native)?;
    let mut wasm = cargo();
    wasm.args([
        "build",
        "-p",
        "frontend",
        "--target",
        "wasm32-unknown-unknown",
    ]);
    run(wasm)
}

fn ensure_wasm_target() -> Result<(), String> {
    let installed = Command::new("rustup")
        .current_dir(root())
        .args(["target", "list", "--installed"])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).contains("wasm32-unknown-unknown"))
        .unwrap_or(false);
    if installed {
        return Ok(());
    }
    let mut add = Command::new("rustup");
    add.current_dir(root())
        .args(["target", "add", "wasm32-unknown-unknown"]);
    run(add).map_err(|e| {
        format!("{e}; install rustup (https://rustup.rs) or add the wasm32-unknown-unknown target")
    })
}

/// A child process that is killed when dropped, so Ctrl-C or an early error never leaves one behind.
struct Service {
    name: &'static str,
    child: Child,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a built binary and waits for its first stdout line (its "listening on" line). If it exits
/// first (a port in use, a bad setting), its own error has gone to stderr and this says which one failed.
fn start(name: &'static str, mut command: Command) -> Result<(Service, String), String> {
    command.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {name}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = sender.send(lines.next().and_then(Result::ok));
        // Keep draining so the child never blocks on a full pipe.
        for _ in lines {}
    });
    let service = Service { name, child };
    match receiver.recv_timeout(Duration::from_secs(30)) {
        Ok(Some(line)) => Ok((service, line)),
        _ => Err(format!("{name} did not start (see its error above)")),
    }
}

fn dev() -> Result<(), String> {
    let mut build = cargo();
    build.args(["build", "-p", "local-s3", "-p", "signer"]);
    run(build)?;
    let bin = root().join("target").join("debug");
    let data = root().join("target").join("local-s3");

    let mut s3 = Command::new(bin.join("local-s3"));
    s3.args(["--addr", S3_ADDR, "--bucket", BUCKET, "--region", REGION])
        .args([
            "--access-key",
            DEV_ACCESS_KEY,
            "--secret-key",
            DEV_SECRET_KEY,
        ])
        .args(["--allow-origin", PAGE_ORIGIN])
        .arg("--root")
        .arg(&data);
    let (s3, s3_line) = start("local-s3", s3)?;

    let mut signer = Command::new(bin.join("signer"));
    signer
        .env("UPLOAD_BUCKET", BUCKET)
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", DEV_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", DEV_SECRET_KEY)
        .env_remove("AWS_SESSION_TOKEN")
        .env("S3_ENDPOINT", format!("http://{S3_ADDR}"))
        .env("ALLOWED_ORIGINS", PAGE_ORIGIN)
        .env("SIGNER_ADDR", SIGNER_ADDR);
    let (signer, signer_line) = start("signer", signer)?;

    println!("{s3_line}\n{signer_line}");
    println!("objects are stored under {}", data.join(BUCKET).display());
    println!(
        "try: curl -s -X POST http://{SIGNER_ADDR}/sign -d '{{\"filename\":\"cat.png\",\"contentType\":\"image/png\",\"size\":12}}'"
    );
    println!("press Ctrl-C to stop");
    wait_for_exit(vec![s3, signer])
}

/// Returns when a service exits on its own (an error) or when Ctrl-C reaches the whole process
/// group: the children get the same signal and stop cleanly; the guards reap them.
fn wait_for_exit(mut services: Vec<Service>) -> Result<(), String> {
    loop {
        for service in &mut services {
            if let Ok(Some(status)) = service.child.try_wait() {
                return if status.success() {
                    Ok(())
                } else {
                    Err(format!("{} stopped ({status})", service.name))
                };
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
