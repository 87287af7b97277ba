//! `hook`: reads the configuration, then runs under Lambda when `AWS_LAMBDA_RUNTIME_API` is set
//! (an invocation per event, from EventBridge or a bucket notification), or as a local HTTP
//! endpoint that takes the same events (local-s3's `--notify`, radosgw's bucket notifications).
//! The only place that reads the environment, and the only one that knows `lambda_runtime`.

use std::process::ExitCode;
use std::sync::Arc;

use hook::{Config, Hook, Outcome, local};
use lambda_runtime::{LambdaEvent, service_fn};

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
            eprintln!("hook: {err}");
            return ExitCode::from(2);
        }
    };
    let hook = Arc::new(Hook::new(config));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("hook: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = if under_lambda {
        runtime.block_on(run_lambda(hook))
    } else {
        runtime.block_on(run_local(hook))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("hook: {err}");
            ExitCode::FAILURE
        }
    }
}

/// One invocation per event. A failure (storage unreachable, a result not written) fails the
/// invocation: Lambda tries it again, then the stack's dead-letter queue keeps the event.
async fn run_lambda(hook: Arc<Hook>) -> Result<(), String> {
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let hook = Arc::clone(&hook);
        async move {
            let outcomes = hook
                .handle(&event.payload)
                .await
                .map_err(lambda_runtime::Error::from)?;
            let judged = outcomes
                .iter()
                .filter(|o| matches!(o, Outcome::Judged(_)))
                .count();
            Ok::<_, lambda_runtime::Error>(serde_json::json!({
                "objects": outcomes.len(),
                "judged": judged,
            }))
        }
    }))
    .await
    .map_err(|err| err.to_string())
}

async fn run_local(hook: Arc<Hook>) -> Result<(), String> {
    let listener = local::bind(hook.config().listen)
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Tests and scripts read this line to learn the port (HOOK_ADDR may ask for port 0).
    println!("hook listening on http://{addr}");
    tracing::info!(
        %addr,
        bucket = hook.config().bucket,
        results = hook.config().results_prefix,
        "local hook started"
    );
    local::serve(hook, listener, signer::process::shutdown_signal()).await;
    Ok(())
}
