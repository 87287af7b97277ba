//! Tests for the XHR edge (`frontend/src/browser/xhr.rs`) in a real browser: the multipart form
//! the server receives, upload progress, aborting by dropping the handle, and a failed connection.
//! And for the IndexedDB edge (`frontend/src/browser/records.rs`): resume records saved, read
//! back, replaced and removed.
//! And for the hashing edge (`frontend/src/browser/hash.rs`): the MD5 of ranges of a file, and its
//! speed. And for the JSON edge (`frontend/src/browser/json.rs`): every reader and writer
//! round-trips against `shared`'s serde types.
//!
//! They need a real browser and a real server: `wasm-bindgen-test-runner` drives headless Chromium
//! (`frontend/webdriver.json` holds its flags) and the uploads go to the echo server in
//! `xtask/src/echo.rs`, whose URL is compiled in from `UPLOADER_ECHO_URL`. `cargo xtask test`
//! starts that server and runs these tests; without it they fail and say so.

#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use frontend::browser::hash::{self, Reader};
use frontend::browser::records;
use frontend::browser::xhr::{self, Upload, XhrEvent};
use frontend::upload::digest;
use frontend::upload::form::form_parts;
use frontend::upload::queue::FileInfo;
use frontend::upload::resume::ResumeRecord;
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use md5::{Digest, Md5};
use serde_json::Value;
use shared::FormFields;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{File, IdbDatabase, IdbTransactionMode, Response};

wasm_bindgen_test_configure!(run_in_browser);

const MIB: usize = 1024 * 1024;

/// The echo server's base URL, fixed when this test binary was compiled.
fn echo_url() -> &'static str {
    // A runtime failure, not `env!`: the crate must still build (and lint) without the server.
    match option_env!("UPLOADER_ECHO_URL") {
        Some(url) => url,
        None => panic!(
            "UPLOADER_ECHO_URL was not set when these tests were compiled: they post to the echo \
             server in xtask/src/echo.rs, so run them with `cargo xtask test`"
        ),
    }
}

/// Bytes that cover every value and are not periodic over small spans, so a lost, repeated or
/// reordered chunk changes the checksum.
fn test_bytes(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_right(13) as u8)
        .collect()
}

/// The same checksum as the echo server's (FNV-1a, 64 bits), in the same hex.
fn fnv1a64(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

fn file(bytes: &[u8], name: &str) -> File {
    let parts = Array::of1(&Uint8Array::from(bytes));
    File::new_with_u8_array_sequence(&parts, name).expect("a File from bytes")
}

/// Starts an upload whose events are collected in order.
fn upload(url: &str, fields: &FormFields, file: &File) -> (Upload, Rc<RefCell<Vec<XhrEvent>>>) {
    let events = Rc::new(RefCell::new(Vec::new()));
    let sink = events.clone();
    let size = file.size() as u64;
    let handle = xhr::start(url, &form_parts(fields), file, size, move |event| {
        sink.borrow_mut().push(event)
    })
    .expect("the XHR starts");
    (handle, events)
}

/// A `/slow` id no earlier run against the same server has used, so `/last` reports this run.
fn fresh_id(name: &str) -> String {
    format!("{name}-{}", js_sys::Date::now())
}

fn is_final(event: &XhrEvent) -> bool {
    matches!(event, XhrEvent::Answered { .. } | XhrEvent::Failed)
}

async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        web_sys::window()
            .expect("a window")
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .expect("setTimeout");
    });
    JsFuture::from(promise).await.expect("a timer never fails");
}

/// Waits (polling every 20 ms) until `done` holds for the events so far, or panics after `ms`.
async fn wait_for(
    events: &RefCell<Vec<XhrEvent>>,
    ms: f64,
    what: &str,
    done: impl Fn(&[XhrEvent]) -> bool,
) {
    let deadline = js_sys::Date::now() + ms;
    while !done(&events.borrow()) {
        assert!(
            js_sys::Date::now() < deadline,
            "no {what} within {ms} ms; events so far: {:?}",
            events.borrow()
        );
        sleep(20).await;
    }
}

/// `GET url` as JSON, with the status.
async fn get_json(url: &str) -> (u16, Value) {
    let window = web_sys::window().expect("a window");
    let response: Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .unwrap_or_else(|e| panic!("GET {url} failed: {e:?}"))
        .unchecked_into();
    let text = JsFuture::from(response.text().expect("a body"))
        .await
        .expect("the body reads")
        .as_string()
        .unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (response.status(), json)
}

fn answer_json(events: &[XhrEvent]) -> (u16, Value) {
    match events.last() {
        Some(XhrEvent::Answered { status, body }) => (
            *status,
            serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}")),
        ),
        other => panic!("expected an answer, got {other:?} after {events:?}"),
    }
}

/// A form laid out like the signer's, in an order that is neither alphabetical nor by length, so
/// only keeping the given order passes.
fn signer_like_fields() -> FormFields {
    FormFields(
        [
            ("key", "uploads/01J9Z/holiday photo.jpg"),
            ("Content-Type", "image/jpeg"),
            ("success_action_status", "201"),
            (
                "x-amz-credential",
                "AKIDEXAMPLE/20240101/us-east-1/s3/aws4_request",
            ),
            ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
            ("x-amz-date", "20240101T000000Z"),
            (
                "policy",
                "eyJleHBpcmF0aW9uIjoiMjAyNC0wMS0wMVQwMDoxMDowMFoifQ==",
            ),
            ("x-amz-signature", "0123456789abcdef"),
        ]
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect(),
    )
}

#[wasm_bindgen_test]
async fn the_server_gets_the_fields_in_order_then_the_file_intact() {
    let fields = signer_like_fields();
    let bytes = test_bytes(300 * 1024 + 7);
    let file = file(&bytes, "holiday photo.jpg");
    let (_upload, events) = upload(&format!("{}/echo", echo_url()), &fields, &file);
    wait_for(&events, 10_000.0, "answer", |e| e.iter().any(is_final)).await;

    let (status, json) = answer_json(&events.borrow());
    assert_eq!(status, 201, "{json}");
    let parts = json["parts"].as_array().expect("parts");
    let names: Vec<&str> = parts
        .iter()
        .map(|p| p["name"].as_str().unwrap_or("?"))
        .collect();
    let mut expected: Vec<&str> = fields.iter().map(|(name, _)| name).collect();
    expected.push("file");
    assert_eq!(names, expected, "the part names, in the order received");
    for (part, (name, value)) in parts.iter().zip(fields.iter()) {
        assert_eq!(part["filename"], Value::Null, "field {name} is not a file");
        assert_eq!(part["value"], value, "the value of field {name}");
    }
    let sent = parts.last().expect("a file part");
    assert_eq!(sent["filename"], "holiday photo.jpg");
    assert_eq!(sent["length"], bytes.len());
    assert_eq!(
        sent["fnv1a64"],
        fnv1a64(&bytes),
        "the file's bytes arrive unchanged"
    );
}

#[wasm_bindgen_test]
async fn an_error_status_is_an_answer_not_a_failure() {
    // S3 refuses a form with a 4xx and an XML body: the page must see it to show why.
    let file = file(b"tiny", "tiny.txt");
    let url = format!("{}/echo?status=403", echo_url());
    let (_upload, events) = upload(&url, &signer_like_fields(), &file);
    wait_for(&events, 10_000.0, "answer", |e| e.iter().any(is_final)).await;

    let (status, json) = answer_json(&events.borrow());
    assert_eq!(status, 403);
    assert_eq!(json["parts"].as_array().map(Vec::len), Some(9), "{json}");
}

#[wasm_bindgen_test]
async fn a_slow_upload_reports_rising_progress_then_body_sent_then_the_answer() {
    let size = 16 * MIB;
    let file = file(&test_bytes(size), "big.bin");
    let url = format!("{}/slow?id={}", echo_url(), fresh_id("progress"));
    let (_upload, events) = upload(&url, &signer_like_fields(), &file);
    wait_for(&events, 30_000.0, "answer", |e| e.iter().any(is_final)).await;

    let events = events.borrow();
    let progress: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            XhrEvent::Progress(sent) => Some(*sent),
            _ => None,
        })
        .collect();
    assert!(progress.len() >= 3, "several progress events: {progress:?}");
    assert!(
        progress.windows(2).all(|w| w[0] < w[1]),
        "progress only rises: {progress:?}"
    );
    // Everything but the last two events is progress; then the body is sent; then the answer.
    let n = events.len();
    assert!(
        events[..n - 2]
            .iter()
            .all(|e| matches!(e, XhrEvent::Progress(_))),
        "only progress before the end: {events:?}"
    );
    assert_eq!(events[n - 2], XhrEvent::BodySent, "{events:?}");
    let (status, answer) = answer_json(&events);
    assert_eq!(status, 200, "the server's status: {answer}");
    assert_eq!(answer["complete"], true, "{answer}");

    // Progress counts the file's own bytes (the fields and boundaries before it are subtracted
    // from the body's `loaded`), so it ends at exactly the file's size.
    let body = answer["expected"].as_u64().expect("the body length");
    let last = *progress.last().expect("progress");
    assert_eq!(last, size as u64, "the last progress is the file's size");
    assert!(
        body > last,
        "the body ({body}) holds the fields as well as the file"
    );
}

#[wasm_bindgen_test]
async fn dropping_the_upload_aborts_it() {
    let size = 16 * MIB;
    let file = file(&test_bytes(size), "big.bin");
    let base = echo_url();
    let id = fresh_id("abort");
    let (upload, events) = upload(
        &format!("{base}/slow?id={id}"),
        &signer_like_fields(),
        &file,
    );
    wait_for(&events, 10_000.0, "progress", |e| {
        e.iter().any(|e| matches!(e, XhrEvent::Progress(_)))
    })
    .await;
    drop(upload);
    let seen_at_drop = events.borrow().len();
    assert!(
        !events.borrow().iter().any(is_final),
        "{:?}",
        events.borrow()
    );

    sleep(1_000).await;
    assert_eq!(
        events.borrow().len(),
        seen_at_drop,
        "nothing is reported after the drop: {:?}",
        events.borrow()
    );

    // The server drains what was already in flight, then sees the connection close early.
    let deadline = js_sys::Date::now() + 20_000.0;
    let last = loop {
        let (status, last) = get_json(&format!("{base}/last?id={id}")).await;
        assert_eq!(status, 200, "{last}");
        if last["finished"] == true {
            break last;
        }
        assert!(
            js_sys::Date::now() < deadline,
            "the server still reads: {last}"
        );
        sleep(100).await;
    };
    assert_eq!(last["complete"], false, "{last}");
    let received = last["received"].as_u64().expect("received");
    let expected = last["expected"].as_u64().expect("expected");
    assert!(received < expected, "{last}");
}

#[wasm_bindgen_test]
async fn a_connection_refused_is_a_failure() {
    let (status, json) = get_json(&format!("{}/unused-port", echo_url())).await;
    assert_eq!(status, 200, "{json}");
    let port = json["port"].as_u64().expect("a port");
    let file = file(b"hello", "hello.txt");
    let url = format!("http://127.0.0.1:{port}/nothing-listens-here");
    let (_upload, events) = upload(&url, &signer_like_fields(), &file);
    wait_for(&events, 10_000.0, "failure", |e| e.iter().any(is_final)).await;
    assert_eq!(
        events.borrow().last(),
        Some(&XhrEvent::Failed),
        "{:?}",
        events.borrow()
    );
}

fn resume_record(upload_id: &str, name: &str, size: u64) -> ResumeRecord {
    ResumeRecord {
        upload_id: upload_id.into(),
        key: format!("uploads/01J9Z/{name}"),
        token: format!("v1.claims-of-{upload_id}.signature"),
        expires_at: "2030-01-01T00:00:00Z".into(),
        part_size: 8 * MIB as u64,
        parts: size.div_ceil(8 * MIB as u64) as u32,
        file: FileInfo {
            name: name.into(),
            size,
            content_type: "video/mp4".into(),
            last_modified: 1_700_000_000_123,
        },
    }
}

/// The stored records with these upload ids, in that order (other tests' records left out).
async fn stored(upload_ids: &[&str]) -> Vec<ResumeRecord> {
    let all = records::load_all().await.expect("the records load");
    upload_ids
        .iter()
        .flat_map(|id| all.iter().filter(|r| r.upload_id == *id).cloned())
        .collect()
}

/// Puts `value` into the store as is, past `records::save`: what a damaged or older record is.
async fn put_raw(value: &Object) {
    let wait = |target: &JsValue, ok: &str| {
        JsFuture::from(Promise::new(&mut |resolve, reject| {
            let _ = Reflect::set(target, &ok.into(), &resolve);
            let _ = Reflect::set(target, &"onerror".into(), &reject);
        }))
    };
    let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
    let open = factory.open_with_u32("uploader", 1).expect("open");
    wait(&open, "onsuccess").await.expect("the database opens");
    let db: IdbDatabase = open.result().unwrap().unchecked_into();
    let transaction = db
        .transaction_with_str_and_mode("uploads", IdbTransactionMode::Readwrite)
        .expect("a transaction");
    transaction
        .object_store("uploads")
        .unwrap()
        .put(value)
        .expect("put");
    wait(&transaction, "oncomplete")
        .await
        .expect("the put commits");
    db.close();
}

#[wasm_bindgen_test]
async fn resume_records_are_saved_read_back_replaced_and_removed() {
    let run = fresh_id("upload");
    let (a_id, b_id, broken_id) = (
        format!("{run}-a"),
        format!("{run}-b"),
        format!("{run}-broken"),
    );
    // A size past 2^32 and a last-modified time in ms: numbers beyond 32 bits survive.
    let a = resume_record(&a_id, "holiday/사진 1.mp4", 6 * 1024 * MIB as u64 + 7);
    let mut b = resume_record(&b_id, "b.bin", 20 * MIB as u64);
    b.file.content_type = String::new();
    let ids = [a_id.as_str(), b_id.as_str(), broken_id.as_str()];

    records::save(&a).await.expect("a is saved");
    records::save(&b).await.expect("b is saved");
    assert_eq!(stored(&ids).await, [a.clone(), b.clone()]);

    // The same upload id again replaces the record.
    let mut a_again = a.clone();
    a_again.token = "v1.renewed.signature".into();
    a_again.expires_at = "2030-01-02T00:00:00Z".into();
    records::save(&a_again).await.expect("a is saved again");
    assert_eq!(stored(&ids).await, [a_again.clone(), b.clone()]);

    // A record missing a field is skipped, not an error.
    let broken = Object::new();
    let _ = Reflect::set(&broken, &"uploadId".into(), &broken_id.as_str().into());
    let _ = Reflect::set(&broken, &"key".into(), &"uploads/x".into());
    put_raw(&broken).await;
    assert_eq!(stored(&ids).await, [a_again.clone(), b.clone()]);

    records::remove(Some(&a_id)).await.expect("a is removed");
    assert_eq!(stored(&ids).await, [b.clone()]);
    records::remove(Some(&a_id))
        .await
        .expect("removing twice is fine");

    for id in [&b_id, &broken_id] {
        records::remove(Some(id)).await.expect("cleaned up");
    }
    assert_eq!(stored(&ids).await, []);
}

/// The MD5 of a range of a file, in hex as `md5sum` writes it: the same whether a range longer
/// than a step is streamed into a lent buffer (as the page reads a part in Chromium and Firefox)
/// or in the stream's own chunks (Safari's engine). Each, whole or not, is also an error for
/// every other length.
async fn md5_hex(file: &File, offset: u64, length: u64) -> String {
    let digest = hash::md5_of(file, offset, length, false, Reader::Lent)
        .await
        .unwrap_or_else(|e| panic!("{length} bytes at {offset}: {e}"));
    let in_chunks = hash::md5_of(file, offset, length, false, Reader::Chunks)
        .await
        .unwrap_or_else(|e| panic!("{length} bytes at {offset} in chunks: {e}"));
    assert_eq!(digest, in_chunks, "{length} bytes at {offset}");
    digest::hex(&digest)
}

#[wasm_bindgen_test]
async fn md5_of_a_range_is_md5sum_of_those_bytes() {
    // RFC 1321's test suite.
    let abc = file(b"abc", "abc.txt");
    assert_eq!(
        md5_hex(&abc, 0, 3).await,
        "900150983cd24fb0d6963f7d28e17f72"
    );
    // Read whole (no slice): the same digest; a file that is not the length the page knew (it
    // changed since it was picked) is an error either way.
    let whole = hash::md5_of(&abc, 0, 3, true, Reader::Lent)
        .await
        .expect("read whole");
    assert_eq!(digest::hex(&whole), "900150983cd24fb0d6963f7d28e17f72");
    for length in [2, 4] {
        let changed = hash::md5_of(&abc, 0, length, true, Reader::Lent).await;
        assert!(changed.is_err(), "3 bytes read as {length}: {changed:?}");
    }

    // The expected digests are Python's hashlib over the same `test_bytes`.
    let size = 3 * MIB + 12_345;
    let parts = file(&test_bytes(size), "parts.bin");
    // Laid out for the 1 MiB pieces the page once read a range in.
    let (size, chunk) = (size as u64, MIB as u64);
    for (what, offset, length, expected) in [
        (
            "the whole file",
            0,
            size,
            "0a2f09d0bbcb9d53b71f8c9faf5d0d60",
        ),
        (
            "a range from mid-chunk across a chunk boundary",
            12_345,
            chunk + 54_321,
            "378dfb70ad1dbeca0493e2ec7141984a",
        ),
        (
            "exactly one chunk",
            chunk,
            chunk,
            "3d403d5b44f68ba94a60e65354dd9c92",
        ),
        (
            "the last, short part of 2 MiB parts",
            2 * chunk,
            size - 2 * chunk,
            "505f9724dc23d4133c810ab93bf0e6d4",
        ),
        ("an empty range", 5, 0, "d41d8cd98f00b204e9800998ecf8427e"),
        (
            "an empty range at the end",
            size,
            0,
            "d41d8cd98f00b204e9800998ecf8427e",
        ),
    ] {
        assert_eq!(
            md5_hex(&parts, offset, length).await,
            expected,
            "{what}: {length} bytes at {offset}"
        );
    }

    // `Blob.slice` stops at the end without an error: a range past it must not hash fewer bytes.
    let past = hash::md5_of(&parts, size - 10, 20, false, Reader::Lent).await;
    assert!(past.is_err(), "a range past the end: {past:?}");

    // A range is hashed 4 MiB a task: across those steps, and from streamed chunks of every
    // size, the MD5 of the bytes.
    let size = 9 * MIB + 777;
    let bytes = test_bytes(size);
    let big = file(&bytes, "steps.bin");
    for (offset, length) in [(0, size), (333, 8 * MIB + 1), (MIB + 5, 4 * MIB)] {
        let expected = digest::hex(&Md5::digest(&bytes[offset..offset + length]));
        assert_eq!(
            md5_hex(&big, offset as u64, length as u64).await,
            expected,
            "{length} bytes at {offset}"
        );
    }
    // The lent buffer above was a byte stream's (in Chromium, which runs these tests), not the
    // chunks a browser without one falls back to.
    assert!(web_sys::ReadableStreamByobReader::new(&big.stream()).is_ok());

    // Streamed, a range past the end, and a whole file of another length than the page knew
    // (shorter or longer: it changed since it was picked), are errors either way.
    let (size, chunk) = (size as u64, MIB as u64);
    for reader in [Reader::Lent, Reader::Chunks] {
        let past = hash::md5_of(&big, size - 5 * chunk, 6 * chunk, false, reader).await;
        assert!(
            past.is_err(),
            "{reader:?}: a streamed range past the end: {past:?}"
        );
        for length in [size - 1, size + 1, 5 * chunk] {
            let changed = hash::md5_of(&big, 0, length, true, reader).await;
            assert!(
                changed.is_err(),
                "{reader:?}: {size} bytes streamed as {length}: {changed:?}"
            );
        }
    }
}

// The JSON edge's readers and writers against `shared`'s serde types (`browser/wire.rs`),
// in a folder of its own: a file beside this one would be a test binary of its own.
#[path = "browser/wire.rs"]
mod wire;
