//! The signer's forms against a real S3 server: the local binary (started here in local mode) signs,
//! and s3s-fs (started here on 127.0.0.1; it verifies SigV4 POST policies as AWS does) must store
//! exactly the described file and refuse every form that differs from what was signed. Both servers
//! are stopped when each test ends.

mod common;

use common::stack::{BUCKET, PAGE, Stack, content, fields};
use common::{json, request};
use shared::FormFields;

#[test]
fn signed_forms_upload_files_byte_identical() {
    let stack = Stack::start("ok", &[]);
    let cases: [(&str, &str, usize); 4] = [
        ("one-byte.txt", "text/plain", 1),
        ("고양이 사진 #1 + 50% off.png", "image/png", 70_000),
        ("../../etc/passwd", "application/octet-stream", 1000),
        (
            "five-mebibytes.bin",
            "application/octet-stream",
            5 * 1024 * 1024,
        ),
    ];
    for (i, (name, content_type, size)) in cases.into_iter().enumerate() {
        let file = content(size, i as u8);
        let signed = stack.sign(name, content_type, size as u64);
        assert!(signed.key.starts_with("uploads/"), "{}", signed.key);
        assert_eq!(signed.method, "POST");
        let response = stack.upload(&signed, &fields(&signed), &file, content_type);
        assert_eq!(response.status, 201, "{name}: {}", response.text());
        assert_eq!(response.header("access-control-allow-origin"), Some(PAGE));
        let xml = response.text();
        assert_eq!(
            response.xml("Key").as_deref(),
            Some(signed.key.as_str()),
            "{xml}"
        );
        assert_eq!(response.xml("Bucket").as_deref(), Some(BUCKET), "{xml}");
        assert!(response.xml("ETag").is_some_and(|e| !e.is_empty()), "{xml}");
        assert!(
            stack.stored(&signed.key) == Some(file),
            "{name}: stored bytes differ"
        );
    }
}

#[test]
fn html_is_refused_by_default_and_every_object_is_a_download() {
    let stack = Stack::start("active", &[]);
    let response = request(
        stack.signer.addr,
        "POST",
        "/sign",
        &[("Origin", PAGE)],
        br#"{"filename":"page.html","contentType":"text/html","size":10}"#,
    );
    assert_eq!(response.status, 400, "{}", response.text());
    assert_eq!(json(&response)["error"]["code"], "ContentTypeNotAllowed");
    // Listed exactly, HTML is accepted, and stored as an attachment.
    let listed = Stack::start("listed", &[("ALLOWED_CONTENT_TYPES", "text/html,image/*")]);
    let signed = listed.sign("page.html", "text/html", 10);
    assert_eq!(
        signed.fields.get("Content-Disposition"),
        Some("attachment; filename*=UTF-8''page.html")
    );
    let response = listed.upload(&signed, &fields(&signed), b"<b>hi</b>!", "text/html");
    assert_eq!(response.status, 201, "{}", response.text());
}

#[test]
fn a_retry_with_the_token_after_a_lost_answer_leaves_one_object() {
    let stack = Stack::start("retry", &[]);
    let bytes = content(4096, 9);
    let first = stack.sign("retried.bin", "application/octet-stream", 4096);
    // The first post reached S3 and was stored, but the page never saw the 201 (a dropped
    // connection, a closed laptop): it signs again with the token and posts again.
    let response = stack.upload(&first, &fields(&first), &bytes, "application/octet-stream");
    assert_eq!(response.status, 201, "{}", response.text());
    let retry = stack.sign_json(serde_json::json!({
        "filename": "retried.bin", "contentType": "application/octet-stream", "size": 4096,
        "token": first.token,
    }));
    assert_eq!(retry.key, first.key);
    let response = stack.upload(&retry, &fields(&retry), &bytes, "application/octet-stream");
    assert_eq!(response.status, 201, "{}", response.text());
    assert_eq!(stack.keys(), vec![first.key.clone()]);
    assert_eq!(stack.stored(&first.key).as_deref(), Some(&bytes[..]));
}

#[test]
fn the_same_name_twice_gets_two_keys_and_both_survive() {
    let stack = Stack::start("twice", &[]);
    let first = stack.sign("report.pdf", "application/pdf", 3);
    let second = stack.sign("report.pdf", "application/pdf", 4);
    assert_ne!(first.key, second.key);
    assert_eq!(
        stack
            .upload(&first, &fields(&first), b"one", "application/pdf")
            .status,
        201
    );
    assert_eq!(
        stack
            .upload(&second, &fields(&second), b"two!", "application/pdf")
            .status,
        201
    );
    assert_eq!(stack.stored(&first.key).as_deref(), Some(&b"one"[..]));
    assert_eq!(stack.stored(&second.key).as_deref(), Some(&b"two!"[..]));
}

/// Every way of changing a signed form: S3 must refuse it and store nothing.
#[test]
fn forged_forms_are_refused() {
    let stack = Stack::start("forged", &[]);
    type Forge = fn(&mut Vec<(String, String)>, &mut Vec<u8>);
    fn set(fields: &mut [(String, String)], name: &str, value: String) {
        fields.iter_mut().find(|(n, _)| n == name).unwrap().1 = value;
    }
    // What AWS answers, and where s3s answers differently (400 InvalidPolicyDocument for a failed
    // condition, where AWS says 403 AccessDenied), what s3s answers. Ceph radosgw matches AWS.
    let condition_failed: Expected = &[(403, "AccessDenied"), (400, "InvalidPolicyDocument")];
    type Expected = &'static [(u16, &'static str)];
    let cases: [(&str, Forge, Expected); 11] = [
        (
            "another Content-Disposition (inline: the browser would show the file)",
            |f, _| set(f, "Content-Disposition", "inline".into()),
            condition_failed,
        ),
        (
            "no Content-Disposition",
            |f, _| f.retain(|(n, _)| n != "Content-Disposition"),
            condition_failed,
        ),
        (
            "a bigger body",
            |_, file| file.push(b'!'),
            &[(400, "EntityTooLarge")],
        ),
        (
            "a smaller body",
            |_, file| {
                file.pop();
            },
            &[(400, "EntityTooSmall")],
        ),
        (
            "another key",
            |f, _| set(f, "key", "uploads/someone-else/cat.png".into()),
            condition_failed,
        ),
        (
            "a key outside the prefix",
            |f, _| set(f, "key", "page/index.html".into()),
            condition_failed,
        ),
        (
            "another Content-Type",
            |f, _| set(f, "Content-Type", "text/html".into()),
            condition_failed,
        ),
        (
            "an extra field",
            |f, _| f.insert(1, ("acl".into(), "public-read".into())),
            &[(403, "AccessDenied")],
        ),
        (
            "a tampered signature",
            |f, _| {
                let mut signature = f
                    .iter()
                    .find(|(n, _)| n == "x-amz-signature")
                    .unwrap()
                    .1
                    .clone();
                let last = if signature.ends_with('0') { "1" } else { "0" };
                signature.replace_range(63.., last);
                set(f, "x-amz-signature", signature);
            },
            &[(403, "SignatureDoesNotMatch")],
        ),
        (
            "a tampered policy",
            |f, _| {
                use base64::Engine;
                let engine = base64::engine::general_purpose::STANDARD;
                let policy = f.iter().find(|(n, _)| n == "policy").unwrap().1.clone();
                let json = String::from_utf8(engine.decode(policy).unwrap()).unwrap();
                let widened = json.replace(
                    "[\"content-length-range\",10,10]",
                    "[\"content-length-range\",0,1000000]",
                );
                assert_ne!(json, widened);
                set(f, "policy", engine.encode(widened));
            },
            &[(403, "SignatureDoesNotMatch")],
        ),
        (
            "no signature at all",
            |f, _| f.retain(|(n, _)| n != "x-amz-signature"),
            &[(403, "AccessDenied")],
        ),
    ];
    for (what, forge, expected) in cases {
        let signed = stack.sign("cat.png", "image/png", 10);
        let mut form = fields(&signed);
        let mut file = b"0123456789".to_vec();
        forge(&mut form, &mut file);
        let response = stack.upload(&signed, &form, &file, "image/png");
        let xml = response.text();
        let code = response.xml("Code").unwrap_or_default();
        let code = code.as_str();
        assert!(
            expected.contains(&(response.status, code)),
            "{what}: expected one of {expected:?}, got {} {xml}",
            response.status
        );
        assert!(
            stack.stored(&signed.key).is_none(),
            "{what}: an object was stored"
        );
        assert!(
            stack.stored("uploads/someone-else/cat.png").is_none(),
            "{what}"
        );
        assert!(stack.stored("page/index.html").is_none(), "{what}");
    }
}

#[test]
fn an_expired_policy_is_refused() {
    let stack = Stack::start("expired", &[("POLICY_TTL_SECONDS", "1")]);
    let signed = stack.sign("late.txt", "text/plain", 4);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let response = stack.upload(&signed, &fields(&signed), b"late", "text/plain");
    assert_eq!(response.status, 403, "{}", response.text());
    assert_eq!(response.xml("Code").as_deref(), Some("AccessDenied"));
    assert!(stack.stored(&signed.key).is_none());
}

#[test]
fn a_signer_with_the_wrong_secret_is_refused() {
    let stack = Stack::start(
        "wrong-secret",
        &[("AWS_SECRET_ACCESS_KEY", "not-the-secret")],
    );
    let signed = stack.sign("x.txt", "text/plain", 1);
    let response = stack.upload(&signed, &fields(&signed), b"x", "text/plain");
    assert_eq!(response.status, 403, "{}", response.text());
    assert_eq!(
        response.xml("Code").as_deref(),
        Some("SignatureDoesNotMatch")
    );

    let stranger = Stack::start("unknown-key", &[("AWS_ACCESS_KEY_ID", "AKIDUNKNOWN")]);
    let signed = stranger.sign("x.txt", "text/plain", 1);
    let response = stranger.upload(&signed, &fields(&signed), b"x", "text/plain");
    assert_eq!(response.status, 403, "{}", response.text());
    // AWS says InvalidAccessKeyId; s3s says NotSignedUp. Either way, refused.
    let code = response.xml("Code").unwrap_or_default();
    assert!(
        ["InvalidAccessKeyId", "NotSignedUp"].contains(&code.as_str()),
        "{code}"
    );
}

#[test]
fn the_signer_refuses_what_the_rules_forbid_before_s3_sees_it() {
    let stack = Stack::start(
        "rules",
        &[
            ("ALLOWED_CONTENT_TYPES", "image/*"),
            ("MAX_UPLOAD_BYTES", "1000"),
        ],
    );
    let check = |body: &str, origin: &str, status: u16, code: &str| {
        let response = request(
            stack.signer.addr,
            "POST",
            "/sign",
            &[("Origin", origin)],
            body.as_bytes(),
        );
        assert_eq!(response.status, status, "{body}: {}", response.text());
        assert_eq!(json(&response)["error"]["code"], code, "{body}");
    };
    check(
        r#"{"filename":"a.png","contentType":"image/png","size":1001}"#,
        PAGE,
        400,
        "FileTooLarge",
    );
    check(
        r#"{"filename":"a.pdf","contentType":"application/pdf","size":10}"#,
        PAGE,
        400,
        "ContentTypeNotAllowed",
    );
    check(
        r#"{"filename":"a.png","contentType":"image/png","size":0}"#,
        PAGE,
        400,
        "EmptyFile",
    );
    // `image/*` does not include SVG, which runs script when opened.
    check(
        r#"{"filename":"a.svg","contentType":"image/svg+xml","size":10}"#,
        PAGE,
        400,
        "ContentTypeNotAllowed",
    );
    check(
        r#"{"filename":"a.png","contentType":"image/png","size":1}"#,
        "https://evil.example",
        403,
        "OriginNotAllowed",
    );

    let rules = request(stack.signer.addr, "GET", "/rules", &[("Origin", PAGE)], b"");
    assert_eq!(rules.status, 200);
    let rules: shared::UploadRules = serde_json::from_slice(&rules.body).unwrap();
    assert_eq!(rules.max_bytes, 1000);
    assert_eq!(rules.prefix, "uploads/");
}

#[test]
fn the_local_s3_answers_cors_only_for_the_page() {
    let stack = Stack::start("cors", &[]);
    let preflight = |origin: &str| {
        request(
            stack.s3_addr(),
            "OPTIONS",
            &format!("/{BUCKET}"),
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", "POST"),
            ],
            b"",
        )
    };
    let allowed = preflight(PAGE);
    assert_eq!(allowed.status, 200);
    assert_eq!(allowed.header("access-control-allow-origin"), Some(PAGE));
    let other = preflight("https://evil.example");
    assert_eq!(other.status, 403);
    assert_eq!(other.header("access-control-allow-origin"), None);
}

/// The signer's fields, sent in the given order (shared::FormFields keeps it), pass S3 as they are.
#[test]
fn fields_round_trip_through_the_wire_types() {
    let stack = Stack::start("wire", &[]);
    let signed = stack.sign("a.txt", "text/plain", 2);
    let again: FormFields =
        serde_json::from_str(&serde_json::to_string(&signed.fields).unwrap()).unwrap();
    assert_eq!(again, signed.fields);
    assert_eq!(
        stack.upload(&signed, &again.0, b"ok", "text/plain").status,
        201
    );
}

fn md5_base64(bytes: &[u8]) -> String {
    use base64::Engine;
    use md5::Digest;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(bytes))
}

/// Signs `file` with its MD5 pinned (issue #11), as the page does.
fn sign_pinned(stack: &Stack, name: &str, content_type: &str, file: &[u8]) -> shared::SignResponse {
    let md5 = md5_base64(file);
    let signed = stack.sign_json(serde_json::json!({
        "filename": name, "contentType": content_type, "size": file.len(), "contentMd5": md5,
    }));
    assert_eq!(signed.fields.get("Content-MD5"), Some(md5.as_str()));
    signed
}

/// What AWS answers a POST whose file does not match its `Content-MD5` field (its POST Object
/// documentation: "Amazon S3 checks the object against the provided MD5 value"), and local-s3 too.
fn assert_bad_digest(response: &local_s3::client::HttpResponse, what: &str) {
    assert_eq!(
        (response.status, response.xml("Code").as_deref()),
        (400, Some("BadDigest")),
        "{what}: {}",
        response.text()
    );
}

#[test]
fn issue_11_a_form_pinned_to_the_files_md5_stores_it_byte_identical() {
    let stack = Stack::start("md5-ok", &[]);
    for (i, size) in [1usize, 70_000, 5 * 1024 * 1024 + 3]
        .into_iter()
        .enumerate()
    {
        let file = content(size, 40 + i as u8);
        let signed = sign_pinned(&stack, "pinned.bin", "application/octet-stream", &file);
        let response = stack.upload(&signed, &fields(&signed), &file, "application/octet-stream");
        assert_eq!(response.status, 201, "{size}: {}", response.text());
        assert_eq!(response.header("access-control-allow-origin"), Some(PAGE));
        assert!(
            stack.stored(&signed.key) == Some(file),
            "{size}: stored bytes differ"
        );
    }
}

/// Issue #11, "One form, one write": a form is valid until it expires, so it can be posted again;
/// with the MD5 pinned, posting it again can only write the same bytes. Other bytes of the same
/// size (which the size range lets through) are refused, before and after the first write, and
/// the stored object stays as it was.
#[test]
fn issue_11_a_replayed_form_cannot_replace_the_object_with_other_bytes() {
    let stack = Stack::start("md5-replay", &[]);
    let file = content(70_000, 3);
    let mut other = file.clone();
    other[12_345] ^= 0x20;
    let signed = sign_pinned(&stack, "contract.pdf", "application/pdf", &file);
    let form = fields(&signed);

    let first = stack.upload(&signed, &form, &other, "application/pdf");
    assert_bad_digest(&first, "other bytes before the first write");
    assert!(
        stack.stored(&signed.key).is_none(),
        "other bytes were stored"
    );

    let response = stack.upload(&signed, &form, &file, "application/pdf");
    assert_eq!(response.status, 201, "{}", response.text());
    let files = stack.files();

    let replay = stack.upload(&signed, &form, &other, "application/pdf");
    assert_bad_digest(&replay, "a replay with other bytes");
    assert!(
        stack.stored(&signed.key).as_deref() == Some(&file[..]),
        "the replay changed the object"
    );
    assert_eq!(stack.files(), files, "the refused replay left files behind");
    // The same bytes again are the same object: a retry after a lost answer still works.
    let again = stack.upload(&signed, &form, &file, "application/pdf");
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(stack.keys(), vec![signed.key.clone()]);

    // What the MD5 closes: a form signed without one (curl, Uppy) takes any bytes of its size
    // until it expires, a replay included.
    let plain = stack.sign("contract.pdf", "application/pdf", file.len() as u64);
    let form = fields(&plain);
    assert_eq!(
        stack.upload(&plain, &form, &file, "application/pdf").status,
        201
    );
    let replay = stack.upload(&plain, &form, &other, "application/pdf");
    assert_eq!(replay.status, 201, "{}", replay.text());
    assert!(stack.stored(&plain.key).as_deref() == Some(&other[..]));
}

/// The MD5 is in the policy, not only in the form: a form without the field, or with the MD5 of
/// other bytes, fails the policy's exact condition (so S3 never gets to skip or redirect the check).
#[test]
fn issue_11_a_form_without_or_with_another_md5_field_is_refused_by_the_policy() {
    let stack = Stack::start("md5-policy", &[]);
    let file = content(4096, 5);
    let mut other = file.clone();
    other[0] ^= 1;
    // As in `forged_forms_are_refused`: AWS (and radosgw) say 403 AccessDenied for a failed
    // condition, s3s says 400 InvalidPolicyDocument.
    type Expected = &'static [(u16, &'static str)];
    let condition_failed: Expected = &[(403, "AccessDenied"), (400, "InvalidPolicyDocument")];
    type Forge = fn(&mut Vec<(String, String)>, &[u8]);
    let cases: [(&str, Forge, Expected); 4] = [
        (
            "no Content-MD5 field",
            |form, _| form.retain(|(n, _)| n != "Content-MD5"),
            condition_failed,
        ),
        (
            "the MD5 of the bytes sent instead",
            |form, sent| {
                form.iter_mut().find(|(n, _)| n == "Content-MD5").unwrap().1 = md5_base64(sent);
            },
            condition_failed,
        ),
        (
            "the field's name in other case, with the MD5 of the bytes sent",
            |form, sent| {
                let field = form.iter_mut().find(|(n, _)| n == "Content-MD5").unwrap();
                *field = ("content-md5".into(), md5_base64(sent));
            },
            condition_failed,
        ),
        (
            // s3s reads the signed value for both the policy and the check (400 BadDigest).
            "a second Content-MD5 field first, with the MD5 of the bytes sent",
            |form, sent| form.insert(0, ("Content-MD5".into(), md5_base64(sent))),
            &[
                (400, "BadDigest"),
                (403, "AccessDenied"),
                (400, "InvalidPolicyDocument"),
            ],
        ),
    ];
    for (what, forge, expected) in cases {
        let signed = sign_pinned(&stack, "pinned.bin", "application/octet-stream", &file);
        let mut form = fields(&signed);
        forge(&mut form, &other);
        let response = stack.upload(&signed, &form, &other, "application/octet-stream");
        let code = response.xml("Code").unwrap_or_default();
        assert!(
            expected.contains(&(response.status, code.as_str())),
            "{what}: expected one of {expected:?}, got {} {}",
            response.status,
            response.text()
        );
        assert!(stack.stored(&signed.key).is_none(), "{what}: stored");
    }
    // A form signed without an MD5 takes no Content-MD5 field either: it is not in its policy.
    let plain = stack.sign("plain.bin", "application/octet-stream", 4096);
    let mut form = fields(&plain);
    form.insert(3, ("Content-MD5".into(), md5_base64(&file)));
    let response = stack.upload(&plain, &form, &file, "application/octet-stream");
    let code = response.xml("Code").unwrap_or_default();
    assert!(
        [(403, "AccessDenied")].contains(&(response.status, code.as_str())),
        "{} {}",
        response.status,
        response.text()
    );
    assert!(stack.stored(&plain.key).is_none());
}
