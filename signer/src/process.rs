//! What the project's binaries (the signer, the after-upload hook) do alike as processes: their
//! logs, and the signal that stops a local server. Their `main.rs` reads the environment and
//! passes what it found in.

/// Logs to stderr at `filter` (`RUST_LOG`'s value, else `info`). Under Lambda without times
/// (CloudWatch adds its own) and, with Lambda's JSON log format (`AWS_LAMBDA_LOG_FORMAT=JSON`,
/// which the stack sets), one JSON object a line with the fields of the runtime's invoke span,
/// whose `requestId` ties each line to its request.
pub fn init_tracing(filter: Option<&str>, under_lambda: bool, json: bool) {
    let filter = filter
        .and_then(|f| tracing_subscriber::EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    if under_lambda && json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .without_time()
            .init();
    } else if under_lambda {
        builder.without_time().with_ansi(false).init();
    } else {
        builder.init();
    }
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
