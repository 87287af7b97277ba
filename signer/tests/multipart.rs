//! Multipart uploads through the signer binary against s3s-fs (both on 127.0.0.1): the signer
//! creates the upload, signs part URLs that pin each part's length (and MD5), lists, completes
//! only a whole upload, and aborts. Every forged step is refused by S3 or by the signer.

mod common;

use base64::Engine;
use common::request;
use common::stack::{PAGE, Stack, content};
use md5::{Digest, Md5};
use serde_json::{Value, json};
use shared::{CompletedUpload, ListedParts, MultipartUpload, SignedParts};

const MIB: usize = 1024 * 1024;
const SIZE: usize = 20 * MIB + 5;

fn call(stack: &Stack, route: &str, body: Value) -> (u16, Value) {
    let response = request(
        stack.signer.addr,
        "POST",
        &format!("/multipart/{route}"),
        &[("Content-Type", "application/json"), ("Origin", PAGE)],
        body.to_string().as_bytes(),
    );
    let value = if response.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&response.body)
            .unwrap_or_else(|e| panic!("{route}: not JSON ({e}): {}", response.text()))
    };
    (response.status, value)
}

fn create(stack: &Stack, name: &str, size: usize) -> MultipartUpload {
    let (status, body) = call(
        stack,
        "create",
        json!({"filename": name, "contentType": "application/octet-stream", "size": size}),
    );
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).unwrap()
}

fn md5(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Md5::digest(bytes))
}

fn sign(stack: &Stack, upload: &MultipartUpload, parts: Value) -> (u16, Value) {
    call(
        stack,
        "sign-parts",
        json!({"token": upload.token, "parts": parts}),
    )
}

/// PUTs `bytes` to a signed part URL with the signed headers (but Content-Length, which the
/// client sets from the body).
fn put(stack: &Stack, url: &str, headers: &[(String, String)], bytes: &[u8]) -> (u16, String) {
    let path = url
        .strip_prefix(&stack.s3.as_ref().unwrap().endpoint())
        .unwrap();
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("content-length"))
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let response = request(stack.s3_addr(), "PUT", path, &headers, bytes);
    (response.status, response.text())
}

fn part_bytes(data: &[u8], upload: &MultipartUpload, number: u32) -> Vec<u8> {
    let start = (number as usize - 1) * upload.part_size as usize;
    let end = (start + upload.part_size as usize).min(data.len());
    data[start..end].to_vec()
}

#[test]
fn a_multipart_upload_arrives_byte_identical() {
    let stack = Stack::start("mp-ok", &[]);
    let data = content(SIZE, 3);
    let upload = create(&stack, "big file.bin", SIZE);
    assert_eq!((upload.part_size, upload.parts), (8 * MIB as u64, 3));
    assert!(upload.key.starts_with("uploads/") && upload.key.ends_with("/big file.bin"));
    let parts: Vec<Value> = (1..=3)
        .map(|n| json!({"number": n, "md5": md5(&part_bytes(&data, &upload, n))}))
        .collect();
    let (status, body) = sign(&stack, &upload, Value::Array(parts));
    assert_eq!(status, 200, "{body}");
    let signed: SignedParts = serde_json::from_value(body).unwrap();
    for part in &signed.parts {
        assert_eq!(
            part.headers.get("Content-Length"),
            Some(
                part_bytes(&data, &upload, part.number)
                    .len()
                    .to_string()
                    .as_str()
            )
        );
        let (status, text) = put(
            &stack,
            &part.url,
            &part.headers.0,
            &part_bytes(&data, &upload, part.number),
        );
        assert_eq!(status, 200, "part {}: {text}", part.number);
    }
    let (status, body) = call(&stack, "list", json!({"token": upload.token}));
    assert_eq!(status, 200, "{body}");
    let listed: ListedParts = serde_json::from_value(body).unwrap();
    let sizes: Vec<(u32, u64)> = listed.parts.iter().map(|p| (p.number, p.size)).collect();
    assert_eq!(
        sizes,
        vec![
            (1, 8 * MIB as u64),
            (2, 8 * MIB as u64),
            (3, 4 * MIB as u64 + 5)
        ]
    );
    let (status, body) = call(&stack, "complete", json!({"token": upload.token}));
    assert_eq!(status, 200, "{body}");
    let done: CompletedUpload = serde_json::from_value(body).unwrap();
    assert_eq!(done.key, upload.key);
    assert_eq!(stack.stored(&upload.key).as_deref(), Some(&data[..]));
}

#[test]
fn forged_parts_and_calls_are_refused() {
    let stack = Stack::start("mp-forged", &[]);
    let data = content(SIZE, 5);
    let upload = create(&stack, "forged.bin", SIZE);
    let first = part_bytes(&data, &upload, 1);
    let (_, body) = sign(
        &stack,
        &upload,
        json!([{"number": 1, "md5": md5(&first)}, {"number": 3}]),
    );
    let signed: SignedParts = serde_json::from_value(body).unwrap();
    let (one, three) = (&signed.parts[0], &signed.parts[1]);

    // S3 refuses a part of another length, and other bytes than the signed MD5.
    let (status, text) = put(&stack, &one.url, &one.headers.0, &first[1..]);
    assert_eq!(status, 403, "one byte less: {text}");
    let mut longer = first.clone();
    longer.push(0);
    let (status, text) = put(&stack, &one.url, &one.headers.0, &longer);
    assert_eq!(status, 403, "one byte more: {text}");
    // One byte changed, same length, under the signed MD5: `400 BadDigest` (AWS and radosgw
    // check Content-MD5 on UploadPart; s3s-fs does not, local-s3's layer does).
    let mut changed = first.clone();
    changed[1000] ^= 1;
    let (status, text) = put(&stack, &one.url, &one.headers.0, &changed);
    assert_eq!(status, 400, "one byte changed: {text}");
    assert!(text.contains("<Code>BadDigest</Code>"), "{text}");
    let (status, body) = call(&stack, "list", json!({"token": upload.token}));
    assert_eq!(
        (status, &body["parts"]),
        (200, &json!([])),
        "a refused part was kept"
    );
    // Without its signed MD5 header, the part's URL is refused too.
    let (status, _) = put(&stack, &one.url, &[], &first);
    assert_eq!(status, 403);

    // The signer refuses parts outside the plan, too many at once and a changed token.
    let too_many: Vec<Value> = (0..=shared::MAX_PARTS_PER_SIGN)
        .map(|i| json!({"number": 1 + i % 3}))
        .collect();
    for bad in [
        json!([{"number": 0}]),
        json!([{"number": 4}]),
        json!([]),
        Value::Array(too_many),
    ] {
        let (status, body) = sign(&stack, &upload, bad);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("PartNotInPlan"))
        );
    }
    // Each part once per call: the same part asked for again and again gets nothing signed.
    for twice in [
        json!([{"number": 1}, {"number": 1}]),
        json!([{"number": 2}, {"number": 3}, {"number": 2}]),
    ] {
        let (status, body) = sign(&stack, &upload, twice);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("MalformedRequest")),
            "{body}"
        );
        assert!(body.get("parts").is_none());
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("asked for twice")),
            "{body}"
        );
    }
    let mut token = upload.token.clone().into_bytes();
    let at = token.len() - 3;
    token[at] = if token[at] == b'A' { b'B' } else { b'A' };
    let token = String::from_utf8(token).unwrap();
    for route in ["sign-parts", "list", "complete", "abort"] {
        let body = if route == "sign-parts" {
            json!({"token": token, "parts": [{"number": 1}]})
        } else {
            json!({"token": token})
        };
        let (status, body) = call(&stack, route, body);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("InvalidToken")),
            "{route}"
        );
    }
    // A single-POST token is not a multipart one.
    let (status, body) = call(&stack, "list", json!({"token": upload.token.clone() + "x"}));
    assert_eq!(status, 403, "{body}");

    // Complete refuses a missing part, and stores nothing.
    let (status, _) = put(&stack, &one.url, &one.headers.0, &first);
    assert_eq!(status, 200);
    let (status, _) = put(
        &stack,
        &three.url,
        &three.headers.0,
        &part_bytes(&data, &upload, 3),
    );
    assert_eq!(status, 200);
    let (status, body) = call(&stack, "complete", json!({"token": upload.token}));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("UploadIncomplete")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Part 2"),
        "{body}"
    );
    assert_eq!(stack.stored(&upload.key), None);

    // Abort leaves nothing; the upload is gone for list, and aborting again is fine.
    let (status, _) = call(&stack, "abort", json!({"token": upload.token}));
    assert_eq!(status, 204);
    // AWS and radosgw answer NoSuchUpload; s3s-fs (measured) lists an empty upload.
    let (status, body) = call(&stack, "list", json!({"token": upload.token}));
    match status {
        404 => assert_eq!(body["error"]["code"], "NoSuchUpload"),
        200 => assert_eq!(body["parts"], json!([])),
        _ => panic!("{status} {body}"),
    }
    assert_eq!(stack.files(), Vec::<String>::new(), "parts left behind");
    // Aborting again: 204 where the store answers NoSuchUpload (AWS, radosgw); s3s-fs
    // (measured) answers AccessDenied, which the signer does not take for "gone" (on AWS it would
    // mean the role may not abort, and parts would stay): 502.
    let (status, _) = call(&stack, "abort", json!({"token": upload.token}));
    assert!(status == 204 || status == 502, "{status}");
    assert_eq!(stack.stored(&upload.key), None);
}

#[test]
fn create_checks_the_rules_and_sign_refuses_what_is_too_big_for_one_post() {
    const SECRET: &str = "the multipart tests' token secret, 32+ bytes";
    let stack = Stack::start(
        "mp-rules",
        &[
            ("MAX_UPLOAD_BYTES", "10737418240"),
            ("UPLOAD_TOKEN_SECRET", SECRET),
        ],
    );
    let (status, body) = call(
        &stack,
        "create",
        json!({"filename": "page.html", "contentType": "text/html", "size": 100}),
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("ContentTypeNotAllowed"))
    );
    let (status, body) = call(
        &stack,
        "create",
        json!({"filename": "a", "contentType": "a/b", "size": 1, "token": "x"}),
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("MalformedRequest"))
    );
    // 6 GiB: allowed by the rules, too big for one POST, fine as multipart.
    let size = 6u64 << 30;
    let response = request(
        stack.signer.addr,
        "POST",
        "/sign",
        &[("Origin", PAGE)],
        json!({"filename": "huge.iso", "contentType": "application/octet-stream", "size": size})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(response.status, 400, "{}", response.text());
    assert!(response.text().contains("multipart"));
    // Planned as 96 parts of 64 MiB (`PartPlan::for_size`).
    let upload = create(&stack, "huge.iso", size as usize);
    assert_eq!((upload.part_size, upload.parts), (64 * MIB as u64, 96));
    let (status, body) = sign(&stack, &upload, json!([{"number": 96}]));
    assert_eq!(status, 200, "{body}");
    // A token from before bigger parts (8 MiB parts for every size, 768 here) still signs its
    // plan, so an upload started then resumes; a plan S3 would refuse is no token's.
    let token = |part_size: u64| {
        let claims = shared::UploadClaims {
            upload_id: Some(upload.upload_id.clone()),
            part_size: Some(part_size),
            ..shared::UploadClaims::single(
                upload.key.clone(),
                "application/octet-stream".into(),
                size,
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs()
                    + 3600,
            )
        };
        signer::token::TokenSecret::new(SECRET.as_bytes())
            .unwrap()
            .issue(&claims)
    };
    let earlier = MultipartUpload {
        token: token(8 * MIB as u64),
        ..upload.clone()
    };
    let (status, body) = sign(&stack, &earlier, json!([{"number": 768}]));
    assert_eq!(status, 200, "{body}");
    let (status, body) = sign(&stack, &earlier, json!([{"number": 769}]));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("PartNotInPlan"))
    );
    let refused = MultipartUpload {
        token: token(4 * MIB as u64),
        ..upload.clone()
    };
    let (status, body) = sign(&stack, &refused, json!([{"number": 1}]));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("InvalidToken"))
    );
    let (status, _) = call(&stack, "abort", json!({"token": upload.token}));
    assert_eq!(status, 204);
    // The threshold is published with the rules.
    let rules = request(stack.signer.addr, "GET", "/rules", &[], b"");
    assert!(
        rules
            .text()
            .contains("\"multipartThresholdBytes\":67108864"),
        "{}",
        rules.text()
    );
}

/// Issue #24: with `REQUIRE_MD5` every form and every part is signed only with its MD5, so no
/// upload token can sign the key for other bytes; the rules say so, for the page.
#[test]
fn with_require_md5_forms_and_parts_are_signed_only_with_their_md5() {
    let stack = Stack::start("mp-md5", &[("REQUIRE_MD5", "true")]);
    let rules = request(stack.signer.addr, "GET", "/rules", &[("Origin", PAGE)], b"");
    assert_eq!(common::json(&rules)["requireMd5"], true);
    let sign_form = |body: Value| {
        let response = request(
            stack.signer.addr,
            "POST",
            "/sign",
            &[("Origin", PAGE)],
            body.to_string().as_bytes(),
        );
        (response.status, common::json(&response))
    };
    let (status, body) = sign_form(
        json!({"filename": "a.bin", "contentType": "application/octet-stream", "size": 3}),
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("Md5Required")),
        "{body}"
    );
    let (status, body) = sign_form(
        json!({"filename": "a.bin", "contentType": "application/octet-stream", "size": 3, "contentMd5": md5(b"abc")}),
    );
    assert_eq!(status, 200, "{body}");
    // In a batch, each file on its own: the one without is refused, the other signed.
    let response = request(
        stack.signer.addr,
        "POST",
        "/sign/batch",
        &[("Origin", PAGE)],
        json!({"files": [
            {"filename": "b.bin", "contentType": "application/octet-stream", "size": 3},
            {"filename": "c.bin", "contentType": "application/octet-stream", "size": 3, "contentMd5": md5(b"abc")},
        ]})
        .to_string()
        .as_bytes(),
    );
    let results = common::json(&response)["results"].clone();
    assert_eq!(results[0]["error"]["code"], "Md5Required", "{results}");
    assert!(results[1]["key"].is_string(), "{results}");

    let data = content(SIZE, 7);
    let upload = create(&stack, "big.bin", SIZE);
    let (status, body) = sign(&stack, &upload, json!([{"number": 1}]));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("Md5Required")),
        "{body}"
    );
    let mut parts = Vec::new();
    for number in 1..=upload.parts {
        parts.push(json!({"number": number, "md5": md5(&part_bytes(&data, &upload, number))}));
    }
    let (status, body) = sign(&stack, &upload, Value::Array(parts));
    assert_eq!(status, 200, "{body}");
    let signed: SignedParts = serde_json::from_value(body).unwrap();
    for part in &signed.parts {
        let (status, text) = put(
            &stack,
            &part.url,
            &part.headers.0,
            &part_bytes(&data, &upload, part.number),
        );
        assert_eq!(status, 200, "part {}: {text}", part.number);
    }
    let (status, body) = call(&stack, "complete", json!({"token": upload.token}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(stack.stored(&upload.key).as_deref(), Some(&data[..]));
}
