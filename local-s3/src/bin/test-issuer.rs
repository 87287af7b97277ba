//! `test-issuer`: the test OIDC issuer (`local_s3::issuer`) until Ctrl-C or SIGTERM, for
//! `cargo xtask dev --auth` and the end-to-end suite. Prints `test-issuer listening on <url>`.

use std::net::SocketAddr;
use std::process::ExitCode;

const USAGE: &str = "usage: test-issuer [--addr 127.0.0.1:9002] [--token-seconds 3600]";

#[tokio::main]
async fn main() -> ExitCode {
    let mut addr: SocketAddr = ([127, 0, 0, 1], 9002).into();
    let mut config = local_s3::issuer::IssuerConfig {
        token_seconds: 3600,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next();
        let parsed = match (flag.as_str(), value) {
            ("--addr", Some(v)) => v.parse().map(|a| addr = a).map_err(|e| format!("{e}")),
            ("--token-seconds", Some(v)) => v
                .parse()
                .map(|s| config.token_seconds = s)
                .map_err(|e| format!("{e}")),
            _ => Err(format!("unknown flag {flag}")),
        };
        if let Err(err) = parsed {
            eprintln!("test-issuer: {err}\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    let issuer = match local_s3::issuer::start(config, addr).await {
        Ok(issuer) => issuer,
        Err(err) => {
            eprintln!("test-issuer: cannot listen on {addr}: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("test-issuer listening on {}", issuer.url());
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        } else {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
    drop(issuer);
    ExitCode::SUCCESS
}
