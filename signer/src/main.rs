//! `signer`: reads the configuration, then runs under Lambda when `AWS_LAMBDA_RUNTIME_API` is set
//! (as it is in Lambda and under `cargo lambda watch`), or as a local HTTP server otherwise.
//! The only place that reads the environment.

use std::process::ExitCode;
use std::sync::Arc;

use signer::{Config, Signer, lambda, local};

fn main() -> ExitCode {
    let under_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    signer::process::init_tracing(
        std::env::var("RUST_LOG").ok().as_deref(),
        under_lambda,
        std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")),
    );
    let config = match Config::from_lookup(|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("signer: {err}");
            return ExitCode::from(2);
        }
    };
    if config.allowed_origins == signer::config::AllowedOrigins::List(Vec::new()) {
        tracing::warn!("ALLOWED_ORIGINS is not set: browsers on any page will be refused");
    }
    let mut config = config;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("signer: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    // The token secret from Secrets Manager, once, at start: never in the configuration.
    if let Some(arn) = config.token_secret_arn.clone() {
        let region = signer::config::secret_region(&arn)
            .unwrap_or_default()
            .to_string();
        let endpoint = std::env::var("AWS_ENDPOINT_URL_SECRETS_MANAGER").ok();
        let read = runtime.block_on(signer::secrets::fetch(
            &arn,
            &region,
            endpoint.as_deref().filter(|e| !e.trim().is_empty()),
            &config.credentials,
        ));
        match read.and_then(|text| {
            signer::token::TokenSecret::parse(&text).map_err(|why| format!("the secret {why}"))
        }) {
            Ok(secret) => {
                tracing::info!(key_ids = ?secret.key_ids(), "upload token secret read from Secrets Manager");
                config.token_secret = Some(secret);
            }
            Err(err) => {
                eprintln!("signer: cannot read UPLOAD_TOKEN_SECRET_ARN's secret: {err}");
                return ExitCode::from(2);
            }
        }
    }
    if config.token_secret.is_none() {
        tracing::warn!(
            "UPLOAD_TOKEN_SECRET is not set: a secret was made for this run, so upload tokens stop working when the signer stops"
        );
    }
    let auth_issuer = config.auth.as_ref().map(|auth| auth.issuer.clone());
    let mut signer = Signer::new(config);
    // Locally the signer verifies sign-in tokens itself, with the issuer's published keys.
    if let Some(issuer) = auth_issuer.filter(|_| !under_lambda) {
        match runtime.block_on(signer::oidc::fetch_verifier(&issuer)) {
            Ok(verifier) => signer = signer.with_verifier(verifier),
            Err(err) => {
                eprintln!("signer: cannot read the sign-in issuer's keys: {err}");
                return ExitCode::from(2);
            }
        }
    }
    let signer = Arc::new(signer);
    let result = if under_lambda {
        runtime
            .block_on(lambda::run(signer))
            .map_err(|err| err.to_string())
    } else {
        runtime
            .block_on(run_local(signer))
            .map_err(|err| err.to_string())
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("signer: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run_local(signer: Arc<Signer>) -> std::io::Result<()> {
    let listener = local::bind(signer.config().listen).await?;
    let addr = listener.local_addr()?;
    // Tests and scripts read this line to learn the port (SIGNER_ADDR may ask for port 0).
    println!("signer listening on http://{addr}");
    tracing::info!(
        %addr,
        bucket = signer.config().bucket,
        upload_url = signer.config().upload_url,
        "local signer started"
    );
    local::serve(signer, listener, signer::process::shutdown_signal()).await;
    Ok(())
}
