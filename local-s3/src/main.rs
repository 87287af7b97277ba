//! `local-s3`: runs the local S3 server until Ctrl-C. Settings come from flags (see `--help`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use local_s3::store::{EventShape, Notify};

const USAGE: &str = "usage: local-s3 [--addr 127.0.0.1:9000] [--root target/local-s3] [--bucket uploads] \
[--region us-east-1] [--access-key K] [--secret-key S] [--allow-origin ORIGIN]... \
[--notify URL [--notify-prefix uploads/] [--notify-shape eventbridge|records]]";

fn main() -> ExitCode {
    match parse(std::env::args().skip(1)) {
        Ok((config, addr)) => run(config, addr),
        Err(message) => {
            eprintln!("local-s3: {message}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<(local_s3::Config, SocketAddr), String> {
    let mut addr: SocketAddr = ([127, 0, 0, 1], 9000).into();
    let mut config = local_s3::Config {
        root: PathBuf::from("target/local-s3"),
        bucket: "uploads".into(),
        access_key: "devkey".into(),
        secret_key: "devsecret".into(),
        region: "us-east-1".into(),
        allowed_origins: Vec::new(),
        notify: None,
    };
    let (mut notify, mut prefix, mut shape) =
        (None, "uploads/".to_string(), EventShape::EventBridge);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err("help".into());
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => addr = value.parse().map_err(|e| format!("--addr {value}: {e}"))?,
            "--root" => config.root = value.into(),
            "--bucket" => config.bucket = value,
            "--region" => config.region = value,
            "--access-key" => config.access_key = value,
            "--secret-key" => config.secret_key = value,
            "--allow-origin" => config.allowed_origins.push(value),
            // Every stored object under the prefix is announced to URL, as AWS announces it.
            "--notify" => notify = Some(value),
            "--notify-prefix" => prefix = value,
            "--notify-shape" => {
                shape = match value.as_str() {
                    "eventbridge" => EventShape::EventBridge,
                    "records" => EventShape::Records,
                    _ => return Err(format!("--notify-shape {value}: eventbridge or records")),
                }
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    config.notify = notify.map(|url| Notify { url, prefix, shape });
    Ok((config, addr))
}

#[tokio::main]
async fn run(config: local_s3::Config, addr: SocketAddr) -> ExitCode {
    let bucket = config.bucket.clone();
    let server = match local_s3::start(config, addr).await {
        Ok(server) => server,
        Err(err) => {
            eprintln!("local-s3: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "local-s3 listening on {} (bucket {bucket})",
        server.endpoint()
    );
    let _ = tokio::signal::ctrl_c().await;
    server.stop().await;
    ExitCode::SUCCESS
}
