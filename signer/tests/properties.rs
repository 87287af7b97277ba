//! Property tests over the whole HTTP API (`Signer::handle`, no network): whatever arrives, the
//! answer is a 200 or a 4xx `ErrorBody`, and every issued key is a safe key under the prefix.

mod common;

use http::Method;
use proptest::prelude::*;
use signer::key::UploadId;
use signer::time::UnixTime;
use signer::{Incoming, Signer};

const PREFIX: &str = "incoming/web/";

fn signer() -> Signer {
    common::signer(&[
        ("UPLOAD_BUCKET", "prop-bucket"),
        ("UPLOAD_PREFIX", PREFIX),
        ("ALLOWED_ORIGINS", "https://page.example"),
        (
            "ALLOWED_CONTENT_TYPES",
            "image/*,application/pdf,text/plain",
        ),
        ("MAX_UPLOAD_BYTES", "1000000"),
    ])
}

fn assert_ok_or_client_error(response: &http::Response<String>) -> Result<(), TestCaseError> {
    let status = response.status().as_u16();
    prop_assert!(
        status == 200 || status == 204 || (400..500).contains(&status),
        "status {status}: {}",
        response.body()
    );
    if status >= 400 {
        let body: shared::ErrorBody = serde_json::from_str(response.body()).map_err(|e| {
            TestCaseError::fail(format!("not an ErrorBody ({e}): {}", response.body()))
        })?;
        prop_assert_eq!(body.error.code.http_status(), status);
    }
    Ok(())
}

/// Names a person would pick (with folders) as often as hostile ones, so that a fair share of the
/// cases is signed and the key checks run on them (counted in the test).
fn filename() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "([a-zA-Z0-9가-힣 ._-]{1,12}/){0,3}[a-zA-Z0-9가-힣 ._()-]{1,30}",
        1 => any::<String>(),
        1 => "[./\\\\ a-z\u{0}-\u{1f}\u{7f}-\u{9f}\u{200b}-\u{200f}\u{202a}-\u{202e}가-힣]{0,40}",
        1 => Just("..".to_string()),
        1 => Just("../".repeat(100)),
        1 => "\\PC{1000,1100}",
    ]
}

fn content_type() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("image/png".to_string()),
        Just("application/pdf".to_string()),
        Just("TEXT/PLAIN".to_string()),
        "[a-z]{1,8}/[a-z0-9.+-]{1,12}",
        any::<String>(),
    ]
}

/// No MD5, a real one (any 16 bytes), or any text: near misses (other lengths, base64url, no
/// padding) and arbitrary strings, quotes and control characters included.
fn content_md5() -> impl Strategy<Value = Option<String>> {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    prop_oneof![
        3 => Just(None),
        3 => any::<[u8; 16]>().prop_map(|digest| Some(STANDARD.encode(digest))),
        1 => proptest::collection::vec(any::<u8>(), 0..24)
            .prop_map(|bytes| Some(STANDARD.encode(bytes))),
        1 => "[A-Za-z0-9+/_=-]{20,26}".prop_map(Some),
        1 => any::<String>().prop_map(Some),
    ]
}

/// What the signer must accept as an MD5, written independently of it: 24 characters that
/// decode (canonical padded base64) to 16 bytes.
fn is_base64_md5(text: &str) -> bool {
    use base64::Engine;
    text.len() == 24
        && base64::engine::general_purpose::STANDARD
            .decode(text)
            .is_ok_and(|bytes| bytes.len() == 16)
}

/// The signed policy, decoded, says exactly what the form fields say: one `eq` condition per
/// field (the same value), the size at both ends of `content-length-range`, nothing else.
fn policy_matches_fields_exactly(
    signed: &shared::SignResponse,
    size: u64,
) -> Result<(), TestCaseError> {
    use base64::Engine;
    let policy = signed.fields.get("policy").unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(policy)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let document: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut conditions = Vec::new();
    let mut range = None;
    for condition in document["conditions"].as_array().unwrap() {
        if let Some(object) = condition.as_object() {
            prop_assert_eq!(object.len(), 1);
            let (name, value) = object.iter().next().unwrap();
            conditions.push((name.clone(), value.as_str().unwrap().to_string()));
        } else {
            prop_assert!(range.is_none(), "two ranges");
            range = Some(condition.clone());
        }
    }
    prop_assert_eq!(
        range,
        Some(serde_json::json!(["content-length-range", size, size]))
    );
    let bucket = conditions.remove(0);
    prop_assert_eq!(bucket, ("bucket".to_string(), "prop-bucket".to_string()));
    let fields: Vec<(String, String)> = signed
        .fields
        .iter()
        .filter(|(name, _)| *name != "policy" && *name != "x-amz-signature")
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    prop_assert_eq!(conditions, fields);
    Ok(())
}

/// One sign request: a 200 with a safe key whose form and policy agree, or a 4xx. Whether it got
/// a form.
fn sign_request_case(
    (filename, content_type, size, id, now, md5): (
        String,
        String,
        u64,
        [u8; 16],
        u64,
        Option<String>,
    ),
) -> Result<bool, TestCaseError> {
    let mut body =
        serde_json::json!({"filename": filename, "contentType": content_type, "size": size});
    if let Some(md5) = &md5 {
        body["contentMd5"] = serde_json::json!(md5);
    }
    let body = body.to_string();
    let response = signer().handle(
        &Incoming {
            method: &Method::POST,
            path: "/sign",
            origin: Some("https://page.example"),
            body: body.as_bytes(),
            caller: signer::auth::Caller::Anonymous,
            origin_secret: None,
        },
        UnixTime(now),
        UploadId(id),
    );
    assert_ok_or_client_error(&response)?;
    if md5.as_deref().is_some_and(|md5| !is_base64_md5(md5)) {
        prop_assert_eq!(response.status(), 400);
        prop_assert!(
            response.body().contains("MalformedRequest"),
            "{}",
            response.body()
        );
    }
    let signed = response.status() == 200;
    if signed {
        let signed: shared::SignResponse = serde_json::from_str(response.body()).unwrap();
        let key = signed.key.as_str();
        prop_assert!(key.starts_with(PREFIX), "{key}");
        prop_assert!(key.len() <= 1024);
        prop_assert!(
            !key.split('/')
                .any(|segment| segment == ".." || segment == "." || segment.is_empty()),
            "{key}"
        );
        prop_assert!(!key.chars().any(char::is_control), "{key:?}");
        prop_assert!(!key.contains('\\'));
        // The id, then the file's folders (at most 16) and its name.
        let depth = key.matches('/').count() - PREFIX.matches('/').count();
        prop_assert!((1..=1 + signer::key::MAX_FOLDERS).contains(&depth), "{key}");
        prop_assert_eq!(signed.fields.get("key"), Some(key));
        prop_assert!(size <= 1_000_000 && size > 0);
        policy_matches_fields_exactly(&signed, size)?;
        // An MD5 is signed only as given and only when it is one (issue #11).
        prop_assert_eq!(signed.fields.get("Content-MD5"), md5.as_deref());
        if let Some(md5) = &md5 {
            prop_assert!(is_base64_md5(md5), "{md5:?}");
        }
        // No S3 POST variable and no invisible character in a key.
        prop_assert!(!key.contains('$'), "{key}");
        prop_assert!(!key.chars().any(signer::key::is_invisible), "{key:?}");
    }
    Ok(signed)
}

/// Issue #23: the key checks above run only on 200 answers, so the run must have some (and some
/// refusals): counted, not assumed.
#[test]
fn any_sign_request_gets_200_or_4xx_and_safe_keys() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let signed = AtomicUsize::new(0);
    let refused = AtomicUsize::new(0);
    let strategy = (
        filename(),
        content_type(),
        prop_oneof![3 => 1u64..=1_000_000, 1 => 0u64..2_000_000, 1 => any::<u64>()],
        any::<[u8; 16]>(),
        0u64..4_102_444_800,
        content_md5(),
    );
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 512,
        ..ProptestConfig::default()
    });
    let result = runner.run(&strategy, |case| {
        let counter = if sign_request_case(case)? {
            &signed
        } else {
            &refused
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(())
    });
    if let Err(err) = result {
        panic!("{err}");
    }
    let (signed, refused) = (signed.into_inner(), refused.into_inner());
    eprintln!("sign requests: {signed} signed, {refused} refused");
    assert!(
        signed >= 512 / 10,
        "only {signed} of 512 cases got a form ({refused} refused)"
    );
    assert!(
        refused >= 512 / 10,
        "only {refused} of 512 cases were refused ({signed} signed)"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_body_gets_200_or_4xx(body in prop_oneof![
        any::<Vec<u8>>(),
        "\\{\"filename\":.{0,20},\"contentType\":.{0,20},\"size\":.{0,20}\\}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 16_000..17_000),
    ]) {
        let response = signer().handle(
            &Incoming { method: &Method::POST, path: "/sign", origin: None, body: &body, caller: signer::auth::Caller::Anonymous, origin_secret: None },
            UnixTime(1_700_000_000),
            UploadId([7; 16]),
        );
        assert_ok_or_client_error(&response)?;
    }

    #[test]
    fn any_body_to_the_multipart_routes_gets_a_4xx_before_any_storage_call(
        route in prop_oneof![Just("create"), Just("sign-parts"), Just("list"), Just("complete"), Just("abort")],
        body in prop_oneof![
            any::<Vec<u8>>(),
            "\\{\"token\":\"v[12]\\.[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,44}\"(,\"parts\":\\[\\{\"number\":[0-9]{1,6}\\}\\])?\\}".prop_map(String::into_bytes),
        ],
    ) {
        let path = format!("/multipart/{route}");
        let response = signer().handle(
            &Incoming { method: &Method::POST, path: &path, origin: None, body: &body, caller: signer::auth::Caller::Anonymous, origin_secret: None },
            UnixTime(1_700_000_000),
            UploadId([7; 16]),
        );
        // Garbage and forged tokens never reach S3: `handle` would answer 502 if they did.
        assert_ok_or_client_error(&response)?;
        prop_assert!(response.status().as_u16() >= 400);
    }

    #[test]
    fn any_method_path_and_origin_gets_a_non_5xx_answer(
        method in prop_oneof![Just(Method::GET), Just(Method::POST), Just(Method::PUT), Just(Method::DELETE), Just(Method::OPTIONS), Just(Method::HEAD), Just(Method::PATCH)],
        path in prop_oneof![Just("/sign".to_string()), Just("/rules".to_string()), "/[a-z/.]{0,12}"],
        origin in proptest::option::of(prop_oneof![Just("https://page.example".to_string()), "https?://[a-z.]{1,12}"]),
    ) {
        let response = signer().handle(
            &Incoming { method: &method, path: &path, origin: origin.as_deref(), body: b"{}", caller: signer::auth::Caller::Anonymous, origin_secret: None },
            UnixTime(1_700_000_000),
            UploadId([7; 16]),
        );
        assert_ok_or_client_error(&response)?;
        let allowed = origin.as_deref().is_none_or(|o| o == "https://page.example");
        prop_assert_eq!(response.headers().contains_key("access-control-allow-origin"), allowed && origin.is_some());
    }
}
