//! Installs what the page's build and browser tests need, each only when the right version is not
//! already there: the wasm32 target, wasm-bindgen-cli at Cargo.lock's version, trunk, wasm-opt
//! (binaryen from npm), and Chromium with chromedriver (apt, when root on Debian).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{root, run};

pub const TRUNK_VERSION: &str = "0.21.14";
/// binaryen's npm package; older wasm-opt releases (Debian's 108, the wasm-opt crate's 116) cannot
/// parse current rustc output.
pub const BINARYEN_VERSION: &str = "132.0.0";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Where npm tools live: outside the work tree so a fresh clone on the same machine reuses them.
fn npm_tools_dir() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    home.join(".cache").join("uploader-tools")
}

fn cargo_bin_dir() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default()
        .join("bin")
}

/// PATH with the tool folders first, for trunk (which finds wasm-bindgen and wasm-opt on PATH).
pub fn path_with_tools() -> std::ffi::OsString {
    let mut dirs = vec![
        npm_tools_dir().join("node_modules").join(".bin"),
        cargo_bin_dir(),
    ];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// The first line a tool prints for `--version`, if it runs at all.
fn version_of(program: &Path) -> Option<String> {
    let output = Command::new(program)
        .arg("--version")
        .env("PATH", path_with_tools())
        .output()
        .ok()?;
    output.status.success().then(|| {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    })
}

/// The version of a package in Cargo.lock.
pub fn locked_version(package: &str) -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("Cargo.lock: {e}"))?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock
        .find(&needle)
        .ok_or(format!("{package} is not in Cargo.lock"))?
        + needle.len();
    let end = start + lock[start..].find('"').ok_or("malformed Cargo.lock")?;
    Ok(lock[start..end].to_string())
}

/// Everything `trunk build` needs.
pub fn ensure_page_tools() -> Result<(), String> {
    ensure_wasm_target()?;
    let bindgen = locked_version("wasm-bindgen")?;
    if version_of(&cargo_bin_dir().join("wasm-bindgen")) != Some(format!("wasm-bindgen {bindgen}"))
    {
        // Not --locked: one of its pinned dependencies is missing from the registry mirror.
        let mut install = cargo_install();
        install.args(["wasm-bindgen-cli", "--version", &bindgen]);
        run(install)?;
    }
    if version_of(&cargo_bin_dir().join("trunk")) != Some(format!("trunk {TRUNK_VERSION}")) {
        let mut install = cargo_install();
        install.args(["trunk", "--version", TRUNK_VERSION, "--locked"]);
        run(install)?;
    }
    let wasm_opt = npm_tools_dir()
        .join("node_modules")
        .join(".bin")
        .join("wasm-opt");
    let major = BINARYEN_VERSION.split('.').next().unwrap_or_default();
    if !version_of(&wasm_opt).is_some_and(|v| v.contains(&format!("version {major}"))) {
        let dir = npm_tools_dir();
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut install = Command::new("npm");
        install
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg(format!("binaryen@{BINARYEN_VERSION}"));
        run(install).map_err(|e| {
            format!("{e}; wasm-opt comes from npm's binaryen: install Node.js and npm")
        })?;
    }
    Ok(())
}

fn cargo_install() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    // Outside the workspace, so rust-toolchain.toml and .cargo/config.toml do not apply.
    command.current_dir(std::env::temp_dir()).arg("install");
    command
}

pub fn ensure_wasm_target() -> Result<(), String> {
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

/// Chromium and chromedriver for the browser tests: installed with apt on Debian as root,
/// otherwise a clear instruction.
pub fn ensure_browser() -> Result<(), String> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    if !can_apt() {
        return Err(format!(
            "the browser tests need Chromium and chromedriver at {CHROMIUM} and {CHROMEDRIVER}: \
             on Debian/Ubuntu run `sudo apt-get install chromium chromium-driver`"
        ));
    }
    apt_install(&["chromium", "chromium-driver"])
}

pub const FIREFOX: &str = "/usr/bin/firefox-esr";
pub const WEBKIT_DRIVER: &str = "/usr/bin/WebKitWebDriver";
pub const MINIBROWSER: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
pub const XVFB: &str = "/usr/bin/Xvfb";

/// Firefox (WebDriver BiDi) and WebKit (WebKitWebDriver with MiniBrowser, under Xvfb) for the
/// end-to-end suite: Debian's own packages, installed with apt as root when missing. The
/// browsers that are there, with the reason printed for those that are not.
pub fn ensure_other_browsers() -> Result<Vec<&'static str>, String> {
    let have = |paths: &[&str]| paths.iter().all(|p| Path::new(p).exists());
    let firefox = [FIREFOX];
    let webkit = [WEBKIT_DRIVER, MINIBROWSER, XVFB];
    if !(have(&firefox) && have(&webkit)) && can_apt() && cfg!(target_os = "linux") {
        // With their recommended packages, as measured here (fonts, GStreamer for MiniBrowser).
        apt_install_with(&["firefox-esr", "webkit2gtk-driver", "xvfb"], true)?;
    }
    let mut browsers = Vec::new();
    for (name, paths, package) in [
        ("firefox", &firefox[..], "firefox-esr"),
        ("webkit", &webkit[..], "webkit2gtk-driver xvfb"),
    ] {
        if have(paths) {
            browsers.push(name);
        } else {
            eprintln!(
                "end-to-end suite in {name} skipped: missing {}; on Debian run `sudo apt-get install {package}`",
                paths.join(", ")
            );
        }
    }
    Ok(browsers)
}

/// Ceph's monitor, OSD and radosgw for the strict S3 suite: `Ok(true)` when they are there (or
/// were installed now), `Ok(false)` with the reason printed when the suite has to be skipped
/// (not Linux, or not root on Debian to install them).
pub fn ensure_radosgw() -> Result<bool, String> {
    use local_s3::radosgw::{PACKAGES, missing_programs};
    if !cfg!(target_os = "linux") {
        eprintln!("radosgw suite skipped: Ceph's radosgw runs on Linux only");
        return Ok(false);
    }
    if missing_programs().is_empty() {
        return Ok(true);
    }
    if !can_apt() {
        eprintln!(
            "radosgw suite skipped: missing {}; on Debian/Ubuntu run `sudo apt-get install {}`",
            missing_programs().join(", "),
            PACKAGES.join(" ")
        );
        return Ok(false);
    }
    apt_install(&PACKAGES)?;
    match missing_programs().as_slice() {
        [] => Ok(true),
        missing => Err(format!(
            "still missing after apt-get install: {}",
            missing.join(", ")
        )),
    }
}

/// Root on a machine with apt-get.
fn can_apt() -> bool {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0");
    is_root && Path::new("/usr/bin/apt-get").exists()
}

fn apt_install(packages: &[&str]) -> Result<(), String> {
    apt_install_with(packages, false)
}

fn apt_install_with(packages: &[&str], recommends: bool) -> Result<(), String> {
    let mut update = Command::new("apt-get");
    update.args(["update", "-q"]);
    run(update)?;
    let mut install = Command::new("apt-get");
    install
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["install", "-y", "-q"])
        .args((!recommends).then_some("--no-install-recommends"))
        .args(packages);
    run(install)
}

/// cargo-lambda (with zig, for the arm64 cross build) and cfn-lint, from PyPI.
pub fn ensure_cargo_lambda() -> Result<(), String> {
    let installed = Command::new("cargo-lambda")
        .arg("lambda")
        .arg("--help")
        .env("PATH", path_with_tools())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if installed {
        return Ok(());
    }
    pip_install(&[CARGO_LAMBDA])
}

pub fn ensure_python_tools() -> Result<(), String> {
    ensure_cargo_lambda()?;
    let lint = Command::new("cfn-lint")
        .arg("--version")
        .env("PATH", path_with_tools())
        .output();
    if lint.is_ok_and(|o| {
        String::from_utf8_lossy(&o.stdout).contains(CFN_LINT.trim_start_matches("cfn-lint=="))
    }) {
        return Ok(());
    }
    pip_install(&[CFN_LINT])
}

/// moto's server, for the signer's Secrets Manager test: installed (from PyPI) when missing or of
/// another version. Its `moto_server` script's path.
pub fn ensure_moto() -> Result<PathBuf, String> {
    let scripts = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .map_err(|e| format!("python3: {e}; install Python 3 with pip"))?;
    let server = PathBuf::from(String::from_utf8_lossy(&scripts.stdout).trim()).join("moto_server");
    let installed = Command::new("python3")
        .args(["-c", "import moto; print(moto.__version__)"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == MOTO_VERSION);
    if !(installed && server.exists()) {
        pip_install(&[&format!("moto[server]=={MOTO_VERSION}")])?;
    }
    Ok(server)
}

pub const MOTO_VERSION: &str = "5.1.18";
pub const CARGO_LAMBDA: &str = "cargo-lambda==1.9.2";
pub const CFN_LINT: &str = "cfn-lint==1.58.0";

fn pip_install(packages: &[&str]) -> Result<(), String> {
    let mut pip = Command::new("python3");
    pip.args(["-m", "pip", "install", "--quiet"]).args(packages);
    run(pip).map_err(|e| format!("{e}; install Python 3 with pip"))
}
