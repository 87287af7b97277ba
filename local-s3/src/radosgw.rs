//! A throwaway one-node Ceph (one monitor, one memstore OSD) with radosgw on 127.0.0.1: the
//! strictest S3 we can run here (AWS's status codes, every POST-policy rule, STS session tokens).
//!
//! [`Radosgw::start`] makes a cluster under a fresh folder, a user with fixed keys that may call
//! `sts:GetSessionToken`, and one bucket; every daemon is a child process in the foreground, and
//! dropping the [`Radosgw`] stops them all and removes the folder. Needs Debian's `ceph-mon
//! ceph-osd radosgw ceph-common` ([`missing_programs`] tells which are absent).

use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::client::{Aws, HttpResponse};

/// The programs a cluster needs, by Debian package.
pub const PROGRAMS: [(&str, &str); 6] = [
    ("ceph-mon", "ceph-mon"),
    ("monmaptool", "ceph-mon"),
    ("ceph-osd", "ceph-osd"),
    ("radosgw", "radosgw"),
    ("radosgw-admin", "radosgw"),
    ("ceph", "ceph-common"),
];
pub const PACKAGES: [&str; 4] = ["ceph-mon", "ceph-osd", "radosgw", "ceph-common"];
/// The gateway's name in the cluster (its keyring and config section).
const GATEWAY: &str = "client.rgw.gw";
const UID: &str = "uploader";

/// The programs of [`PROGRAMS`] not on `PATH`.
pub fn missing_programs() -> Vec<&'static str> {
    PROGRAMS
        .iter()
        .filter(|(program, _)| !on_path(program))
        .map(|(program, _)| *program)
        .collect()
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// What to create.
#[derive(Debug, Clone)]
pub struct Options {
    /// Created (emptied first) and removed on drop.
    pub dir: PathBuf,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    /// Origins the bucket's CORS rule allows to POST (none: no rule).
    pub allowed_origins: Vec<String>,
}

/// A running cluster and gateway.
pub struct Radosgw {
    options: Options,
    conf: PathBuf,
    port: u16,
    mon: Option<Child>,
    osd: Option<Child>,
    gateway: Option<Child>,
    keep_dir: bool,
}

impl Radosgw {
    /// Brings everything up (about 15 s): monitor, OSD, gateway, user, STS permission, bucket.
    pub fn start(options: Options) -> Result<Radosgw, String> {
        let dir = &options.dir;
        let _ = fs::remove_dir_all(dir);
        for sub in ["mon", "osd0", "run", "log"] {
            fs::create_dir_all(dir.join(sub)).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let mon_port = free_port()?;
        let port = free_port()?;
        let conf = dir.join("ceph.conf");
        fs::write(&conf, ceph_conf(dir, mon_port, port))
            .map_err(|e| format!("{}: {e}", conf.display()))?;
        let mut cluster = Radosgw {
            options: options.clone(),
            conf,
            port,
            mon: None,
            osd: None,
            gateway: None,
            keep_dir: false,
        };
        let started = cluster
            .start_mon(mon_port)
            .and_then(|()| cluster.start_osd())
            .and_then(|()| cluster.start_gateway())
            .and_then(|()| cluster.create_user())
            .and_then(|()| cluster.create_bucket());
        match started {
            Ok(()) => Ok(cluster),
            Err(e) => {
                // The daemons stop; their logs stay for a look.
                cluster.keep_dir = true;
                Err(format!("{e} (logs in {})", dir.join("log").display()))
            }
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr())
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The cluster's configuration: `radosgw -f -c <conf> -n client.rgw.gw` starts the gateway.
    pub fn conf(&self) -> &Path {
        &self.conf
    }

    pub fn gateway_name(&self) -> &'static str {
        GATEWAY
    }

    pub fn bucket(&self) -> &str {
        &self.options.bucket
    }

    /// A client with the user's long-term keys.
    pub fn client(&self) -> Aws {
        Aws {
            addr: self.addr(),
            access_key: self.options.access_key.clone(),
            secret_key: self.options.secret_key.clone(),
            session_token: None,
            region: "us-east-1".into(),
        }
    }

    /// Temporary credentials from STS `GetSessionToken` (what a Lambda role has: a key, a secret
    /// and a session token).
    pub fn session_credentials(&self, seconds: u32) -> Result<Aws, String> {
        let seconds = seconds.to_string();
        let answer = self.client().action(
            "sts",
            &[
                ("Action", "GetSessionToken"),
                ("Version", "2011-06-15"),
                ("DurationSeconds", &seconds),
            ],
        )?;
        let field = |tag| {
            answer
                .xml(tag)
                .ok_or_else(|| format!("GetSessionToken: {} {}", answer.status, answer.text()))
        };
        Ok(Aws {
            addr: self.addr(),
            access_key: field("AccessKeyId")?,
            secret_key: field("SecretAccessKey")?,
            session_token: Some(field("SessionToken")?),
            region: "us-east-1".into(),
        })
    }

    /// The object's bytes, or `None` when there is no such key (404).
    pub fn object(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        let answer = self.client().send(
            "s3",
            "GET",
            &format!("/{}/{key}", self.options.bucket),
            &[],
            &[],
            b"",
        )?;
        match answer.status {
            200 => Ok(Some(answer.body)),
            404 => Ok(None),
            status => Err(format!("GET {key}: {status} {}", answer.text())),
        }
    }

    /// Stops the gateway only (the cluster and its data stay): S3 is down.
    pub fn stop_gateway(&mut self) {
        stop(&mut self.gateway);
    }

    /// Starts the gateway again on the same port and waits until it answers.
    pub fn start_gateway(&mut self) -> Result<(), String> {
        let child = self.daemon(
            Command::new("radosgw")
                .args(["-f", "-c"])
                .arg(&self.conf)
                .args(["-n", GATEWAY]),
            "radosgw",
        )?;
        self.gateway = Some(child);
        wait_until(Duration::from_secs(60), "radosgw to answer", || {
            Ok(TcpStream::connect(self.addr()).is_ok())
        })
    }

    fn start_mon(&mut self, mon_port: u16) -> Result<(), String> {
        let dir = self.options.dir.clone();
        let conf = self.conf.clone();
        let mon_keyring = dir.join("mon.keyring");
        let admin_keyring = dir.join("client.admin.keyring");
        let monmap = dir.join("monmap");
        run(Command::new("ceph-authtool")
            .arg("--create-keyring")
            .arg(&mon_keyring)
            .args(["--gen-key", "-n", "mon.", "--cap", "mon", "allow *"]))?;
        run(Command::new("ceph-authtool")
            .arg("--create-keyring")
            .arg(&admin_keyring)
            .args(["--gen-key", "-n", "client.admin"])
            .args(["--cap", "mon", "allow *", "--cap", "osd", "allow *"])
            .args(["--cap", "mgr", "allow *", "--cap", "mds", "allow *"]))?;
        run(Command::new("ceph-authtool")
            .arg(&mon_keyring)
            .arg("--import-keyring")
            .arg(&admin_keyring))?;
        let fsid = fsid(&conf)?;
        run(Command::new("monmaptool")
            .args(["--create", "--fsid", &fsid, "--addv", "a"])
            // msgr v1 only (`ms bind msgr2 = false`): on a port other than 6789, `--add` would
            // make it a v2 address the clients never reach.
            .arg(format!("[v1:127.0.0.1:{mon_port}]"))
            .arg(&monmap))?;
        run(Command::new("ceph-mon")
            .arg("-c")
            .arg(&conf)
            .args(["--mkfs", "-i", "a", "--monmap"])
            .arg(&monmap)
            .arg("--keyring")
            .arg(&mon_keyring))?;
        let mon = self.daemon(
            Command::new("ceph-mon")
                .arg("-f")
                .arg("-c")
                .arg(&conf)
                .args(["-i", "a"]),
            "ceph-mon",
        )?;
        self.mon = Some(mon);
        wait_until(Duration::from_secs(30), "the monitor", || {
            self.ceph(&["-s"]).map(|_| true)
        })
    }

    fn start_osd(&mut self) -> Result<(), String> {
        let secret = output(Command::new("ceph-authtool").arg("--gen-print-key"))?;
        let uuid = uuid();
        let id = output_with_input(
            Command::new("ceph")
                .arg("-c")
                .arg(&self.conf)
                .args(["osd", "new", &uuid, "-i", "-"]),
            &format!("{{\"cephx_secret\": \"{}\"}}", secret.trim()),
        )?;
        let id = id.trim().to_string();
        let data = self.options.dir.join(format!("osd{id}"));
        fs::create_dir_all(&data).map_err(|e| e.to_string())?;
        let keyring = data.join("keyring");
        run(Command::new("ceph-authtool")
            .arg("--create-keyring")
            .arg(&keyring)
            .args(["--name", &format!("osd.{id}"), "--add-key", secret.trim()]))?;
        run(Command::new("ceph-osd").arg("-c").arg(&self.conf).args([
            "-i",
            &id,
            "--mkfs",
            "--osd-uuid",
            &uuid,
        ]))?;
        let osd = self.daemon(
            Command::new("ceph-osd")
                .arg("-f")
                .arg("-c")
                .arg(&self.conf)
                .args(["-i", &id, "--keyring"])
                .arg(&keyring),
            "ceph-osd",
        )?;
        self.osd = Some(osd);
        let gateway_keyring = self.options.dir.join(format!("{GATEWAY}.keyring"));
        self.ceph(&[
            "auth",
            "get-or-create",
            GATEWAY,
            "mon",
            "allow rw",
            "osd",
            "allow rwx",
            "-o",
            &gateway_keyring.to_string_lossy(),
        ])?;
        wait_until(Duration::from_secs(60), "the OSD to be up", || {
            Ok(self.ceph(&["osd", "stat"])?.contains("1 up"))
        })
    }

    fn create_user(&self) -> Result<(), String> {
        let admin = |args: &[&str]| {
            output(
                Command::new("radosgw-admin")
                    .arg("-c")
                    .arg(&self.conf)
                    .args(args),
            )
        };
        admin(&[
            "user",
            "create",
            &format!("--uid={UID}"),
            "--display-name=uploader tests",
            &format!("--access-key={}", self.options.access_key),
            &format!("--secret-key={}", self.options.secret_key),
        ])?;
        // STS needs the user to hold an IAM policy allowing sts:GetSessionToken; putting one
        // needs the `user-policy` capability.
        admin(&[
            "caps",
            "add",
            &format!("--uid={UID}"),
            "--caps=user-policy=*",
        ])?;
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:GetSessionToken","s3:*"],"Resource":"*"}]}"#;
        let answer = self.client().action(
            "iam",
            &[
                ("Action", "PutUserPolicy"),
                ("Version", "2010-05-08"),
                ("UserName", UID),
                ("PolicyName", "uploader-tests"),
                ("PolicyDocument", policy),
            ],
        )?;
        expect(&answer, 200, "PutUserPolicy")
    }

    fn create_bucket(&self) -> Result<(), String> {
        let s3 = self.client();
        let path = format!("/{}", self.options.bucket);
        expect(
            &s3.send("s3", "PUT", &path, &[], &[], b"")?,
            200,
            "CreateBucket",
        )?;
        if self.options.allowed_origins.is_empty() {
            return Ok(());
        }
        self.put_cors(&self.options.allowed_origins)
    }

    /// Replaces the bucket's CORS rule: these origins may POST forms and PUT parts (and read the
    /// answer's ETag).
    pub fn put_cors(&self, origins: &[String]) -> Result<(), String> {
        let origins: String = origins
            .iter()
            .map(|o| format!("<AllowedOrigin>{o}</AllowedOrigin>"))
            .collect();
        let rule = format!(
            "<CORSConfiguration><CORSRule>{origins}<AllowedMethod>POST</AllowedMethod>\
             <AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader>\
             <MaxAgeSeconds>600</MaxAgeSeconds></CORSRule></CORSConfiguration>"
        );
        use base64::Engine as _;
        use md5::Digest as _;
        let md5 = base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&rule));
        let answer = self.client().send(
            "s3",
            "PUT",
            &format!("/{}", self.options.bucket),
            &[("cors", "")],
            &[("Content-MD5", &md5), ("Content-Type", "application/xml")],
            rule.as_bytes(),
        )?;
        expect(&answer, 200, "PutBucketCors")
    }

    /// Announces every object stored under `prefix` to `endpoint` over HTTP, with radosgw's own
    /// bucket notifications: an SNS-style topic whose push endpoint is the URL, and the bucket's
    /// notification configuration for `s3:ObjectCreated:*` filtered by the prefix. radosgw then
    /// POSTs S3 notification records (`eventSource` `ceph:s3`) as it stores each object.
    pub fn notify(&self, endpoint: &str, prefix: &str) -> Result<(), String> {
        let topic = self.client().action(
            "sns",
            &[
                ("Action", "CreateTopic"),
                ("Name", "uploads-created"),
                ("Attributes.entry.1.key", "push-endpoint"),
                ("Attributes.entry.1.value", endpoint),
            ],
        )?;
        let arn = topic
            .xml("TopicArn")
            .ok_or_else(|| format!("CreateTopic: {} {}", topic.status, topic.text()))?;
        let configuration = format!(
            "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <TopicConfiguration><Id>uploads-created</Id><Topic>{arn}</Topic>\
             <Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>prefix</Name>\
             <Value>{prefix}</Value></FilterRule></S3Key></Filter></TopicConfiguration>\
             </NotificationConfiguration>"
        );
        let answer = self.client().send(
            "s3",
            "PUT",
            &format!("/{}", self.options.bucket),
            &[("notification", "")],
            &[("Content-Type", "application/xml")],
            configuration.as_bytes(),
        )?;
        expect(&answer, 200, "PutBucketNotificationConfiguration")
    }

    fn ceph(&self, args: &[&str]) -> Result<String, String> {
        output(
            Command::new("ceph")
                .arg("-c")
                .arg(&self.conf)
                .args(["--connect-timeout", "5"])
                .args(args),
        )
    }

    /// Spawns a daemon in the foreground, its output into the cluster's log folder.
    fn daemon(&self, command: &mut Command, name: &str) -> Result<Child, String> {
        let log = fs::File::create(self.options.dir.join("log").join(format!("{name}.out")))
            .map_err(|e| e.to_string())?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("start {name}: {e}"))
    }
}

impl Drop for Radosgw {
    fn drop(&mut self) {
        stop(&mut self.gateway);
        stop(&mut self.osd);
        stop(&mut self.mon);
        if !self.keep_dir {
            let _ = fs::remove_dir_all(&self.options.dir);
        }
    }
}

/// SIGTERM, up to 10 s to exit, then SIGKILL.
fn stop(child: &mut Option<Child>) {
    let Some(mut child) = child.take() else {
        return;
    };
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The cluster's configuration. Its OSD keeps data in memory (memstore, 8 GiB); radosgw frees a
/// deleted object's data within seconds (`rgw gc obj min wait`, two hours by default), so a
/// benchmark that stores and deletes a 1 GiB file a dozen times never fills it.
fn ceph_conf(dir: &Path, mon_port: u16, port: u16) -> String {
    let d = dir.display();
    format!(
        "[global]
fsid = {fsid}
mon initial members = a
mon host = v1:127.0.0.1:{mon_port}
public addr = 127.0.0.1
ms bind msgr2 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
run dir = {d}/run
admin socket = {d}/run/$name.asok
log file = {d}/log/$name.log
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
mon max pg per osd = 1000
osd objectstore = memstore
memstore device bytes = 8589934592
osd data = {d}/osd$id
mon data = {d}/mon
[client.admin]
keyring = {d}/client.admin.keyring
[osd]
keyring = {d}/osd$id/keyring
[{GATEWAY}]
keyring = {d}/{GATEWAY}.keyring
rgw frontends = beast endpoint=127.0.0.1:{port}
rgw dns name = 127.0.0.1
rgw sts key = uploaderStsKey16
rgw s3 auth use sts = true
rgw gc obj min wait = 5
rgw gc processor period = 10
",
        fsid = uuid()
    )
}

/// The `fsid` line of the configuration just written.
fn fsid(conf: &Path) -> Result<String, String> {
    let text = fs::read_to_string(conf).map_err(|e| e.to_string())?;
    text.lines()
        .find_map(|line| line.strip_prefix("fsid = "))
        .map(str::to_string)
        .ok_or_else(|| "no fsid in ceph.conf".into())
}

/// A random version-4 UUID.
fn uuid() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the system's random source");
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

fn expect(answer: &HttpResponse, status: u16, what: &str) -> Result<(), String> {
    if answer.status == status {
        Ok(())
    } else {
        Err(format!("{what}: {} {}", answer.status, answer.text()))
    }
}

fn wait_until(
    limit: Duration,
    what: &str,
    mut ready: impl FnMut() -> Result<bool, String>,
) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    let mut last = String::new();
    while Instant::now() < deadline {
        match ready() {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => last = e,
        }
        sleep(Duration::from_millis(250));
    }
    Err(format!("timed out waiting for {what} {last}"))
}

fn run(command: &mut Command) -> Result<(), String> {
    output(command).map(drop)
}

fn output(command: &mut Command) -> Result<String, String> {
    output_with_input(command, "")
}

fn output_with_input(command: &mut Command, input: &str) -> Result<String, String> {
    use std::io::Write as _;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{command:?}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{command:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{command:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
