//! The signer's forms against Ceph radosgw, the strictest S3 we can run here: it answers with
//! AWS's status codes and error codes, enforces every POST-policy rule, and checks STS session
//! tokens. A one-node cluster is started here (about 15 s) and stopped at the end.
//!
//! Every case runs twice: with the user's long-term keys, and with temporary credentials from
//! `GetSessionToken` (what a Lambda role gives the signer: a key, a secret and a session token).
//! Run by `cargo xtask test` (`cargo test -p signer --features radosgw-tests --test radosgw`);
//! needs Debian's `ceph-mon ceph-osd radosgw ceph-common`.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{HttpResponse, SignerProcess, multipart, request};
use local_s3::client::Aws;
use local_s3::radosgw::{self, Radosgw};
use shared::SignResponse;

const BUCKET: &str = "strict-uploads";
const ACCESS_KEY: &str = "AKIAUPLOADERTESTS000";
const SECRET_KEY: &str = "uploaderTestsSecretKey000000000000000000";
const PAGE: &str = "http://127.0.0.1:8080";
const OTHER_PAGE: &str = "http://127.0.0.1:8081";

/// One run's world: the cluster, and the credentials the signer is given.
struct World<'a> {
    rgw: &'a Radosgw,
    credentials: Aws,
}

impl World<'_> {
    /// The signer in local mode with these credentials, plus `extra` variables.
    fn signer(&self, extra: &[(&str, &str)]) -> SignerProcess {
        let endpoint = self.rgw.endpoint();
        let mut vars = vec![
            ("UPLOAD_BUCKET", BUCKET),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", self.credentials.access_key.as_str()),
            (
                "AWS_SECRET_ACCESS_KEY",
                self.credentials.secret_key.as_str(),
            ),
            ("S3_ENDPOINT", endpoint.as_str()),
            ("ALLOWED_ORIGINS", PAGE),
            ("MAX_UPLOAD_BYTES", "67108864"),
        ];
        if let Some(token) = &self.credentials.session_token {
            vars.push(("AWS_SESSION_TOKEN", token.as_str()));
        }
        // Later entries win: a case may replace any of the above.
        vars.extend_from_slice(extra);
        SignerProcess::start(&vars)
    }

    fn upload(&self, fields: &[(String, String)], file: &[u8], file_type: &str) -> HttpResponse {
        let (content_type, body) = multipart(fields, "original.bin", file_type, file);
        request(
            self.rgw.addr(),
            "POST",
            &format!("/{BUCKET}"),
            &[("Content-Type", &content_type), ("Origin", PAGE)],
            &body,
        )
    }
}

fn sign(signer: &SignerProcess, filename: &str, content_type: &str, size: usize) -> SignResponse {
    let body = format!(
        r#"{{"filename":{},"contentType":"{content_type}","size":{size}}}"#,
        serde_json::to_string(filename).unwrap()
    );
    let answer = request(
        signer.addr,
        "POST",
        "/sign",
        &[("Content-Type", "application/json"), ("Origin", PAGE)],
        body.as_bytes(),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    serde_json::from_slice(&answer.body).unwrap()
}

/// Signs `file` with its MD5 pinned (issue #11), as the page does.
fn sign_pinned(
    signer: &SignerProcess,
    filename: &str,
    content_type: &str,
    file: &[u8],
) -> SignResponse {
    let md5 = md5_base64(file);
    let body = serde_json::json!({
        "filename": filename, "contentType": content_type, "size": file.len(), "contentMd5": md5,
    });
    let answer = request(
        signer.addr,
        "POST",
        "/sign",
        &[("Content-Type", "application/json"), ("Origin", PAGE)],
        body.to_string().as_bytes(),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let signed: SignResponse = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(signed.fields.get("Content-MD5"), Some(md5.as_str()));
    signed
}

fn fields(signed: &SignResponse) -> Vec<(String, String)> {
    signed.fields.0.clone()
}

fn set(fields: &mut [(String, String)], name: &str, value: String) {
    let field = fields
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .unwrap_or_else(|| panic!("no {name} field"));
    field.1 = value;
}

fn content(size: usize, seed: u8) -> Vec<u8> {
    (0..size)
        .map(|i| (i as u8).wrapping_mul(29).wrapping_add(seed) ^ (i >> 9) as u8)
        .collect()
}

/// `status` exactly, and S3's error `Code`: AWS's, or radosgw's where it names the same refusal
/// otherwise (it answers a POST whose signature, key or session token it cannot verify with
/// `AccessDenied`, where AWS says `SignatureDoesNotMatch`, `InvalidAccessKeyId` or `InvalidToken`;
/// the status is the same 403).
fn assert_refused(answer: &HttpResponse, status: u16, code: &str) {
    let got = answer.xml("Code");
    let radosgw_name = match code {
        "SignatureDoesNotMatch" | "InvalidAccessKeyId" | "InvalidToken" => "AccessDenied",
        other => other,
    };
    assert_eq!(answer.status, status, "{}", answer.text());
    assert!(
        got.as_deref() == Some(code) || got.as_deref() == Some(radosgw_name),
        "expected {code}: {}",
        answer.text()
    );
}

fn valid_uploads_are_201_with_a_post_response(w: &World) {
    let signer = w.signer(&[]);
    for (name, size) in [("report.pdf", 1), ("한국어 파일 #1+2%.txt", 70_000)] {
        let file = content(size, size as u8);
        let signed = sign(&signer, name, "application/pdf", size);
        let answer = w.upload(&fields(&signed), &file, "application/pdf");
        assert_eq!(answer.status, 201, "{}", answer.text());
        assert!(
            answer.text().contains("<PostResponse>"),
            "{}",
            answer.text()
        );
        assert_eq!(answer.xml("Bucket").as_deref(), Some(BUCKET));
        assert_eq!(answer.xml("Key").as_deref(), Some(signed.key.as_str()));
        assert!(answer.xml("ETag").is_some_and(|e| e.len() > 2));
        assert!(answer.xml("Location").is_some());
        assert_eq!(answer.header("access-control-allow-origin"), Some(PAGE));
        let stored = w.rgw.object(&signed.key).unwrap();
        assert!(
            stored.as_deref() == Some(&file[..]),
            "{name} is not byte-identical"
        );
    }
}

fn a_bad_signature_is_403(w: &World) {
    let signer = w.signer(&[]);
    let signed = sign(&signer, "a.txt", "text/plain", 5);
    let mut form = fields(&signed);
    let signature = &signed.fields.get("x-amz-signature").unwrap();
    let flipped = if signature.starts_with('0') { "1" } else { "0" };
    set(
        &mut form,
        "x-amz-signature",
        format!("{flipped}{}", &signature[1..]),
    );
    assert_refused(
        &w.upload(&form, b"hello", "text/plain"),
        403,
        "SignatureDoesNotMatch",
    );
}

fn a_tampered_policy_is_403(w: &World) {
    let signer = w.signer(&[]);
    let signed = sign(&signer, "a.txt", "text/plain", 5);
    let mut form = fields(&signed);
    let policy = String::from_utf8(
        STANDARD
            .decode(signed.fields.get("policy").unwrap())
            .unwrap(),
    )
    .unwrap();
    let widened = policy.replace(
        "[\"content-length-range\",5,5]",
        "[\"content-length-range\",0,99999999]",
    );
    assert_ne!(widened, policy, "the policy pins the size: {policy}");
    set(&mut form, "policy", STANDARD.encode(widened));
    assert_refused(
        &w.upload(&form, &content(1000, 1), "text/plain"),
        403,
        "SignatureDoesNotMatch",
    );
}

fn an_unknown_access_key_is_403(w: &World) {
    let signer = w.signer(&[("AWS_ACCESS_KEY_ID", "AKIANOSUCHUSER000000")]);
    let signed = sign(&signer, "a.txt", "text/plain", 5);
    assert_refused(
        &w.upload(&fields(&signed), b"hello", "text/plain"),
        403,
        "InvalidAccessKeyId",
    );
}

fn a_wrong_secret_is_403(w: &World) {
    let signer = w.signer(&[(
        "AWS_SECRET_ACCESS_KEY",
        "not/the/secret/at/all/0000000000000000",
    )]);
    let signed = sign(&signer, "a.txt", "text/plain", 5);
    assert_refused(
        &w.upload(&fields(&signed), b"hello", "text/plain"),
        403,
        "SignatureDoesNotMatch",
    );
}

fn an_expired_policy_is_403(w: &World) {
    let signer = w.signer(&[("POLICY_TTL_SECONDS", "1")]);
    let signed = sign(&signer, "a.txt", "text/plain", 5);
    std::thread::sleep(Duration::from_millis(2_100));
    assert_refused(
        &w.upload(&fields(&signed), b"hello", "text/plain"),
        403,
        "AccessDenied",
    );
}

fn a_key_outside_the_policy_is_403(w: &World) {
    let signer = w.signer(&[]);
    let signed = sign(&signer, "a.txt", "text/plain", 5);
    for key in [
        format!("{}x", signed.key),
        "uploads/chosen-by-the-client.txt".to_string(),
        "page/index.html".to_string(),
    ] {
        let mut form = fields(&signed);
        set(&mut form, "key", key.clone());
        assert_refused(
            &w.upload(&form, b"hello", "text/plain"),
            403,
            "AccessDenied",
        );
        assert_eq!(w.rgw.object(&key).unwrap(), None, "{key} was stored");
    }
}

fn another_content_type_is_403(w: &World) {
    let signer = w.signer(&[]);
    let signed = sign(&signer, "a.txt", "text/plain", 5);
    let mut form = fields(&signed);
    set(&mut form, "Content-Type", "text/html".into());
    assert_refused(&w.upload(&form, b"hello", "text/html"), 403, "AccessDenied");
}

fn an_extra_form_field_is_403(w: &World) {
    let signer = w.signer(&[]);
    let signed = sign(&signer, "a.txt", "text/plain", 5);
    let mut form = fields(&signed);
    form.insert(1, ("x-amz-meta-note".into(), "not in the policy".into()));
    assert_refused(
        &w.upload(&form, b"hello", "text/plain"),
        403,
        "AccessDenied",
    );
}

fn a_bogus_session_token_is_403(w: &World) {
    let token = "FwoGZXIvYXdzEBogus".repeat(20);
    let signer = w.signer(&[("AWS_SESSION_TOKEN", token.as_str())]);
    let signed = sign(&signer, "a.txt", "text/plain", 5);
    assert_eq!(
        signed.fields.get("x-amz-security-token"),
        Some(token.as_str())
    );
    assert_refused(
        &w.upload(&fields(&signed), b"hello", "text/plain"),
        403,
        "InvalidToken",
    );
}

fn more_or_fewer_bytes_than_declared_are_400(w: &World) {
    let signer = w.signer(&[]);
    let signed = sign(&signer, "a.bin", "application/octet-stream", 1000);
    let form = fields(&signed);
    assert_refused(
        &w.upload(&form, &content(1001, 2), "application/octet-stream"),
        400,
        "EntityTooLarge",
    );
    assert_refused(
        &w.upload(&form, &content(999, 2), "application/octet-stream"),
        400,
        "EntityTooSmall",
    );
    assert_eq!(w.rgw.object(&signed.key).unwrap(), None);
    // The exact size still goes through with the same form.
    let answer = w.upload(&form, &content(1000, 2), "application/octet-stream");
    assert_eq!(answer.status, 201, "{}", answer.text());
}

fn cors_preflight_passes_for_the_page_only(w: &World) {
    let preflight = |origin: &str| {
        request(
            w.rgw.addr(),
            "OPTIONS",
            &format!("/{BUCKET}"),
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "content-type"),
            ],
            b"",
        )
    };
    let allowed = preflight(PAGE);
    assert_eq!(allowed.status, 200, "{}", allowed.text());
    assert_eq!(allowed.header("access-control-allow-origin"), Some(PAGE));
    assert!(
        allowed
            .header("access-control-allow-methods")
            .is_some_and(|m| m.contains("POST"))
    );
    let refused = preflight(OTHER_PAGE);
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert_eq!(refused.header("access-control-allow-origin"), None);
}

/// A multipart call to the signer: status and JSON (or null).
fn multipart_call(
    signer: &SignerProcess,
    route: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let answer = request(
        signer.addr,
        "POST",
        &format!("/multipart/{route}"),
        &[("Origin", PAGE)],
        body.to_string().as_bytes(),
    );
    let value = serde_json::from_slice(&answer.body).unwrap_or(serde_json::Value::Null);
    (answer.status, value)
}

/// PUTs a part to its signed URL with the signed headers (Content-Length comes from the body).
fn put_part(w: &World, part: &serde_json::Value, bytes: &[u8]) -> HttpResponse {
    let url = part["url"].as_str().unwrap();
    let path = url.strip_prefix(&w.rgw.endpoint()).unwrap();
    let headers: Vec<(String, String)> = part["headers"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("content-length"))
        .map(|(n, v)| (n.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    request(w.rgw.addr(), "PUT", path, &headers, bytes)
}

fn md5_base64(bytes: &[u8]) -> String {
    use md5::Digest;
    STANDARD.encode(md5::Md5::digest(bytes))
}

fn a_multipart_upload_completes_and_forged_parts_are_refused(w: &World) {
    use serde_json::json;
    let signer = w.signer(&[]);
    let size = 12 * 1024 * 1024 + 7;
    let data = content(size, 11);
    let (status, upload) = multipart_call(
        &signer,
        "create",
        &json!({"filename": "큰 파일.bin", "contentType": "application/octet-stream", "size": size}),
    );
    assert_eq!(status, 200, "{upload}");
    let token = upload["token"].as_str().unwrap().to_string();
    let part_size = upload["partSize"].as_u64().unwrap() as usize;
    assert_eq!(upload["parts"], 2);
    let part = |n: usize| &data[(n - 1) * part_size..(n * part_size).min(size)];
    let (status, signed) = multipart_call(
        &signer,
        "sign-parts",
        &json!({"token": token, "parts": [{"number": 1, "md5": md5_base64(part(1))}, {"number": 2, "md5": md5_base64(part(2))}]}),
    );
    assert_eq!(status, 200, "{signed}");
    let (one, two) = (&signed["parts"][0], &signed["parts"][1]);
    // The browser's CORS preflight of a part's PUT passes: the URL carries no credentials (the
    // signature is in the headers), so radosgw answers it from the bucket's CORS rule. (A URL
    // presigned in its query fails here: radosgw 16 checks its signature against headers the
    // preflight does not have.)
    let url = one["url"].as_str().unwrap();
    let path = &url[url.find(&format!("/{BUCKET}/")).unwrap()..];
    let names: Vec<String> = one["headers"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|n| !n.eq_ignore_ascii_case("content-length"))
        .map(|n| n.to_ascii_lowercase())
        .collect();
    let preflight = request(
        w.rgw.addr(),
        "OPTIONS",
        path,
        &[
            ("Origin", PAGE),
            ("Access-Control-Request-Method", "PUT"),
            ("Access-Control-Request-Headers", &names.join(",")),
        ],
        b"",
    );
    assert_eq!(preflight.status, 200, "{}", preflight.text());
    assert_eq!(preflight.header("access-control-allow-origin"), Some(PAGE));
    // radosgw checks the signed Content-MD5: other bytes of the same length are refused.
    let mut changed = part(1).to_vec();
    changed[4096] ^= 1;
    let refused = put_part(w, one, &changed);
    assert!(
        refused.status == 400 && refused.xml("Code").as_deref() == Some("BadDigest"),
        "{}",
        refused.text()
    );
    // Another length breaks the signature.
    assert_eq!(put_part(w, one, &part(1)[1..]).status, 403);
    // Complete with part 2 missing: refused by the signer, nothing completed.
    assert_eq!(put_part(w, one, part(1)).status, 200);
    let (status, body) = multipart_call(&signer, "complete", &json!({"token": token}));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("UploadIncomplete")),
        "{body}"
    );
    assert_eq!(put_part(w, two, part(2)).status, 200);
    let (status, listed) = multipart_call(&signer, "list", &json!({"token": token}));
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["parts"].as_array().unwrap().len(), 2);
    let (status, done) = multipart_call(&signer, "complete", &json!({"token": token}));
    assert_eq!(status, 200, "{done}");
    let key = upload["key"].as_str().unwrap();
    assert_eq!(done["key"], key);
    assert!(
        w.rgw.object(key).unwrap().as_deref() == Some(&data[..]),
        "not byte-identical"
    );

    // Abort: the upload and its parts are gone.
    let (_, other) = multipart_call(
        &signer,
        "create",
        &json!({"filename": "aborted.bin", "contentType": "application/octet-stream", "size": size}),
    );
    let other_token = other["token"].as_str().unwrap().to_string();
    let (status, _) = multipart_call(&signer, "abort", &json!({"token": other_token}));
    assert_eq!(status, 204);
    let (status, body) = multipart_call(&signer, "list", &json!({"token": other_token}));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("NoSuchUpload")),
        "{body}"
    );
    let (status, _) = multipart_call(&signer, "abort", &json!({"token": other_token}));
    assert_eq!(status, 204, "aborting a gone upload is done");
}

/// Issue #11: the `Content-MD5` condition of a pinned form is enforced like every other: a form
/// without the field, or with another MD5 in it (any case of the name), is 403 AccessDenied, and a
/// form signed without an MD5 takes no such field.
fn issue_11_a_form_without_or_with_another_md5_is_403(w: &World) {
    let signer = w.signer(&[]);
    let file = content(4096, 22);
    let mut other = file.clone();
    other[0] ^= 1;
    let signed = sign_pinned(&signer, "pinned.bin", "application/octet-stream", &file);
    let mut dropped = fields(&signed);
    dropped.retain(|(n, _)| n != "Content-MD5");
    let mut changed = fields(&signed);
    set(&mut changed, "Content-MD5", md5_base64(&other));
    let mut renamed = fields(&signed);
    let field = renamed
        .iter_mut()
        .find(|(n, _)| n == "Content-MD5")
        .unwrap();
    *field = ("content-md5".into(), md5_base64(&other));
    for (what, form) in [
        ("no field", dropped),
        ("another MD5", changed),
        ("another MD5, name in lower case", renamed),
    ] {
        let answer = w.upload(&form, &other, "application/octet-stream");
        assert_refused(&answer, 403, "AccessDenied");
        assert_eq!(w.rgw.object(&signed.key).unwrap(), None, "{what}: stored");
    }
    let plain = sign(&signer, "plain.bin", "application/octet-stream", 4096);
    let mut extra = fields(&plain);
    extra.insert(3, ("Content-MD5".into(), md5_base64(&file)));
    assert_refused(
        &w.upload(&extra, &file, "application/octet-stream"),
        403,
        "AccessDenied",
    );
    assert_eq!(w.rgw.object(&plain.key).unwrap(), None);
}

/// Issue #11, measured: radosgw 16 does NOT check a POST's file against its `Content-MD5` field
/// (AWS documents that it does, and s3s-fs does: `400 BadDigest`). A form pinned to one file's
/// MD5 stores other bytes of the same size here, before and after the first write (`201`, the
/// ETag being their MD5). This pins the limitation, so a radosgw that starts checking fails here
/// and the documentation is updated with it. Against radosgw a pinned form still cannot be
/// replayed without its field or with another MD5 (the policy, above), and the page can tell a
/// stored object by its ETag.
fn issue_11_radosgw_stores_other_bytes_under_a_pinned_md5(w: &World) {
    let signer = w.signer(&[]);
    let file = content(70_000, 21);
    let mut other = file.clone();
    other[12_345] ^= 0x20;
    let signed = sign_pinned(&signer, "contract.pdf", "application/pdf", &file);
    let form = fields(&signed);
    let etag = |bytes: &[u8]| {
        use md5::Digest;
        let digest = md5::Md5::digest(bytes);
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    for (what, bytes) in [
        ("other bytes first", &other),
        ("the file", &file),
        ("a replay with other bytes", &other),
    ] {
        let answer = w.upload(&form, bytes, "application/pdf");
        assert_eq!(answer.status, 201, "{what}: {}", answer.text());
        let stored_etag = answer.xml("ETag").unwrap_or_default();
        assert_eq!(stored_etag.trim_matches('"'), etag(bytes), "{what}");
        assert!(
            w.rgw.object(&signed.key).unwrap().as_deref() == Some(&bytes[..]),
            "{what}: not what was sent"
        );
    }
}

/// Issue #22: which checksums radosgw 16 verifies, the fact the page's choice of `Content-MD5`
/// rests on. A wrong `Content-MD5` is refused (`400 BadDigest`) on a PutObject and an
/// UploadPart; a wrong `x-amz-checksum-crc32c` or `-sha256`, signed like any header, is stored
/// as if right: radosgw 16 checks none of S3's newer checksums (Ceph added them in 19), so a
/// cheaper checksum would be checked by nobody here.
fn issue_22_radosgw_verifies_content_md5_and_no_other_checksum(w: &World) {
    let s3 = &w.credentials;
    let data = content(64 * 1024, 33);
    let wrong_md5 = md5_base64(b"other bytes");
    let (wrong_crc32c, wrong_sha256) = ("AAAAAA==", STANDARD.encode([0u8; 32]));
    // A key of each run's own (the suite runs once with each kind of credentials).
    let key = format!("checksums/{}/put.bin", s3.access_key);
    let path = format!("/{BUCKET}/{key}");
    let put = |headers: &[(&str, &str)]| s3.send("s3", "PUT", &path, &[], headers, &data);

    let refused = put(&[("Content-MD5", &wrong_md5)]).expect("PutObject");
    assert_refused(&refused, 400, "BadDigest");
    assert!(
        w.rgw.object(&key).unwrap().is_none(),
        "stored after a BadDigest"
    );
    for header in [
        ("x-amz-checksum-crc32c", wrong_crc32c),
        ("x-amz-checksum-sha256", wrong_sha256.as_str()),
    ] {
        let stored = put(&[header]).expect("PutObject");
        assert_eq!(stored.status, 200, "{header:?}: {}", stored.text());
        assert!(
            w.rgw.object(&key).unwrap().as_deref() == Some(&data[..]),
            "{header:?}: not stored as sent"
        );
    }

    // The same for a part of a multipart upload.
    let key = format!("checksums/{}/parts.bin", s3.access_key);
    let path = format!("/{BUCKET}/{key}");
    let created = s3
        .send("s3", "POST", &path, &[("uploads", "")], &[], b"")
        .expect("CreateMultipartUpload");
    let upload_id = created.xml("UploadId").expect("an UploadId");
    let query = [("partNumber", "1"), ("uploadId", upload_id.as_str())];
    let part = |headers: &[(&str, &str)]| s3.send("s3", "PUT", &path, &query, headers, &data);
    assert_refused(
        &part(&[("Content-MD5", &wrong_md5)]).expect("UploadPart"),
        400,
        "BadDigest",
    );
    let stored = part(&[("x-amz-checksum-crc32c", wrong_crc32c)]).expect("UploadPart");
    assert_eq!(stored.status, 200, "{}", stored.text());
    let aborted = s3
        .send(
            "s3",
            "DELETE",
            &path,
            &[("uploadId", upload_id.as_str())],
            &[],
            b"",
        )
        .expect("AbortMultipartUpload");
    assert_eq!(aborted.status, 204, "{}", aborted.text());
}

type Case = fn(&World);

const CASES: &[(&str, Case)] = &[
    (
        "valid uploads are 201 with a PostResponse",
        valid_uploads_are_201_with_a_post_response,
    ),
    ("a bad signature is 403", a_bad_signature_is_403),
    ("a tampered policy is 403", a_tampered_policy_is_403),
    ("an unknown access key is 403", an_unknown_access_key_is_403),
    ("a wrong secret is 403", a_wrong_secret_is_403),
    ("an expired policy is 403", an_expired_policy_is_403),
    (
        "a key outside the policy is 403",
        a_key_outside_the_policy_is_403,
    ),
    ("another Content-Type is 403", another_content_type_is_403),
    ("an extra form field is 403", an_extra_form_field_is_403),
    ("a bogus session token is 403", a_bogus_session_token_is_403),
    (
        "more or fewer bytes than declared are 400",
        more_or_fewer_bytes_than_declared_are_400,
    ),
    (
        "CORS preflight passes for the page only",
        cors_preflight_passes_for_the_page_only,
    ),
    (
        "a multipart upload completes and forged parts are refused",
        a_multipart_upload_completes_and_forged_parts_are_refused,
    ),
    (
        "issue 11: a form without or with another MD5 is 403",
        issue_11_a_form_without_or_with_another_md5_is_403,
    ),
    (
        "issue 11: radosgw stores other bytes under a pinned MD5 (it does not check it)",
        issue_11_radosgw_stores_other_bytes_under_a_pinned_md5,
    ),
    (
        "issue 22: radosgw verifies Content-MD5 and no other checksum",
        issue_22_radosgw_verifies_content_md5_and_no_other_checksum,
    ),
];

fn main() -> ExitCode {
    let missing = radosgw::missing_programs();
    if !missing.is_empty() {
        eprintln!(
            "radosgw suite: cannot run, missing {} (Debian packages: {})",
            missing.join(", "),
            radosgw::PACKAGES.join(" ")
        );
        return ExitCode::FAILURE;
    }
    let started = Instant::now();
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("radosgw-{}", std::process::id()));
    let rgw = match Radosgw::start(radosgw::Options {
        dir,
        bucket: BUCKET.into(),
        access_key: ACCESS_KEY.into(),
        secret_key: SECRET_KEY.into(),
        allowed_origins: vec![PAGE.into()],
    }) {
        Ok(rgw) => rgw,
        Err(e) => {
            eprintln!("radosgw suite: the cluster did not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "radosgw up at {} in {:.1} s",
        rgw.endpoint(),
        started.elapsed().as_secs_f64()
    );
    let session = match rgw.session_credentials(3600) {
        Ok(session) => session,
        Err(e) => {
            eprintln!("radosgw suite: no session credentials: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Panics are reported per case, not as a backtrace each.
    std::panic::set_hook(Box::new(|info| eprintln!("    {info}")));
    let (mut passed, mut failed) = (0, Vec::new());
    for (label, credentials) in [
        ("long-term keys", rgw.client()),
        ("session credentials", session),
    ] {
        let world = World {
            rgw: &rgw,
            credentials,
        };
        for (name, case) in CASES {
            let outcome = catch_unwind(AssertUnwindSafe(|| case(&world)));
            let verdict = if outcome.is_ok() { "ok" } else { "FAILED" };
            println!("test radosgw [{label}] {name} ... {verdict}");
            match outcome {
                Ok(()) => passed += 1,
                Err(_) => failed.push(format!("[{label}] {name}")),
            }
        }
    }
    drop(rgw);
    println!(
        "\nradosgw: {passed} passed, {} failed in {:.1} s",
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        for name in failed {
            println!("    failed: {name}");
        }
        ExitCode::FAILURE
    }
}
