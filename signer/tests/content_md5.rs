//! The file's MD5 through the whole HTTP API (`Signer::handle`, no network), issue #11 ("One form,
//! one write"): with `contentMd5` the form carries a `Content-MD5` field and its policy one exact
//! condition for it, so S3 stores only those bytes; a malformed MD5 is a 400 before anything is
//! signed; without one (curl, Uppy) the answer is exactly the one of before; `multipart/create`
//! refuses one (parts pin their own). The stores' side is in `s3_upload.rs` (local-s3) and
//! `radosgw.rs`.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::Method;
use serde_json::{Value, json};
use shared::{ErrorBody, ErrorCode, SignResponse};
use signer::key::UploadId;
use signer::time::UnixTime;
use signer::{Incoming, Signer};

const NOW: UnixTime = UnixTime(1_800_000_000);
/// The MD5 of `abc`.
const MD5: &str = "kAFQmDzST7DWlj99KOF/cg==";

fn signer() -> Signer {
    common::signer(&[
        ("UPLOAD_BUCKET", "pinned-bucket"),
        ("AWS_SESSION_TOKEN", "FwoGZXIvYXdzE+/="),
        (
            "UPLOAD_TOKEN_SECRET",
            "a token secret of at least 32 bytes!",
        ),
    ])
}

fn sign(signer: &Signer, body: &Value) -> http::Response<String> {
    let body = body.to_string();
    let request = Incoming {
        method: &Method::POST,
        path: "/sign",
        origin: None,
        body: body.as_bytes(),
        caller: signer::auth::Caller::Anonymous,
        origin_secret: None,
    };
    signer.handle(&request, NOW, UploadId([5; 16]))
}

fn signed(response: &http::Response<String>) -> SignResponse {
    assert_eq!(response.status(), 200, "{}", response.body());
    serde_json::from_str(response.body()).unwrap()
}

fn policy(signed: &SignResponse) -> String {
    String::from_utf8(
        STANDARD
            .decode(signed.fields.get("policy").unwrap())
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn issue_11_an_md5_is_pinned_in_the_form_and_the_policy() {
    let signed = signed(&sign(
        &signer(),
        &json!({"filename": "abc.txt", "contentType": "text/plain", "size": 3, "contentMd5": MD5}),
    ));
    let names: Vec<&str> = signed.fields.iter().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        [
            "key",
            "Content-Type",
            "Content-Disposition",
            "Content-MD5",
            "success_action_status",
            "x-amz-algorithm",
            "x-amz-credential",
            "x-amz-date",
            "x-amz-security-token",
            "policy",
            "x-amz-signature"
        ]
    );
    assert_eq!(signed.fields.get("Content-MD5"), Some(MD5));
    let policy = policy(&signed);
    let condition = format!("{{\"Content-MD5\":\"{MD5}\"}}");
    assert_eq!(policy.matches(&condition).count(), 1, "{policy}");
    assert_eq!(policy.to_ascii_lowercase().matches("md5").count(), 1);
}

#[test]
fn issue_11_a_malformed_md5_is_a_400_naming_the_field() {
    let signer = signer();
    let token = signed(&sign(
        &signer,
        &json!({"filename": "abc.txt", "contentType": "text/plain", "size": 3, "contentMd5": MD5}),
    ))
    .token;
    for md5 in [
        json!(""),
        json!("kAFQmDzST7DWlj99KOF/cg"),
        json!("kAFQmDzST7DWlj99KOF/cg="),
        json!("kAFQmDzST7DWlj99KOF_cg=="),
        json!("kAFQmDzST7DWlj99KOF/ch=="),
        json!("900150983cd24fb0d6963f7d28e17f72"),
        json!(" kAFQmDzST7DWlj99KOF/cg=="),
        json!("kAFQmDzST7DWlj99KOF/cg==\"},{\"key\":\"x\""),
        json!(STANDARD.encode([0u8; 20])),
        json!(5),
        json!(["kAFQmDzST7DWlj99KOF/cg=="]),
    ] {
        for token in [None, Some(&token)] {
            let mut body = json!({"filename": "abc.txt", "contentType": "text/plain", "size": 3, "contentMd5": md5});
            if let Some(token) = token {
                body["token"] = json!(token);
            }
            let response = sign(&signer, &body);
            assert_eq!(response.status(), 400, "{md5}: {}", response.body());
            let refusal = serde_json::from_str::<ErrorBody>(response.body()).unwrap();
            assert_eq!(refusal.error.code, ErrorCode::MalformedRequest, "{md5}");
            // Not a string at all is a JSON mistake, answered like any other.
            assert!(
                !md5.is_string() || refusal.error.message.contains("contentMd5"),
                "{md5}: {}",
                refusal.error.message
            );
        }
    }
}

/// The project's rule: `{filename, contentType, size}` alone gets the form of before, with no MD5
/// anywhere (`null` is the same as leaving it out).
#[test]
fn issue_11_a_request_without_an_md5_is_signed_as_before() {
    let signer = signer();
    let plain = sign(
        &signer,
        &json!({"filename": "abc.txt", "contentType": "text/plain", "size": 3}),
    );
    let null = sign(
        &signer,
        &json!({"filename": "abc.txt", "contentType": "text/plain", "size": 3, "contentMd5": null}),
    );
    assert_eq!(plain.body(), null.body());
    let signed = signed(&plain);
    let names: Vec<&str> = signed.fields.iter().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        [
            "key",
            "Content-Type",
            "Content-Disposition",
            "success_action_status",
            "x-amz-algorithm",
            "x-amz-credential",
            "x-amz-date",
            "x-amz-security-token",
            "policy",
            "x-amz-signature"
        ]
    );
    assert!(!policy(&signed).to_ascii_lowercase().contains("md5"));
    assert!(signed.fields.get("Content-MD5").is_none());
}

/// A multipart upload pins each part's MD5 (`sign-parts`), not the whole file's: `create` refuses
/// `contentMd5` as it did before the field existed, before any call to S3 (`handle` would answer
/// 502 if one were needed).
#[test]
fn issue_11_multipart_create_takes_no_whole_file_md5() {
    let body = json!({"filename": "big.iso", "contentType": "application/octet-stream", "size": 100_000_000, "contentMd5": MD5}).to_string();
    let request = Incoming {
        method: &Method::POST,
        path: "/multipart/create",
        origin: None,
        body: body.as_bytes(),
        caller: signer::auth::Caller::Anonymous,
        origin_secret: None,
    };
    let response = signer().handle(&request, NOW, UploadId([5; 16]));
    assert_eq!(response.status(), 400, "{}", response.body());
    let refusal = serde_json::from_str::<ErrorBody>(response.body()).unwrap();
    assert_eq!(refusal.error.code, ErrorCode::MalformedRequest);
    assert!(refusal.error.message.contains("contentMd5"));
}
