//! `POST /sign/batch`: several files in one round trip, each answered exactly as `POST /sign`
//! would answer it alone (its own key, its own refusal), through the whole HTTP API
//! (`Signer::handle`), and the batch's forms stored by a real S3 server (s3s-fs, started here).

mod common;

use common::stack::{PAGE, Stack, content, fields};
use common::{json, request};
use http::Method;
use serde_json::json;
use shared::{BatchResult, ErrorBody, ErrorCode, MAX_BATCH_FILES, SignResponse, SignedBatch};
use signer::key::UploadId;
use signer::time::UnixTime;
use signer::{Incoming, Signer};

const NOW: UnixTime = UnixTime(1_800_000_000);

fn signer() -> Signer {
    common::signer(&[
        ("UPLOAD_BUCKET", "batch-bucket"),
        (
            "UPLOAD_TOKEN_SECRET",
            "a token secret of at least 32 bytes!",
        ),
        ("MAX_UPLOAD_BYTES", "1000000"),
        ("ALLOWED_CONTENT_TYPES", "text/plain,image/*"),
    ])
}

fn post(signer: &Signer, path: &str, body: &str, id: UploadId) -> http::Response<String> {
    let request = Incoming {
        method: &Method::POST,
        path,
        origin: None,
        body: body.as_bytes(),
        caller: signer::auth::Caller::Anonymous,
        origin_secret: None,
    };
    signer.handle(&request, NOW, id)
}

fn refusal(response: &http::Response<String>) -> (u16, ErrorCode) {
    let body: ErrorBody = serde_json::from_str(response.body()).unwrap();
    (response.status().as_u16(), body.error.code)
}

#[test]
fn each_file_gets_what_sign_would_answer_it_alone() {
    let signer = signer();
    // A token from an earlier answer: its file is signed for the same key again.
    let earlier: SignResponse = serde_json::from_str(
        post(
            &signer,
            "/sign",
            &json!({"filename": "retry.txt", "contentType": "text/plain", "size": 5}).to_string(),
            UploadId([9; 16]),
        )
        .body(),
    )
    .unwrap();
    let files = [
        json!({"filename": "a.txt", "contentType": "text/plain", "size": 10}),
        json!({"filename": "too-big.png", "contentType": "image/png", "size": 1_000_001}),
        json!({"filename": "retry.txt", "contentType": "text/plain", "size": 5, "token": earlier.token}),
        json!({"filename": "page.html", "contentType": "text/html", "size": 10}),
        json!({"filename": "a.txt", "contentType": "text/plain", "size": 10, "contentMd5": "1B2M2Y8AsgTpgAmY7PhCfg=="}),
        json!({"filename": "stolen.txt", "contentType": "text/plain", "size": 6, "token": earlier.token}),
    ];
    let id = UploadId([3; 16]);
    let response = post(
        &signer,
        "/sign/batch",
        &json!({ "files": files }).to_string(),
        id,
    );
    assert_eq!(response.status(), 200, "{}", response.body());
    let batch: SignedBatch = serde_json::from_str(response.body()).unwrap();
    assert_eq!(batch.results.len(), files.len());
    for (n, (file, result)) in files.iter().zip(&batch.results).enumerate() {
        // Exactly the answer `/sign` gives this file with the batch's id for its place.
        let alone = post(&signer, "/sign", &file.to_string(), id.nth(n as u32));
        match result {
            BatchResult::Signed(form) => {
                assert_eq!(alone.status(), 200, "{n}: {}", alone.body());
                assert_eq!(
                    form,
                    &serde_json::from_str::<SignResponse>(alone.body()).unwrap()
                );
            }
            BatchResult::Refused(body) => {
                assert_eq!(
                    (alone.status().as_u16(), body.error.code),
                    refusal(&alone),
                    "{n}"
                );
                assert_eq!(
                    body,
                    &serde_json::from_str::<ErrorBody>(alone.body()).unwrap()
                );
            }
        }
    }
    let codes: Vec<_> = batch
        .results
        .iter()
        .map(|r| match r {
            BatchResult::Signed(_) => None,
            BatchResult::Refused(body) => Some(body.error.code),
        })
        .collect();
    assert_eq!(
        codes,
        [
            None,
            Some(ErrorCode::FileTooLarge),
            None,
            Some(ErrorCode::ContentTypeNotAllowed),
            None,
            Some(ErrorCode::InvalidToken),
        ]
    );
    let keys: Vec<_> = batch
        .results
        .iter()
        .filter_map(|r| match r {
            BatchResult::Signed(form) => Some(form.key.clone()),
            BatchResult::Refused(_) => None,
        })
        .collect();
    // New keys for new files, each its own (the same name twice too); the retry's key again.
    assert_eq!(keys[1], earlier.key);
    assert_ne!(keys[0], keys[2]);
    assert!(keys[0].ends_with("/a.txt") && keys[2].ends_with("/a.txt"));
}

#[test]
fn a_batch_that_is_not_one_is_a_clear_4xx() {
    let signer = signer();
    let id = UploadId([1; 16]);
    let one = json!({"filename": "a.txt", "contentType": "text/plain", "size": 1});
    let cases = [
        ("{not json".to_string(), 400, ErrorCode::MalformedRequest),
        (json!({"files": []}).to_string(), 400, ErrorCode::MalformedRequest),
        (one.to_string(), 400, ErrorCode::MalformedRequest),
        (json!({"files": [one], "key": "x"}).to_string(), 400, ErrorCode::MalformedRequest),
        (
            json!({"files": [{"filename": "a.txt", "contentType": "text/plain", "size": 1, "key": "mine"}]})
                .to_string(),
            400,
            ErrorCode::MalformedRequest,
        ),
        (
            json!({ "files": vec![one.clone(); MAX_BATCH_FILES + 1] }).to_string(),
            413,
            ErrorCode::RequestTooLarge,
        ),
        (
            json!({"files": [{"filename": "a".repeat(200_000), "contentType": "text/plain", "size": 1}]})
                .to_string(),
            413,
            ErrorCode::RequestTooLarge,
        ),
    ];
    for (body, status, code) in cases {
        let response = post(&signer, "/sign/batch", &body, id);
        assert_eq!(
            refusal(&response),
            (status, code),
            "{}",
            &body[..body.len().min(80)]
        );
    }
    // The largest batch is fine, each file with its own key; under /api too.
    let response = post(
        &signer,
        "/api/sign/batch",
        &json!({ "files": vec![one; MAX_BATCH_FILES] }).to_string(),
        id,
    );
    assert_eq!(response.status(), 200);
    let batch: SignedBatch = serde_json::from_str(response.body()).unwrap();
    let keys: std::collections::HashSet<_> = batch
        .results
        .iter()
        .map(|r| match r {
            BatchResult::Signed(form) => form.key.clone(),
            BatchResult::Refused(body) => panic!("{body:?}"),
        })
        .collect();
    assert_eq!(keys.len(), MAX_BATCH_FILES);
    // Only POST (and the preflight).
    let get = signer.handle(
        &Incoming {
            method: &Method::GET,
            path: "/sign/batch",
            origin: None,
            body: b"",
            caller: signer::auth::Caller::Anonymous,
            origin_secret: None,
        },
        NOW,
        id,
    );
    assert_eq!(refusal(&get), (405, ErrorCode::MethodNotAllowed));
}

/// The forms of one batch, over the local server's HTTP, each stored byte-identical by s3s-fs
/// under its own key.
#[test]
fn a_batchs_forms_upload_through_the_local_server() {
    let stack = Stack::start("batch", &[]);
    let names = ["one.txt", "two.txt", "one.txt"];
    let files: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({"filename": name, "contentType": "text/plain", "size": 100 + i as u64})
        })
        .collect();
    let response = request(
        stack.signer.addr,
        "POST",
        "/sign/batch",
        &[("Content-Type", "application/json"), ("Origin", PAGE)],
        json!({ "files": files }).to_string().as_bytes(),
    );
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.header("access-control-allow-origin"), Some(PAGE));
    let batch: SignedBatch = serde_json::from_value(json(&response)).unwrap();
    for (i, result) in batch.results.iter().enumerate() {
        let BatchResult::Signed(form) = result else {
            panic!("{result:?}")
        };
        let file = content(100 + i, i as u8);
        let stored = stack.upload(form, &fields(form), &file, "text/plain");
        assert_eq!(stored.status, 201, "{}", stored.text());
        assert_eq!(stack.stored(&form.key), Some(file));
    }
    assert_eq!(stack.keys().len(), 3);

    // The largest batch with long names: a body far over `/sign`'s 16 KiB, read whole by the
    // local server (it once cut every body at 16 KiB).
    let long = "long name ".repeat(100);
    let files: Vec<_> = (0..MAX_BATCH_FILES)
        .map(|i| json!({"filename": format!("{long}{i}.txt"), "contentType": "text/plain", "size": 1}))
        .collect();
    let body = json!({ "files": files }).to_string();
    assert!(body.len() > 2 * 16 * 1024, "{}", body.len());
    let response = request(
        stack.signer.addr,
        "POST",
        "/sign/batch",
        &[("Content-Type", "application/json"), ("Origin", PAGE)],
        body.as_bytes(),
    );
    assert_eq!(response.status, 200, "{}", response.text());
    let batch: SignedBatch = serde_json::from_value(json(&response)).unwrap();
    assert_eq!(batch.results.len(), MAX_BATCH_FILES);
    assert!(
        batch
            .results
            .iter()
            .all(|r| matches!(r, BatchResult::Signed(_)))
    );
}
