//! Upload tokens through the whole HTTP API (`Signer::handle`, no network): a retry that carries the
//! token of the first answer gets the same key; a token that was changed, made with another secret,
//! for another file, or expired is refused with a 403 `ErrorBody`, and nothing is signed.

mod common;

use http::Method;
use serde_json::json;
use shared::{ErrorBody, ErrorCode, SignResponse};
use signer::key::UploadId;
use signer::time::UnixTime;
use signer::{Config, Incoming, Signer};

const NOW: UnixTime = UnixTime(1_800_000_000);
const SECRET: &str = "a token secret of at least 32 bytes!";

fn signer(secret: &str) -> Signer {
    common::signer(&[
        ("UPLOAD_BUCKET", "token-bucket"),
        ("UPLOAD_TOKEN_SECRET", secret),
    ])
}

fn sign(signer: &Signer, body: serde_json::Value, now: UnixTime, id: u8) -> http::Response<String> {
    let body = body.to_string();
    let request = Incoming {
        method: &Method::POST,
        path: "/sign",
        origin: None,
        body: body.as_bytes(),
        caller: signer::auth::Caller::Anonymous,
        origin_secret: None,
    };
    signer.handle(&request, now, UploadId([id; 16]))
}

fn signed(response: &http::Response<String>) -> SignResponse {
    assert_eq!(response.status(), 200, "{}", response.body());
    serde_json::from_str(response.body()).unwrap()
}

fn refused(response: &http::Response<String>) -> ErrorCode {
    assert_eq!(response.status(), 403, "{}", response.body());
    serde_json::from_str::<ErrorBody>(response.body())
        .unwrap()
        .error
        .code
}

fn first(signer: &Signer) -> SignResponse {
    signed(&sign(
        signer,
        json!({"filename": "report.pdf", "contentType": "application/pdf", "size": 1000}),
        NOW,
        1,
    ))
}

#[test]
fn a_retry_with_the_token_signs_the_same_key_again() {
    let signer = signer(SECRET);
    let first = first(&signer);
    assert!(first.token.starts_with("v2."));
    // Later, with another random id: still the first key, in a fresh policy.
    let later = NOW.plus_seconds(600);
    let retry = signed(&sign(
        &signer,
        json!({"filename": "report.pdf", "contentType": "application/pdf", "size": 1000, "token": first.token}),
        later,
        2,
    ));
    assert_eq!(retry.key, first.key);
    assert_eq!(retry.fields.get("key"), Some(first.key.as_str()));
    assert_eq!(retry.token, first.token);
    assert_ne!(retry.fields.get("policy"), first.fields.get("policy"));
    assert_ne!(retry.expires_at, first.expires_at);
    // The type's case does not matter (it is normalised before the comparison).
    let upper = signed(&sign(
        &signer,
        json!({"filename": "x", "contentType": "Application/PDF", "size": 1000, "token": first.token}),
        later,
        3,
    ));
    assert_eq!(upper.key, first.key);
    // Without the token the same file gets a new key.
    let fresh = signed(&sign(
        &signer,
        json!({"filename": "report.pdf", "contentType": "application/pdf", "size": 1000}),
        later,
        4,
    ));
    assert_ne!(fresh.key, first.key);
}

#[test]
fn a_token_for_another_size_or_type_is_refused() {
    let signer = signer(SECRET);
    let token = first(&signer).token;
    for (content_type, size) in [
        ("application/pdf", 1001),
        ("application/pdf", 999),
        ("text/plain", 1000),
    ] {
        let response = sign(
            &signer,
            json!({"filename": "report.pdf", "contentType": content_type, "size": size, "token": token}),
            NOW,
            2,
        );
        assert_eq!(refused(&response), ErrorCode::InvalidToken);
    }
}

#[test]
fn a_changed_or_foreign_token_is_refused() {
    let signer = signer(SECRET);
    let token = first(&signer).token;
    let other = self::signer("another secret that is 32 bytes long");
    let foreign = first(&other).token;
    let mut flipped = token.clone().into_bytes();
    let at = token.len() / 2;
    flipped[at] = if flipped[at] == b'x' { b'y' } else { b'x' };
    let flipped = String::from_utf8(flipped).unwrap();
    for token in [
        foreign,
        flipped,
        "v1.e30.AAAA".to_string(),
        String::new(),
        "x".repeat(10_000),
    ] {
        let response = sign(
            &signer,
            json!({"filename": "report.pdf", "contentType": "application/pdf", "size": 1000, "token": token}),
            NOW,
            2,
        );
        assert_eq!(refused(&response), ErrorCode::InvalidToken, "{token:.40}");
    }
}

#[test]
fn an_expired_token_is_refused_with_its_own_code() {
    let signer = signer(SECRET);
    let token = first(&signer).token;
    let ttl = signer::config::TOKEN_TTL_SECONDS;
    let body = json!({"filename": "report.pdf", "contentType": "application/pdf", "size": 1000, "token": token});
    assert_eq!(
        sign(&signer, body.clone(), NOW.plus_seconds(ttl), 2).status(),
        200
    );
    let response = sign(&signer, body, NOW.plus_seconds(ttl + 1), 2);
    assert_eq!(refused(&response), ErrorCode::TokenExpired);
}

#[test]
fn a_token_survives_a_restart_with_the_same_secret_only() {
    let token = first(&signer(SECRET)).token;
    let body = json!({"filename": "report.pdf", "contentType": "application/pdf", "size": 1000, "token": token});
    assert_eq!(sign(&signer(SECRET), body.clone(), NOW, 2).status(), 200);
    // A local signer without UPLOAD_TOKEN_SECRET makes its own secret at start.
    let vars = [
        ("UPLOAD_BUCKET", "token-bucket"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "SECRET"),
    ];
    let generated = Signer::new(Config::from_pairs(&vars).unwrap());
    assert_eq!(
        refused(&sign(&generated, body, NOW, 2)),
        ErrorCode::InvalidToken
    );
    let own = signed(&sign(
        &generated,
        json!({"filename": "a", "contentType": "a/b", "size": 1}),
        NOW,
        3,
    ));
    assert!(own.token.starts_with("v2."));
}

/// The claims a token states (the part after the key id, base64url JSON), read the way only a
/// test does.
fn claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let middle = token.split('.').nth(2).unwrap();
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(middle)
        .unwrap();
    serde_json::from_slice(&json).unwrap()
}

const MD5: &str = "kAFQmDzST7DWlj99KOF/cg==";
const OTHER_MD5: &str = "1B2M2Y8AsgTpgAmY7PhCfg==";

/// Issue #11: a token issued for a file's MD5 states it, and signs again only for that MD5, so a
/// retry never gets a form for other bytes (nor one that lets S3 skip the check).
#[test]
fn issue_11_a_token_binds_the_files_md5() {
    let signer = signer(SECRET);
    let pinned = signed(&sign(
        &signer,
        json!({"filename": "report.pdf", "contentType": "application/pdf", "size": 1000, "contentMd5": MD5}),
        NOW,
        1,
    ));
    assert_eq!(claims(&pinned.token)["contentMd5"], MD5);
    assert_eq!(pinned.fields.get("Content-MD5"), Some(MD5));
    let retry = signed(&sign(
        &signer,
        json!({"filename": "report.pdf", "contentType": "application/pdf", "size": 1000, "contentMd5": MD5, "token": pinned.token}),
        NOW.plus_seconds(600),
        2,
    ));
    assert_eq!(retry.key, pinned.key);
    assert_eq!(retry.token, pinned.token);
    assert_eq!(retry.fields.get("Content-MD5"), Some(MD5));
    for other in [json!(null), json!(OTHER_MD5)] {
        let mut body = json!({"filename": "report.pdf", "contentType": "application/pdf", "size": 1000, "token": pinned.token});
        if !other.is_null() {
            body["contentMd5"] = other.clone();
        }
        let response = sign(&signer, body, NOW, 3);
        assert_eq!(refused(&response), ErrorCode::InvalidToken, "{other}");
        assert!(
            response.body().contains("another file"),
            "{}",
            response.body()
        );
    }
}

/// A token issued without an MD5 (curl, Uppy, today's pages) signs again without one, as before,
/// and states no MD5 at all; asked to sign one now, it is a token for another file.
#[test]
fn issue_11_a_token_without_an_md5_signs_only_requests_without_one() {
    let signer = signer(SECRET);
    let plain = first(&signer);
    let stated = claims(&plain.token);
    let mut names: Vec<&String> = stated.as_object().unwrap().keys().collect();
    names.sort();
    assert_eq!(names, ["contentType", "expires", "key", "size"]);
    let body = json!({"filename": "report.pdf", "contentType": "application/pdf", "size": 1000, "token": plain.token});
    let retry = signed(&sign(&signer, body.clone(), NOW, 2));
    assert_eq!(retry.key, plain.key);
    assert!(retry.fields.get("Content-MD5").is_none());
    let mut with_md5 = body;
    with_md5["contentMd5"] = json!(MD5);
    assert_eq!(
        refused(&sign(&signer, with_md5, NOW, 3)),
        ErrorCode::InvalidToken
    );
}
