//! The hook against local-s3, started here on 127.0.0.1 and stopped at the end: local-s3
//! announces every stored object to the hook's local endpoint as AWS would (EventBridge's shape,
//! or classic notification records), and the hook writes `results/<key>.json` into the same
//! bucket and tags the object. Each case uploads through S3's own API (PutObject, a multipart
//! upload) and waits for the result, as a deployer's code would see it.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{HTML, PNG, etag, id, multipart, sha256};
use hook::{Config, Hook};
use local_s3::client::{Aws, HttpResponse};
use local_s3::store::{EventShape, Notify};

const BUCKET: &str = "hooked";
const ACCESS_KEY: &str = "AKIAHOOKTESTS0000000";
const SECRET_KEY: &str = "hookTestsSecretKey0000000000000000000000";
const REGION: &str = "us-east-1";

/// local-s3 and the hook, both in this process.
struct World {
    runtime: tokio::runtime::Runtime,
    s3: Option<local_s3::Server>,
    hook_url: String,
    aws: Aws,
    _root: tempdir::Dir,
}

mod tempdir {
    /// A folder removed when dropped.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl World {
    fn start(name: &str, shape: EventShape) -> World {
        let root = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("hook-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let runtime = tokio::runtime::Runtime::new().unwrap();
        // The hook's endpoint first, so local-s3 can be told where to send events.
        let listener = runtime
            .block_on(hook::local::bind(SocketAddr::from(([127, 0, 0, 1], 0))))
            .unwrap();
        let hook_url = format!("http://{}/", listener.local_addr().unwrap());
        let s3 = runtime
            .block_on(local_s3::start(
                local_s3::Config {
                    root: root.clone(),
                    bucket: BUCKET.into(),
                    access_key: ACCESS_KEY.into(),
                    secret_key: SECRET_KEY.into(),
                    region: REGION.into(),
                    allowed_origins: Vec::new(),
                    notify: Some(Notify {
                        url: hook_url.clone(),
                        prefix: "uploads/".into(),
                        shape,
                    }),
                },
                SocketAddr::from(([127, 0, 0, 1], 0)),
            ))
            .unwrap();
        let endpoint = s3.endpoint();
        let config = Config::from_lookup(|name| {
            Some(
                match name {
                    "UPLOAD_BUCKET" => BUCKET,
                    "AWS_REGION" => REGION,
                    "AWS_ACCESS_KEY_ID" => ACCESS_KEY,
                    "AWS_SECRET_ACCESS_KEY" => SECRET_KEY,
                    "S3_ENDPOINT" => &endpoint,
                    _ => return None,
                }
                .to_string(),
            )
        })
        .unwrap();
        let hook = Arc::new(Hook::new(config));
        runtime.spawn(hook::local::serve(hook, listener, std::future::pending()));
        let aws = Aws {
            addr: s3.addr(),
            access_key: ACCESS_KEY.into(),
            secret_key: SECRET_KEY.into(),
            session_token: None,
            region: REGION.into(),
        };
        World {
            runtime,
            s3: Some(s3),
            hook_url,
            aws,
            _root: tempdir::Dir(root),
        }
    }

    fn put(&self, key: &str, content_type: &str, bytes: &[u8], extra: &[(&str, &str)]) -> String {
        let mut headers = vec![("Content-Type", content_type)];
        headers.extend_from_slice(extra);
        let answer = self
            .aws
            .send(
                "s3",
                "PUT",
                &format!("/{BUCKET}/{key}"),
                &[],
                &headers,
                bytes,
            )
            .unwrap();
        assert_eq!(answer.status, 200, "PUT {key}: {}", answer.text());
        etag(&answer)
    }

    fn get(&self, key: &str, query: &[(&str, &str)]) -> HttpResponse {
        self.aws
            .send("s3", "GET", &format!("/{BUCKET}/{key}"), query, &[], b"")
            .unwrap()
    }

    /// The result for `key` once the hook has written one (for at most 20 s) whose ETag is
    /// `etag`.
    fn result(&self, key: &str, etag: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let answer = self.get(&hook::result_key("results/", key), &[]);
            if answer.status == 200 {
                let value: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
                if value["etag"] == etag {
                    return value;
                }
            }
            assert!(Instant::now() < deadline, "no result for {key} ({etag})");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn tags(&self, key: &str) -> Vec<(String, String)> {
        common::tags(&self.aws, BUCKET, key)
    }

    /// POSTs `event` to the hook as a store would.
    fn send_event(&self, event: &str) -> u16 {
        let addr: SocketAddr = self
            .hook_url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        local_s3::client::request(
            addr,
            "POST",
            "/",
            &[("Content-Type", "application/json")],
            event.as_bytes(),
        )
        .unwrap()
        .status
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(s3) = self.s3.take() {
            self.runtime.block_on(s3.stop());
        }
    }
}

#[test]
fn a_real_png_is_ok_and_html_typed_as_png_is_a_mismatch() {
    let world = World::start("types", EventShape::EventBridge);
    let png = format!("uploads/{}/cat.png", id());
    let png_etag = world.put(&png, "image/png", PNG, &[]);
    let result = world.result(&png, &png_etag);
    assert_eq!(
        result,
        serde_json::json!({
            "key": png,
            "size": PNG.len(),
            "etag": png_etag,
            "sha256": sha256(PNG),
            "declaredType": "image/png",
            "detectedType": "image/png",
            "verdict": "ok",
        })
    );
    assert_eq!(world.tags(&png), [("upload-verdict".into(), "ok".into())]);

    let fake = format!("uploads/{}/cat.png", id());
    let fake_etag = world.put(&fake, "image/png", HTML, &[]);
    let result = world.result(&fake, &fake_etag);
    assert_eq!(result["verdict"], "mismatch");
    assert_eq!(result["detectedType"], "text/html");
    assert_eq!(result["declaredType"], "image/png");
    assert_eq!(
        world.tags(&fake),
        [("upload-verdict".into(), "mismatch".into())]
    );

    // Plain text has no signature: nothing to judge by.
    let text = format!("uploads/{}/notes.txt", id());
    let text_etag = world.put(&text, "text/plain", b"hello\n", &[]);
    let result = world.result(&text, &text_etag);
    assert_eq!(
        (&result["verdict"], &result["detectedType"]),
        (&"unknown".into(), &serde_json::Value::Null)
    );
}

#[test]
fn a_multipart_upload_is_judged_once_completed() {
    let world = World::start("multipart", EventShape::EventBridge);
    let key = format!("uploads/{}/report.pdf", id());
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.resize(5 * 1024 * 1024 + 3, b'x');
    let etag = multipart(&world.aws, BUCKET, &key, &bytes, "application/pdf", || {
        // Nothing is announced before the upload completes.
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(
            world.get(&hook::result_key("results/", &key), &[]).status,
            404
        );
    });
    assert!(etag.ends_with("-2"), "{etag}");
    let result = world.result(&key, &etag);
    assert_eq!(result["size"], bytes.len());
    assert_eq!(result["sha256"], sha256(&bytes));
    assert_eq!(result["verdict"], "ok");
}

#[test]
fn the_same_event_twice_writes_the_same_result_and_a_stale_one_nothing() {
    let world = World::start("twice", EventShape::EventBridge);
    let key = format!("uploads/{}/cat.png", id());
    let first = world.put(
        &key,
        "image/png",
        PNG,
        &[("x-amz-meta-uploader", "auth0%7C42")],
    );
    let result = world.result(&key, &first);
    assert_eq!(result["uploader"], "auth0|42");
    let stored = world.get(&hook::result_key("results/", &key), &[]).body;
    let event = local_s3::store::Created {
        bucket: BUCKET.into(),
        key: key.clone(),
        size: PNG.len() as u64,
        etag: first.clone(),
        reason: "PutObject",
        sequencer: 1,
        time: 1_700_000_000,
    }
    .to_json(EventShape::EventBridge, REGION);
    assert_eq!(world.send_event(&event), 202);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        world.get(&hook::result_key("results/", &key), &[]).body,
        stored
    );

    // The key written again with other bytes (a retry of the same file); the first event,
    // arriving late, reads nothing: the result stays the second write's.
    let second = world.put(&key, "image/png", HTML, &[]);
    let result = world.result(&key, &second);
    assert_eq!(result["verdict"], "mismatch");
    assert!(result.get("uploader").is_none());
    assert_eq!(world.send_event(&event), 202);
    std::thread::sleep(Duration::from_millis(500));
    let after: serde_json::Value =
        serde_json::from_slice(&world.get(&hook::result_key("results/", &key), &[]).body).unwrap();
    assert_eq!(after["etag"], second);
    assert_eq!(
        world.tags(&key),
        [("upload-verdict".into(), "mismatch".into())]
    );
}

#[test]
fn notification_records_keys_are_decoded_once() {
    let world = World::start("records", EventShape::Records);
    // A signed-in user's space (its own %XX), a space, a plus and a percent sign.
    let key = format!(
        "uploads/user%40example.com/{}/red flower+c++ 100%.png",
        id()
    );
    let etag = world.put(&key, "image/png", PNG, &[]);
    let result = world.result(&key, &etag);
    assert_eq!(result["key"], key);
    assert_eq!(result["verdict"], "ok");
}

#[test]
fn only_uploads_are_judged_and_bad_events_are_refused() {
    let world = World::start("scope", EventShape::EventBridge);
    let page = world.put("page/index.html", "text/html", HTML, &[]);
    let own = world.put(
        "results/uploads/x/cat.png.json",
        "application/json",
        b"{}",
        &[],
    );
    let upload = format!("uploads/{}/cat.png", id());
    let upload_etag = world.put(&upload, "image/png", PNG, &[]);
    world.result(&upload, &upload_etag);
    assert_eq!(
        world.get("results/page/index.html.json", &[]).status,
        404,
        "{page}"
    );
    assert_eq!(
        world
            .get("results/results/uploads/x/cat.png.json.json", &[])
            .status,
        404,
        "{own}"
    );
    // Announced anyway (a store whose notifications send everything): skipped by the hook.
    let event = local_s3::store::Created {
        bucket: BUCKET.into(),
        key: "page/index.html".into(),
        size: HTML.len() as u64,
        etag: page,
        reason: "PutObject",
        sequencer: 1,
        time: 1_700_000_000,
    }
    .to_json(EventShape::EventBridge, REGION);
    assert_eq!(world.send_event(&event), 202);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(world.get("results/page/index.html.json", &[]).status, 404);
    assert_eq!(world.send_event("not json"), 400);
    assert_eq!(world.send_event("{\"Records\": 3}"), 400);
}
