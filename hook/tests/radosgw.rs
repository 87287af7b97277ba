//! The hook against Ceph radosgw and radosgw's own bucket notifications: a one-node cluster
//! started here (about 15 s) and stopped at the end, a topic whose HTTP push endpoint is the
//! hook, and the bucket's notification configuration for `s3:ObjectCreated:*` under `uploads/`.
//! The hook signs with STS session credentials, as a Lambda role's.
//!
//! Between radosgw and the hook sits a recorder on 127.0.0.1 that keeps every pushed event as
//! radosgw sent it and passes it on, so the cases can check what radosgw sends (its records'
//! keys are not URL-encoded, unlike AWS's) and send the same event again.
//! Run by `cargo xtask test` (`cargo test -p hook --features radosgw-tests --test radosgw`);
//! needs Debian's `ceph-mon ceph-osd radosgw ceph-common`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{HTML, PNG, etag, id, multipart, sha256};
use hook::{Config, Hook};
use local_s3::client::{Aws, HttpResponse};
use local_s3::radosgw::{self, Radosgw};

const BUCKET: &str = "hooked-uploads";
const ACCESS_KEY: &str = "AKIAHOOKRADOSGW00000";
const SECRET_KEY: &str = "hookRadosgwSecretKey00000000000000000000";

struct World {
    s3: Aws,
    hook: SocketAddr,
    /// Every event radosgw pushed, as sent.
    pushed: Arc<Mutex<Vec<String>>>,
}

impl World {
    fn put(&self, key: &str, content_type: &str, bytes: &[u8]) -> String {
        let answer = self
            .s3
            .send(
                "s3",
                "PUT",
                &format!("/{BUCKET}/{key}"),
                &[],
                &[("Content-Type", content_type)],
                bytes,
            )
            .unwrap();
        assert_eq!(answer.status, 200, "PUT {key}: {}", answer.text());
        etag(&answer)
    }

    fn get(&self, key: &str, query: &[(&str, &str)]) -> HttpResponse {
        self.s3
            .send("s3", "GET", &format!("/{BUCKET}/{key}"), query, &[], b"")
            .unwrap()
    }

    fn result(&self, key: &str, etag: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let answer = self.get(&hook::result_key("results/", key), &[]);
            if answer.status == 200 {
                let value: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
                if value["etag"] == etag {
                    return value;
                }
            }
            assert!(Instant::now() < deadline, "no result for {key} ({etag})");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn verdict_tag(&self, key: &str) -> Option<String> {
        common::tags(&self.s3, BUCKET, key)
            .into_iter()
            .find(|(k, _)| k == hook::VERDICT_TAG)
            .map(|(_, v)| v)
    }

    /// The event radosgw pushed for `key`'s write with `etag`.
    fn pushed_for(&self, key: &str, etag: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let found = self
                .pushed
                .lock()
                .unwrap()
                .iter()
                .find(|event| {
                    let value: serde_json::Value = serde_json::from_str(event).unwrap_or_default();
                    let object = &value["Records"][0]["s3"]["object"];
                    object["key"] == key && object["eTag"] == etag
                })
                .cloned();
            if let Some(event) = found {
                return event;
            }
            assert!(
                Instant::now() < deadline,
                "radosgw pushed no event for {key}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn send_event(&self, event: &str) -> u16 {
        local_s3::client::request(
            self.hook,
            "POST",
            "/",
            &[("Content-Type", "application/json")],
            event.as_bytes(),
        )
        .unwrap()
        .status
    }
}

fn a_real_png_is_ok_and_html_typed_as_png_a_mismatch(world: &World) {
    let png = format!("uploads/{}/cat.png", id());
    let png_etag = world.put(&png, "image/png", PNG);
    let result = world.result(&png, &png_etag);
    assert_eq!(result["verdict"], "ok");
    assert_eq!(result["sha256"], sha256(PNG));
    assert_eq!(result["size"], PNG.len());
    assert_eq!(world.verdict_tag(&png).as_deref(), Some("ok"));
    let fake = format!("uploads/{}/cat.png", id());
    let fake_etag = world.put(&fake, "image/png", HTML);
    let result = world.result(&fake, &fake_etag);
    assert_eq!(
        (&result["verdict"], &result["detectedType"]),
        (&"mismatch".into(), &"text/html".into())
    );
    assert_eq!(world.verdict_tag(&fake).as_deref(), Some("mismatch"));
}

fn radosgw_sends_keys_as_they_are_and_the_hook_reads_them_so(world: &World) {
    let key = format!(
        "uploads/user%40example.com/{}/red flower+c++ 100%.png",
        id()
    );
    let etag = world.put(&key, "image/png", PNG);
    let event: serde_json::Value = serde_json::from_str(&world.pushed_for(&key, &etag)).unwrap();
    assert_eq!(event["Records"][0]["eventSource"], "ceph:s3");
    assert_eq!(event["Records"][0]["eventName"], "ObjectCreated:Put");
    let result = world.result(&key, &etag);
    assert_eq!(result["key"], key);
    // What radosgw sends, saved for the parsing tests (tests/events/radosgw-put.json).
    let saved = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("radosgw-put.json");
    let _ = std::fs::write(saved, serde_json::to_string_pretty(&event).unwrap());
}

fn a_multipart_upload_is_judged_once_completed(world: &World) {
    let key = format!("uploads/{}/report.pdf", id());
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.resize(5 * 1024 * 1024 + 3, b'x');
    let etag = multipart(&world.s3, BUCKET, &key, &bytes, "application/pdf", || {});
    let result = world.result(&key, &etag);
    assert_eq!(result["size"], bytes.len());
    assert_eq!(result["sha256"], sha256(&bytes));
    assert_eq!(result["verdict"], "ok");
}

fn the_same_event_twice_writes_the_same_result_and_a_stale_one_nothing(world: &World) {
    let key = format!("uploads/{}/cat.png", id());
    let first = world.put(&key, "image/png", PNG);
    world.result(&key, &first);
    let event = world.pushed_for(&key, &first);
    let stored = world.get(&hook::result_key("results/", &key), &[]).body;
    assert_eq!(world.send_event(&event), 202);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(
        world.get(&hook::result_key("results/", &key), &[]).body,
        stored
    );
    let second = world.put(&key, "image/png", HTML);
    world.result(&key, &second);
    assert_eq!(world.send_event(&event), 202);
    std::thread::sleep(Duration::from_millis(700));
    let after: serde_json::Value =
        serde_json::from_slice(&world.get(&hook::result_key("results/", &key), &[]).body).unwrap();
    assert_eq!(
        (&after["etag"], &after["verdict"]),
        (&second.clone().into(), &"mismatch".into())
    );
    assert_eq!(world.verdict_tag(&key).as_deref(), Some("mismatch"));
}

fn results_and_other_keys_are_not_announced(world: &World) {
    let before = world.pushed.lock().unwrap().len();
    world.put("page/index.html", "text/html", HTML);
    let upload = format!("uploads/{}/cat.png", id());
    let etag = world.put(&upload, "image/png", PNG);
    world.result(&upload, &etag);
    let pushed = world.pushed.lock().unwrap();
    let keys: Vec<String> = pushed[before..]
        .iter()
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(e).unwrap_or_default();
            v["Records"][0]["s3"]["object"]["key"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(keys.iter().all(|k| k.starts_with("uploads/")), "{keys:?}");
}

type Case = fn(&World);
const CASES: &[(&str, Case)] = &[
    (
        "a real PNG is ok, HTML typed as PNG a mismatch",
        a_real_png_is_ok_and_html_typed_as_png_a_mismatch,
    ),
    (
        "radosgw sends keys as they are, and the hook reads them so",
        radosgw_sends_keys_as_they_are_and_the_hook_reads_them_so,
    ),
    (
        "a multipart upload is judged once completed",
        a_multipart_upload_is_judged_once_completed,
    ),
    (
        "the same event twice writes the same result, a stale one nothing",
        the_same_event_twice_writes_the_same_result_and_a_stale_one_nothing,
    ),
    (
        "results and other keys are not announced",
        results_and_other_keys_are_not_announced,
    ),
];

/// Takes radosgw's pushes on 127.0.0.1, keeps each body and passes it on to the hook, answering
/// radosgw with the hook's status.
fn recorder(hook: SocketAddr, pushed: Arc<Mutex<Vec<String>>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let pushed = pushed.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(&stream);
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let text = String::from_utf8_lossy(&body).into_owned();
                pushed.lock().unwrap().push(text);
                let status = local_s3::client::request(
                    hook,
                    "POST",
                    "/",
                    &[("Content-Type", "application/json")],
                    &body,
                )
                .map(|a| a.status)
                .unwrap_or(502);
                let _ = (&stream).write_all(
                    format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    .as_bytes(),
                );
            });
        }
    });
    addr
}

fn main() -> ExitCode {
    let missing = radosgw::missing_programs();
    if !missing.is_empty() {
        eprintln!(
            "hook radosgw suite: cannot run, missing {} (Debian packages: {})",
            missing.join(", "),
            radosgw::PACKAGES.join(" ")
        );
        return ExitCode::FAILURE;
    }
    let started = Instant::now();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("hook-radosgw-{}", std::process::id()));
    let rgw = match Radosgw::start(radosgw::Options {
        dir,
        bucket: BUCKET.into(),
        access_key: ACCESS_KEY.into(),
        secret_key: SECRET_KEY.into(),
        allowed_origins: Vec::new(),
    }) {
        Ok(rgw) => rgw,
        Err(e) => {
            eprintln!("hook radosgw suite: the cluster did not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let session = match rgw.session_credentials(3600) {
        Ok(session) => session,
        Err(e) => {
            eprintln!("hook radosgw suite: no session credentials: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(hook::local::bind(SocketAddr::from(([127, 0, 0, 1], 0))))
        .unwrap();
    let hook_addr = listener.local_addr().unwrap();
    let endpoint = rgw.endpoint();
    let token = session.session_token.clone().unwrap_or_default();
    let config = Config::from_lookup(|name| {
        Some(
            match name {
                "UPLOAD_BUCKET" => BUCKET,
                "AWS_REGION" => "us-east-1",
                "AWS_ACCESS_KEY_ID" => &session.access_key,
                "AWS_SECRET_ACCESS_KEY" => &session.secret_key,
                "AWS_SESSION_TOKEN" => &token,
                "S3_ENDPOINT" => &endpoint,
                _ => return None,
            }
            .to_string(),
        )
    })
    .unwrap();
    runtime.spawn(hook::local::serve(
        Arc::new(Hook::new(config)),
        listener,
        std::future::pending(),
    ));
    let pushed = Arc::new(Mutex::new(Vec::new()));
    let recorder = recorder(hook_addr, pushed.clone());
    if let Err(e) = rgw.notify(&format!("http://{recorder}/"), "uploads/") {
        eprintln!("hook radosgw suite: no bucket notifications: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "radosgw up at {} in {:.1} s, notifying the hook",
        rgw.endpoint(),
        started.elapsed().as_secs_f64()
    );
    std::panic::set_hook(Box::new(|info| eprintln!("    {info}")));
    let world = World {
        s3: rgw.client(),
        hook: hook_addr,
        pushed,
    };
    let (mut passed, mut failed) = (0, Vec::new());
    for (name, case) in CASES {
        let outcome = catch_unwind(AssertUnwindSafe(|| case(&world)));
        println!(
            "test hook radosgw {name} ... {}",
            if outcome.is_ok() { "ok" } else { "FAILED" }
        );
        match outcome {
            Ok(()) => passed += 1,
            Err(_) => failed.push(*name),
        }
    }
    drop(runtime);
    drop(rgw);
    println!(
        "\nhook radosgw: {passed} passed, {} failed in {:.1} s",
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
