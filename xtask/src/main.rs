//! `cargo xtask <command>`: the project's set-up commands.
//!
//! - `dev`: installs what is missing, then starts the local stack on 127.0.0.1 (an S3 server that
//!   verifies POST policies and announces every stored upload to the after-upload hook, the hook,
//!   the signer pointed at it, and `trunk serve` for the page), prints the page's URL, and stops
//!   it all on Ctrl-C. `dev --auth`: the same with the signer's
//!   authenticated mode and the test OIDC issuer (local-s3's `test-issuer`) on 127.0.0.1:9002.
//! - `test`: installs what is missing, then runs every test: native, the page's browser tests in
//!   headless Chromium, the page's release build with its size budget, and the end-to-end suite.
//!   On Linux it also runs the strict S3 suites against Ceph radosgw (installed with apt when
//!   root; skipped with the reason elsewhere).
//! - `e2e`: only the end-to-end suites: Chromium against local-s3, and Chromium, Firefox and
//!   WebKit against radosgw, side by side (`E2E_BROWSERS=firefox,webkit`: only those).
//! - `radosgw`: only the strict S3 suites: the signer's forms and the end-to-end suite against a
//!   one-node Ceph radosgw (`radosgw e2e`: the end-to-end suite only).
//! - `size`: builds the page for release and prints its size report.
//! - `bench`: the upload throughput benchmark (e2e/bench.mjs) with release builds of everything;
//!   `bench md5`: the page's MD5 speed in headless Chromium (`frontend/tests/md5_speed.rs`).
//! - `package`, `deploy --stack NAME --region REGION`, `teardown --stack NAME --region REGION`:
//!   the AWS deployment (see `deploy.rs`); `check-deploy` its offline checks (also part of `test`).

mod deploy;
mod e2e;
mod echo;
mod fnv;
mod size;
mod tools;

use e2e::{end_to_end, radosgw_for_e2e, run_e2e};

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const S3_ADDR: &str = "127.0.0.1:9000";
const SIGNER_ADDR: &str = "127.0.0.1:9001";
/// The after-upload hook's local endpoint: local-s3 announces each stored upload to it.
const HOOK_ADDR: &str = "127.0.0.1:9003";
/// `dev --auth`: the test sign-in provider, and the client id the page signs in as.
const ISSUER_ADDR: &str = "127.0.0.1:9002";
const DEV_CLIENT_ID: &str = "dev-page";
const PAGE_ADDR: &str = "127.0.0.1:8080";
/// The page as `trunk serve` shows it, under both names a developer may type.
const PAGE_ORIGINS: [&str; 2] = ["http://127.0.0.1:8080", "http://localhost:8080"];
const BUCKET: &str = "uploads";
const DEV_ACCESS_KEY: &str = "devkey";
const DEV_SECRET_KEY: &str = "devsecret";
const REGION: &str = "us-east-1";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dev") => dev(args.get(1).map(String::as_str) == Some("--auth")),
        Some("test") => test(),
        Some("radosgw") => radosgw(args.get(1).map(String::as_str) == Some("e2e")),
        Some("e2e") => e2e(),
        Some("browser") => tools::ensure_page_tools()
            .and_then(|()| tools::ensure_browser())
            .and_then(|()| browser_tests()),
        Some("size") => size(),
        Some("bench") => bench(args.get(1).map(String::as_str)),
        Some("package") => deploy::package(),
        Some("deploy") => deploy::deploy(&args[1..]),
        Some("teardown") => deploy::teardown(&args[1..]),
        Some("check-deploy") => deploy::offline_checks(),
        _ => Err(
            "usage: cargo xtask dev [--auth] | test | e2e | radosgw [e2e] | browser | size | bench [radosgw | md5] \
             | package | deploy | teardown | check-deploy"
                .to_string(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn root() -> PathBuf {
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

pub(crate) fn run(mut command: Command) -> Result<(), String> {
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

/// Every test: native unit, property, Lambda-event and S3 integration tests; the page's browser
/// tests in headless Chromium; the page's release build (offline) within its size budget; the
/// end-to-end suite.
fn test() -> Result<(), String> {
    tools::ensure_page_tools()?;
    tools::ensure_browser()?;
    let strict = tools::ensure_radosgw()?;
    let mut native = cargo();
    native.args(["test", "--workspace", "--all-targets"]);
    run(native)?;
    if strict {
        signer_against_radosgw()?;
    }
    signer_against_secrets_manager()?;
    browser_tests()?;
    let gzip = build_page_and_report()?;
    if gzip as f64 / 1000.0 > size::LIMIT_GZIP_KB {
        return Err(format!(
            "the page is {gzip} bytes gzip, over the {} KB limit",
            size::LIMIT_GZIP_KB
        ));
    }
    end_to_end(true, strict)?;
    deploy::offline_checks()
}

/// The page's browser tests (frontend/tests/browser.rs): XHR uploads from headless Chromium to
/// the echo server, whose URL is compiled into the test binary.
/// The page's MD5 speed in headless Chromium (`frontend/tests/md5_speed.rs`, a release build).
fn md5_speed() -> Result<(), String> {
    let mut bench = cargo();
    bench
        .args([
            "test",
            "--release",
            "-p",
            "frontend",
            "--target",
            "wasm32-unknown-unknown",
            "--test",
            "md5_speed",
            "--",
            "--nocapture",
        ])
        .env("PATH", tools::path_with_tools())
        .env("CHROMEDRIVER", tools::CHROMEDRIVER)
        .env_remove("GECKODRIVER")
        .env_remove("SAFARIDRIVER")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "300");
    run(bench)
}

fn browser_tests() -> Result<(), String> {
    let echo =
        echo::EchoServer::start().map_err(|e| format!("cannot start the echo server: {e}"))?;
    let mut browser = cargo();
    browser
        .args([
            "test",
            "-p",
            "frontend",
            "--target",
            "wasm32-unknown-unknown",
            "--test",
            "browser",
        ])
        .env("PATH", tools::path_with_tools())
        .env("UPLOADER_ECHO_URL", echo.url())
        .env("CHROMEDRIVER", tools::CHROMEDRIVER)
        .env_remove("GECKODRIVER")
        .env_remove("SAFARIDRIVER")
        // The runner's timeout covers the whole suite (about 10 s here).
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120");
    run(browser)?;
    drop(echo);
    Ok(())
}

/// The end-to-end suites alone: every browser, against local-s3 and (on Linux) radosgw.
fn e2e() -> Result<(), String> {
    tools::ensure_page_tools()?;
    tools::ensure_browser()?;
    let strict = tools::ensure_radosgw()?;
    build_page_and_report()?;
    end_to_end(true, strict)
}

/// The strict S3 suites alone (`e2e_only`: `cargo xtask radosgw e2e`, the end-to-end suite only).
fn radosgw(e2e_only: bool) -> Result<(), String> {
    if !tools::ensure_radosgw()? {
        return Err("Ceph's radosgw is not available here".into());
    }
    tools::ensure_page_tools()?;
    tools::ensure_browser()?;
    if !e2e_only {
        signer_against_radosgw()?;
    }
    build_page_and_report()?;
    end_to_end(false, true)
}

/// The signer, then the after-upload hook with radosgw's own bucket notifications, against Ceph
/// radosgw (signer/tests/radosgw.rs and hook/tests/radosgw.rs each start and stop a cluster), in
/// one cargo run: their features are compiled in once.
fn signer_against_radosgw() -> Result<(), String> {
    let mut suite = cargo();
    suite.args([
        "test",
        "-p",
        "signer",
        "-p",
        "hook",
        "--features",
        "signer/radosgw-tests,hook/radosgw-tests",
        "--test",
        "radosgw",
    ]);
    run(suite)
}

/// The signer reading its token secret from Secrets Manager (moto's server on loopback).
fn signer_against_secrets_manager() -> Result<(), String> {
    let moto = tools::ensure_moto()?;
    let mut suite = cargo();
    suite
        .args([
            "test",
            "-p",
            "signer",
            "--features",
            "signer/secrets-manager-tests",
            "--test",
            "secrets_manager",
        ])
        .env("MOTO_SERVER", moto);
    run(suite)
}

/// Upload throughput: the page vs a bare XHR page vs curl, against release builds of the signer
/// and local-s3, or with `radosgw` against Ceph radosgw (the S3 the issue's figures come from).
fn bench(server: Option<&str>) -> Result<(), String> {
    tools::ensure_page_tools()?;
    tools::ensure_browser()?;
    if server == Some("md5") {
        return md5_speed();
    }
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "-p",
        "local-s3",
        "-p",
        "signer",
        "-p",
        "hook",
    ]);
    run(build)?;
    build_page_and_report()?;
    let release = root().join("target").join("release");
    match server {
        None | Some("local-s3") => run_e2e("bench", &release, &[]),
        Some("radosgw") => {
            if !tools::ensure_radosgw()? {
                return Err("Ceph's radosgw is not available here".into());
            }
            let (_rgw, env) = radosgw_for_e2e("bench")?;
            run_e2e("bench", &release, &env)
        }
        Some(other) => Err(format!(
            "cargo xtask bench [local-s3 | radosgw | md5]: no server {other:?}"
        )),
    }
}

fn size() -> Result<(), String> {
    tools::ensure_page_tools()?;
    build_page_and_report().map(drop)
}

/// `trunk build --release` into `dist/`, then the size report; the gzip total.
pub(crate) fn build_page_and_report() -> Result<usize, String> {
    let mut trunk = Command::new("trunk");
    trunk
        .current_dir(root())
        .env("PATH", tools::path_with_tools())
        .args(["build", "--release", "--offline"]);
    run(trunk)?;
    minify_scripts(&root().join("dist"))?;
    size::report(&root().join("dist"))
}

/// Minifies the page's scripts with esbuild (e2e's npm dependency): trunk's own minifier fails
/// on wasm-bindgen's glue (`Failed to minify JS`, an `export default`) and leaves it whole, and
/// keeps `sign-in.js` as written. Measured: 2.5 KB gzip less. The `integrity` hashes trunk wrote
/// into index.html are made again for the minified bytes.
fn minify_scripts(dist: &Path) -> Result<(), String> {
    use base64::Engine;
    use sha2::{Digest, Sha384};
    let e2e = root().join("e2e");
    let esbuild = e2e.join("node_modules").join(".bin").join("esbuild");
    if !esbuild.exists() {
        let mut install = Command::new("npm");
        install
            .current_dir(&e2e)
            .args(["ci", "--no-audit", "--no-fund"]);
        run(install).map_err(|e| format!("{e}; minifying the page needs Node.js and npm"))?;
    }
    let index_path = dist.join("index.html");
    let mut index = std::fs::read_to_string(&index_path).map_err(|e| format!("index.html: {e}"))?;
    let scripts: Vec<PathBuf> = std::fs::read_dir(dist)
        .map_err(|e| format!("{}: {e}", dist.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "js"))
        .collect();
    let integrity = |bytes: &[u8]| {
        format!(
            "sha384-{}",
            base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes))
        )
    };
    for script in scripts {
        let before = std::fs::read(&script).map_err(|e| format!("{}: {e}", script.display()))?;
        let mut minify = Command::new(&esbuild);
        minify
            .arg(&script)
            .arg("--minify")
            .arg("--log-level=warning")
            .arg(format!("--outfile={}", script.display()))
            .arg("--allow-overwrite");
        run(minify)?;
        let after = std::fs::read(&script).map_err(|e| format!("{}: {e}", script.display()))?;
        index = index.replace(&integrity(&before), &integrity(&after));
    }
    std::fs::write(&index_path, index).map_err(|e| format!("index.html: {e}"))
}

/// A child process that is killed when dropped, so Ctrl-C or an early error never leaves one behind.
struct Service {
    name: &'static str,
    child: Child,
}

impl Drop for Service {
    /// Asks the child to stop (SIGTERM: the servers finish open requests), then kills it if it
    /// is still there after 5 s.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            for _ in 0..50 {
                if !matches!(self.child.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
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

/// A clear error when a port the stack needs is taken.
fn check_free(addr: &str, what: &str) -> Result<(), String> {
    TcpListener::bind(addr).map(drop).map_err(|e| {
        format!("{addr} is not free for {what} ({e}); is another `cargo xtask dev` running?")
    })
}

fn dev(auth: bool) -> Result<(), String> {
    // From here on Ctrl-C, SIGTERM and SIGHUP stop the stack through the services' guards.
    let (stop, stopped) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop.send(());
    })
    .map_err(|e| format!("cannot handle Ctrl-C: {e}"))?;
    check_free(S3_ADDR, "the local S3 server")?;
    check_free(SIGNER_ADDR, "the signer")?;
    check_free(HOOK_ADDR, "the after-upload hook")?;
    check_free(PAGE_ADDR, "the page (trunk serve)")?;
    if auth {
        check_free(ISSUER_ADDR, "the test sign-in provider")?;
    }
    tools::ensure_page_tools()?;
    let mut build = cargo();
    build.args(["build", "-p", "local-s3", "-p", "signer", "-p", "hook"]);
    run(build)?;
    let bin = root().join("target").join("debug");
    let data = root().join("target").join("local-s3");

    // The hook first: local-s3 announces every stored upload to it from the start.
    let mut hook = Command::new(bin.join("hook"));
    hook.env("UPLOAD_BUCKET", BUCKET)
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", DEV_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", DEV_SECRET_KEY)
        .env_remove("AWS_SESSION_TOKEN")
        .env("S3_ENDPOINT", format!("http://{S3_ADDR}"))
        .env("HOOK_ADDR", HOOK_ADDR);
    let (hook, hook_line) = start("hook", hook)?;

    let mut s3 = Command::new(bin.join("local-s3"));
    s3.args(["--addr", S3_ADDR, "--bucket", BUCKET, "--region", REGION])
        .args([
            "--access-key",
            DEV_ACCESS_KEY,
            "--secret-key",
            DEV_SECRET_KEY,
        ])
        .args([
            "--allow-origin",
            PAGE_ORIGINS[0],
            "--allow-origin",
            PAGE_ORIGINS[1],
        ])
        .args(["--notify", &format!("http://{HOOK_ADDR}/")])
        .arg("--root")
        .arg(&data);
    let (s3, s3_line) = start("local-s3", s3)?;
    let mut services = vec![hook, s3];
    let issuer_url = format!("http://{ISSUER_ADDR}");
    if auth {
        let mut issuer = Command::new(bin.join("test-issuer"));
        issuer.args(["--addr", ISSUER_ADDR]);
        let (issuer, line) = start("test-issuer", issuer)?;
        println!("{line} (anyone may sign in as anyone: for development only)");
        services.push(issuer);
    }

    let mut signer = Command::new(bin.join("signer"));
    signer
        .env("UPLOAD_BUCKET", BUCKET)
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", DEV_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", DEV_SECRET_KEY)
        .env_remove("AWS_SESSION_TOKEN")
        .env("S3_ENDPOINT", format!("http://{S3_ADDR}"))
        .env("ALLOWED_ORIGINS", PAGE_ORIGINS.join(","))
        .env("SIGNER_ADDR", SIGNER_ADDR);
    if auth {
        signer
            .env("AUTH_ISSUER", &issuer_url)
            .env("AUTH_AUDIENCE", DEV_CLIENT_ID);
    }
    let (signer, signer_line) = start("signer", signer)?;

    println!("{s3_line}\n{signer_line}\n{hook_line}");

    // The page's config.json (frontend/config.json) points at the signer above.
    let mut trunk = Command::new("trunk");
    trunk
        .current_dir(root())
        .env("PATH", tools::path_with_tools())
        .args([
            "serve",
            "--offline",
            "--address",
            "127.0.0.1",
            "--port",
            "8080",
        ]);
    trunk.stdout(Stdio::null()).stderr(Stdio::inherit());
    let child = trunk
        .spawn()
        .map_err(|e| format!("cannot start trunk: {e}"))?;
    let page = Service {
        name: "trunk serve",
        child,
    };
    services.push(signer);
    services.push(page);
    eprintln!("xtask: building the page (the first build takes a few minutes)...");
    wait_for_port(PAGE_ADDR, &mut services, &stopped)?;
    println!("objects are stored under {}", data.join(BUCKET).display());
    println!(
        "after each upload the hook writes its result (SHA-256, type, verdict) to {}",
        data.join(BUCKET).join("results").display()
    );
    println!("the uploader is at http://{PAGE_ADDR}/ (press Ctrl-C to stop)");
    wait_for_exit(services, &stopped)
}

/// Waits until something accepts connections on `addr`, or a service dies.
fn wait_for_port(
    addr: &str,
    services: &mut [Service],
    stopped: &mpsc::Receiver<()>,
) -> Result<(), String> {
    let addr: SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        for service in services.iter_mut() {
            if let Ok(Some(status)) = service.child.try_wait() {
                return Err(format!("{} stopped ({status})", service.name));
            }
        }
        if stopped.recv_timeout(Duration::from_millis(500)).is_ok() {
            return Err("stopped before the page was ready".into());
        }
    }
}

/// Returns when a service exits on its own (an error) or on Ctrl-C, SIGTERM or SIGHUP; the
/// services' guards then stop every child, so none is left running.
fn wait_for_exit(mut services: Vec<Service>, stopped: &mpsc::Receiver<()>) -> Result<(), String> {
    loop {
        for service in &mut services {
            if let Ok(Some(status)) = service.child.try_wait() {
                return Err(format!("{} stopped ({status})", service.name));
            }
        }
        if stopped.recv_timeout(Duration::from_millis(200)).is_ok() {
            eprintln!("xtask: stopping");
            return Ok(());
        }
    }
}
