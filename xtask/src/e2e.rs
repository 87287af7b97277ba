//! The end-to-end suites (`e2e/`): each browser against each store, run side by side, each
//! radosgw suite with a cluster of its own; and the one command line every suite runs with.

use super::*;

/// One run of the end-to-end suite (e2e/): the release page in one browser against one store.
struct Suite {
    name: String,
    env: Env,
    /// The suite's own radosgw cluster (the suite runs its gateway and stops it in the S3-down
    /// scenarios, so no two suites share one); stopped when the suite is dropped.
    _cluster: Option<local_s3::radosgw::Radosgw>,
}

/// The end-to-end suites: with `local`, Chromium against local-s3; with `strict`, Chromium,
/// Firefox and WebKit (those installed: `tools::ensure_other_browsers`) against Ceph radosgw,
/// each with a cluster of its own. `E2E_BROWSERS=chromium,webkit` runs only those browsers.
/// The suites run side by side: most of a suite's time is waiting (throttled uploads, stall
/// timeouts, S3 stopped for 20 s), so together they take little longer than the longest.
pub(crate) fn end_to_end(local: bool, strict: bool) -> Result<(), String> {
    let mut build = cargo();
    build.args(["build", "-p", "local-s3", "-p", "signer", "-p", "hook"]);
    run(build)?;
    let chosen = std::env::var("E2E_BROWSERS").ok();
    let wanted = |browser: &str| {
        chosen
            .as_deref()
            .is_none_or(|list| list.split(',').any(|b| b.trim() == browser))
    };
    let mut browsers = vec!["chromium"];
    if strict && (wanted("firefox") || wanted("webkit")) {
        browsers.extend(tools::ensure_other_browsers()?);
    }
    browsers.retain(|b| wanted(b));
    let mut suites = Vec::new();
    if local && browsers.contains(&"chromium") {
        suites.push(Suite {
            name: "chromium, local-s3".into(),
            env: vec![("UPLOADER_BROWSER", "chromium".into())],
            _cluster: None,
        });
    }
    if strict {
        for browser in browsers {
            let (cluster, mut env) = radosgw_for_e2e(browser)?;
            env.push(("UPLOADER_BROWSER", browser.into()));
            suites.push(Suite {
                name: format!("{browser}, radosgw"),
                env,
                _cluster: Some(cluster),
            });
        }
    }
    run_suites(&root().join("target").join("debug"), suites)
}

/// Runs `suites` side by side, each one's output kept in target/e2e/ and printed whole when all
/// have ended; an error naming those that failed.
fn run_suites(bin: &Path, suites: Vec<Suite>) -> Result<(), String> {
    npm_ci()?;
    let logs = root().join("target").join("e2e");
    std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let mut running = Vec::new();
    for suite in &suites {
        let log = logs.join(format!("{}.tap", suite.name.replace(", ", "-")));
        let out = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut command = suite_command("test", bin, &suite.env);
        command.stdout(out).stderr(err);
        println!(
            "xtask: end-to-end suite in {} (output: {})",
            suite.name,
            log.display()
        );
        let started = std::time::Instant::now();
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start the end-to-end suite: {e}"))?;
        running.push((suite, log, child, started));
    }
    // Each suite's time as it ends, then each one's output in order.
    let mut ended = vec![None; running.len()];
    while ended.iter().any(Option::is_none) {
        for (i, (_, _, child, started)) in running.iter_mut().enumerate() {
            if ended[i].is_none()
                && let Some(status) = child.try_wait().map_err(|e| e.to_string())?
            {
                ended[i] = Some((status, started.elapsed().as_secs()));
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let mut failed = Vec::new();
    let mut times = Vec::new();
    for ((suite, log, _, _), result) in running.into_iter().zip(ended) {
        let (status, seconds) = result.expect("every suite has ended");
        times.push(format!("{}: {seconds} s", suite.name));
        println!("\n==== end-to-end suite in {} ====", suite.name);
        print!("{}", std::fs::read_to_string(&log).unwrap_or_default());
        if !status.success() {
            failed.push(suite.name.clone());
        }
    }
    println!("xtask: end-to-end suites took {}", times.join("; "));
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("end-to-end suite failed in {}", failed.join("; ")))
    }
}

/// Variables for a child process.
type Env = Vec<(&'static str, String)>;

/// A cluster for e2e/stack.mjs (its own folder under target/, by `name`), its gateway stopped
/// (the stack runs its own), and the variables that point the stack at it. The cluster stops
/// when the `Radosgw` is dropped.
pub(crate) fn radosgw_for_e2e(name: &str) -> Result<(local_s3::radosgw::Radosgw, Env), String> {
    use local_s3::radosgw::{Options, Radosgw};
    let (access_key, secret_key) = (
        "AKIAUPLOADERE2E00000",
        "uploaderE2eSecretKey0000000000000000000",
    );
    let mut rgw = Radosgw::start(Options {
        dir: root().join("target").join(format!("radosgw-e2e-{name}")),
        bucket: "e2e-uploads".into(),
        access_key: access_key.into(),
        secret_key: secret_key.into(),
        allowed_origins: Vec::new(),
    })?;
    let session = rgw.session_credentials(3600)?;
    // The bucket's notifications push each stored upload to the hook each stack runs there.
    let hook_port = deploy::free_port()?;
    rgw.notify(&format!("http://127.0.0.1:{hook_port}/"), "uploads/")?;
    rgw.stop_gateway();
    let env = vec![
        ("UPLOADER_HOOK_PORT", hook_port.to_string()),
        ("UPLOADER_S3", "radosgw".to_string()),
        ("UPLOADER_RGW_CONF", rgw.conf().display().to_string()),
        ("UPLOADER_RGW_NAME", rgw.gateway_name().to_string()),
        ("UPLOADER_RGW_PORT", rgw.addr().port().to_string()),
        ("UPLOADER_RGW_BUCKET", rgw.bucket().to_string()),
        ("UPLOADER_RGW_ACCESS_KEY", access_key.to_string()),
        ("UPLOADER_RGW_SECRET_KEY", secret_key.to_string()),
        ("UPLOADER_SIGNER_ACCESS_KEY", session.access_key.clone()),
        ("UPLOADER_SIGNER_SECRET_KEY", session.secret_key.clone()),
        (
            "UPLOADER_SIGNER_SESSION_TOKEN",
            session.session_token.clone().unwrap_or_default(),
        ),
    ];
    Ok((rgw, env))
}

pub(crate) fn npm_ci() -> Result<(), String> {
    let mut install = Command::new("npm");
    install
        .current_dir(root().join("e2e"))
        .args(["ci", "--no-audit", "--no-fund"]);
    run(install).map_err(|e| format!("{e}; the end-to-end tests need Node.js and npm"))
}

/// `npm run <script>` in e2e/, with the binaries from `bin`, the page from dist/, and `env`.
pub(crate) fn run_e2e(script: &str, bin: &Path, env: &[(&str, String)]) -> Result<(), String> {
    npm_ci()?;
    run(suite_command(script, bin, env))
}

/// `npm run <script>` in e2e/ (`E2E_ONLY=<regex>`: only the scenarios whose names match, while
/// working on them), with the binaries from `bin`, the page from dist/, and `env`.
pub(crate) fn suite_command(script: &str, bin: &Path, env: &[(&str, String)]) -> Command {
    let e2e = root().join("e2e");
    let only = std::env::var("E2E_ONLY").ok().filter(|_| script == "test");
    let mut suite = match only {
        Some(pattern) => {
            let mut node = Command::new("node");
            // As `npm test` (each scenario has its own five-minute timeout: `test` in stack.mjs).
            node.args(["--test", "--test-concurrency=1"])
                .arg(format!("--test-name-pattern={pattern}"))
                .arg("tests/");
            node
        }
        None => {
            let mut npm = Command::new("npm");
            npm.args(["run", script]);
            npm
        }
    };
    suite
        .current_dir(&e2e)
        .env("UPLOADER_S3_BIN", bin.join("local-s3"))
        .env("UPLOADER_SIGNER_BIN", bin.join("signer"))
        .env("UPLOADER_HOOK_BIN", bin.join("hook"))
        .env("UPLOADER_ISSUER_BIN", bin.join("test-issuer"))
        .env("UPLOADER_DIST", root().join("dist"))
        .env("UPLOADER_CHROMIUM", tools::CHROMIUM)
        .env("UPLOADER_FIREFOX", tools::FIREFOX)
        .env("UPLOADER_MINIBROWSER", tools::MINIBROWSER)
        .envs(env.iter().map(|(k, v)| (k, v)));
    suite
}
