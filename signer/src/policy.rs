//! The POST policy for one upload, built and signed by the signer alone: exact bucket, key and
//! Content-Type, the declared size as both ends of `content-length-range`, the file's MD5 when the
//! page sent it, and the SigV4 fields.

use std::fmt::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use shared::FormFields;

use crate::sigv4::{self, ALGORITHM, Credentials, SigningKey};
use crate::time::UnixTime;

/// A file's MD5 as the `Content-MD5` header and form field carry it: exactly 24 characters of
/// standard, padded base64 that decode to the digest's 16 bytes. Parsed once from the sign
/// request, so only such a value reaches a policy (no escaping, no look-alike spellings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentMd5(String);

impl ContentMd5 {
    /// The MD5 written as `text`, if it is one (canonical base64: the last character's unused
    /// bits are zero, so each digest has one spelling and a retry compares as text).
    pub fn parse(text: &str) -> Option<ContentMd5> {
        let valid = text.len() == 24 && BASE64.decode(text).is_ok_and(|bytes| bytes.len() == 16);
        valid.then(|| ContentMd5(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What one signed form allows: one object, one type, one size, and with an MD5 one content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadPolicy<'a> {
    pub bucket: &'a str,
    pub region: &'a str,
    pub key: &'a str,
    pub content_type: &'a str,
    /// `attachment; filename*=UTF-8''…`: every download of the object is a download, never a
    /// page (see `key::content_disposition`).
    pub content_disposition: &'a str,
    pub size: u64,
    /// The file's MD5 (issue #11): with it, S3 stores only bytes of this digest, so the form,
    /// replayed before it expires, cannot replace the object with other bytes of the same size.
    pub content_md5: Option<&'a ContentMd5>,
    /// In the signed-in mode, who uploads (their key segment, `auth::user_space`): stored on the
    /// object as `x-amz-meta-uploader`, so what runs after the upload can name them.
    pub uploader: Option<&'a str>,
    pub expires: UnixTime,
}

/// The object metadata that names the uploader (`x-amz-meta-uploader` as a form field and a
/// header).
pub const UPLOADER_METADATA: &str = "x-amz-meta-uploader";

/// The value S3 returns with `success_action_status`: 201 and a `PostResponse` XML body.
pub const SUCCESS_ACTION_STATUS: &str = "201";

/// Builds the policy document and the form fields that go with it, signed at `now` with
/// `signing_key` (derived from `credentials` for `now`'s date and `policy.region`). Fields come in
/// the order the browser should send them; the file itself goes after all of them.
pub fn sign_post_policy(
    policy: &UploadPolicy,
    credentials: &Credentials,
    signing_key: &SigningKey,
    now: UnixTime,
) -> FormFields {
    debug_assert!(signing_key.is_for(now), "a signing key from another day");
    let amz_date = now.amz_date();
    let credential = sigv4::credential(&credentials.access_key_id, now, policy.region);
    let document = policy_document(
        policy,
        &credential,
        &amz_date,
        credentials.session_token.as_deref(),
    );
    let base64_policy = BASE64.encode(document);
    let signature = signing_key.sign(&base64_policy);

    let mut fields: Vec<(String, String)> = Vec::with_capacity(11);
    fields.push(("key".into(), policy.key.into()));
    fields.push(("Content-Type".into(), policy.content_type.into()));
    fields.push((
        "Content-Disposition".into(),
        policy.content_disposition.into(),
    ));
    if let Some(md5) = policy.content_md5 {
        fields.push(("Content-MD5".into(), md5.as_str().into()));
    }
    if let Some(uploader) = policy.uploader {
        fields.push((UPLOADER_METADATA.into(), uploader.into()));
    }
    fields.push(("success_action_status".into(), SUCCESS_ACTION_STATUS.into()));
    fields.push(("x-amz-algorithm".into(), ALGORITHM.into()));
    fields.push(("x-amz-credential".into(), credential));
    fields.push(("x-amz-date".into(), amz_date));
    if let Some(token) = &credentials.session_token {
        fields.push(("x-amz-security-token".into(), token.clone()));
    }
    fields.push(("policy".into(), base64_policy));
    fields.push(("x-amz-signature".into(), signature));
    FormFields(fields)
}

/// The policy JSON. Every form field except `policy`, `x-amz-signature` and the file has an exact
/// (`eq`) condition, in the order of the fields, so S3 refuses a form with any field changed or
/// added. With an MD5, a form without the `Content-MD5` field is refused too: S3 checks a form
/// against every condition, and checks the file against the field.
pub fn policy_document(
    policy: &UploadPolicy,
    credential: &str,
    amz_date: &str,
    session_token: Option<&str>,
) -> String {
    let mut json =
        String::with_capacity(512 + policy.key.len() + session_token.map_or(0, str::len));
    json.push_str("{\"expiration\":");
    push_json_string(&mut json, &policy.expires.policy_expiration());
    json.push_str(",\"conditions\":[");
    push_eq(&mut json, "bucket", policy.bucket);
    json.push(',');
    push_eq(&mut json, "key", policy.key);
    json.push(',');
    push_eq(&mut json, "Content-Type", policy.content_type);
    json.push(',');
    push_eq(&mut json, "Content-Disposition", policy.content_disposition);
    if let Some(md5) = policy.content_md5 {
        json.push(',');
        push_eq(&mut json, "Content-MD5", md5.as_str());
    }
    if let Some(uploader) = policy.uploader {
        json.push(',');
        push_eq(&mut json, UPLOADER_METADATA, uploader);
    }
    // Writing to a String cannot fail.
    let _ = write!(
        json,
        ",[\"content-length-range\",{size},{size}],",
        size = policy.size
    );
    push_eq(&mut json, "success_action_status", SUCCESS_ACTION_STATUS);
    json.push(',');
    push_eq(&mut json, "x-amz-algorithm", ALGORITHM);
    json.push(',');
    push_eq(&mut json, "x-amz-credential", credential);
    json.push(',');
    push_eq(&mut json, "x-amz-date", amz_date);
    if let Some(token) = session_token {
        json.push(',');
        push_eq(&mut json, "x-amz-security-token", token);
    }
    json.push_str("]}");
    json
}

fn push_eq(json: &mut String, field: &str, value: &str) {
    json.push('{');
    push_json_string(json, field);
    json.push(':');
    push_json_string(json, value);
    json.push('}');
}

/// A JSON string literal: quotes, backslashes and control characters escaped, other UTF-8 kept as
/// is (S3 reads the policy as UTF-8 and compares it with the UTF-8 form fields).
fn push_json_string(json: &mut String, value: &str) {
    json.push('"');
    // Most values (tokens, dates, keys) need no escaping; this check has no early exit, so it
    // vectorises, and the slow path below runs only for values that do.
    let needs_escaping = value.bytes().fold(false, |found, b| {
        found | (b == b'"') | (b == b'\\') | (b < 0x20)
    });
    if !needs_escaping {
        json.push_str(value);
        json.push('"');
        return;
    }
    let mut plain_from = 0;
    for (at, byte) in value.bytes().enumerate() {
        // Every byte that needs escaping is ASCII, so `at` is always a character boundary here.
        let escaped = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        json.push_str(&value[plain_from..at]);
        if escaped.is_empty() {
            let _ = write!(json, "\\u{byte:04x}");
        } else {
            json.push_str(escaped);
        }
        plain_from = at + 1;
    }
    json.push_str(&value[plain_from..]);
    json.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn credentials(token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: token.map(String::from),
        }
    }

    const NOW: UnixTime = UnixTime(1_451_347_200); // 2015-12-29T00:00:00Z

    fn policy(key: &str) -> UploadPolicy<'_> {
        UploadPolicy {
            bucket: "sigv4examplebucket",
            region: "us-east-1",
            key,
            content_type: "image/png",
            content_disposition: "attachment; filename*=UTF-8''cat.png",
            size: 12345,
            content_md5: None,
            uploader: None,
            expires: NOW.plus_seconds(600),
        }
    }

    /// The MD5 of the empty file, a digest whose base64 every tool agrees on.
    const EMPTY_MD5: &str = "1B2M2Y8AsgTpgAmY7PhCfg==";

    fn sign(policy: &UploadPolicy, credentials: &Credentials) -> FormFields {
        let key = SigningKey::derive(&credentials.secret_access_key, NOW, policy.region);
        sign_post_policy(policy, credentials, &key, NOW)
    }

    fn decoded_policy(fields: &FormFields) -> Value {
        let bytes = BASE64.decode(fields.get("policy").unwrap()).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn conditions_pin_everything() {
        let fields = sign(&policy("uploads/id/cat.png"), &credentials(None));
        assert_eq!(
            decoded_policy(&fields),
            json!({
                "expiration": "2015-12-29T00:10:00.000Z",
                "conditions": [
                    {"bucket": "sigv4examplebucket"},
                    {"key": "uploads/id/cat.png"},
                    {"Content-Type": "image/png"},
                    {"Content-Disposition": "attachment; filename*=UTF-8''cat.png"},
                    ["content-length-range", 12345, 12345],
                    {"success_action_status": "201"},
                    {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
                    {"x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"},
                    {"x-amz-date": "20151229T000000Z"},
                ]
            })
        );
        let names: Vec<&str> = fields.iter().map(|(name, _)| name).collect();
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
                "policy",
                "x-amz-signature"
            ]
        );
        assert!(fields.get("acl").is_none());
    }

    /// Issue #20: in the signed-in mode the form names its uploader in the object's metadata,
    /// pinned by one exact condition (a form without it, or naming another user, is refused).
    #[test]
    fn the_uploader_is_pinned_when_given_and_absent_otherwise() {
        let named = UploadPolicy {
            uploader: Some("auth0%7C42"),
            ..policy("uploads/auth0%7C42/id/cat.png")
        };
        let fields = sign(&named, &credentials(None));
        assert_eq!(fields.get(UPLOADER_METADATA), Some("auth0%7C42"));
        let conditions = decoded_policy(&fields)["conditions"].clone();
        let pinned: Vec<&Value> = conditions
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c.get(UPLOADER_METADATA).is_some())
            .collect();
        assert_eq!(pinned, [&json!({"x-amz-meta-uploader": "auth0%7C42"})]);
        let anonymous = sign(&policy("uploads/id/cat.png"), &credentials(None));
        assert!(anonymous.get(UPLOADER_METADATA).is_none());
    }

    /// Issue #11: with the file's MD5 the form carries a `Content-MD5` field and the policy one
    /// exact condition for it, right after `Content-Disposition`; without it neither says
    /// anything about an MD5 (the forms of today, byte for byte).
    #[test]
    fn content_md5_is_pinned_once_when_given_and_absent_otherwise() {
        let md5 = ContentMd5::parse(EMPTY_MD5).unwrap();
        let pinned = UploadPolicy {
            content_md5: Some(&md5),
            uploader: None,
            ..policy("uploads/id/cat.png")
        };
        let fields = sign(&pinned, &credentials(None));
        assert_eq!(fields.get("Content-MD5"), Some(EMPTY_MD5));
        let names: Vec<&str> = fields.iter().map(|(name, _)| name).take(5).collect();
        assert_eq!(
            names,
            [
                "key",
                "Content-Type",
                "Content-Disposition",
                "Content-MD5",
                "success_action_status"
            ]
        );
        let conditions = decoded_policy(&fields)["conditions"].clone();
        let conditions = conditions.as_array().unwrap();
        assert_eq!(conditions[4], json!({"Content-MD5": EMPTY_MD5}));
        let mentions = |conditions: &[Value]| {
            conditions
                .iter()
                .filter(|c| c.to_string().to_ascii_lowercase().contains("content-md5"))
                .count()
        };
        assert_eq!(mentions(conditions), 1);

        let plain = sign(&policy("uploads/id/cat.png"), &credentials(None));
        assert!(plain.get("Content-MD5").is_none());
        let document = BASE64.decode(plain.get("policy").unwrap()).unwrap();
        let document = String::from_utf8(document).unwrap();
        assert!(!document.to_ascii_lowercase().contains("md5"), "{document}");
        assert_eq!(
            mentions(decoded_policy(&plain)["conditions"].as_array().unwrap()),
            0
        );
    }

    #[test]
    fn only_a_canonical_base64_md5_parses() {
        let md5_of_abc = "kAFQmDzST7DWlj99KOF/cg==";
        for good in [
            EMPTY_MD5,
            md5_of_abc,
            "AAAAAAAAAAAAAAAAAAAAAA==",
            "/////////////////////w==",
        ] {
            assert_eq!(ContentMd5::parse(good).map(|m| m.0), Some(good.into()));
        }
        for bad in [
            "",
            "1B2M2Y8AsgTpgAmY7PhCfg",           // no padding
            "1B2M2Y8AsgTpgAmY7PhCfg=",          // 23 characters
            "1B2M2Y8AsgTpgAmY7PhCfg===",        // 25
            "1B2M2Y8AsgTpgAmY7PhCfh==",         // unused bits set: a second spelling
            "1B2M2Y8AsgTpgAmY7PhCfg-=",         // not standard base64
            "1B2M2Y8AsgTpgAmY7PhC_g==",         // base64url
            " 1B2M2Y8AsgTpgAmY7PhCfg=",         // whitespace
            "d41d8cd98f00b204e9800998ecf8427e", // hex
            "1B2M2Y8AsgTpgAmY7PhCfg==\n",
            "1B2M2Y8AsgTpgAmY7PhCfg\"=",
            "AAAAAAAAAAAAAAAAAAAAAAAA", // 18 bytes
            "AAAAAAAAAAAAAAAAAAAAAAA=", // 17 bytes
            "가나다라마바사아",         // 24 bytes of UTF-8
        ] {
            assert_eq!(ContentMd5::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn session_token_goes_into_form_and_policy() {
        let fields = sign(&policy("k"), &credentials(Some("FwoGZXIvYXdzE+/=")));
        assert_eq!(fields.get("x-amz-security-token"), Some("FwoGZXIvYXdzE+/="));
        let conditions = decoded_policy(&fields)["conditions"].clone();
        assert!(
            conditions
                .as_array()
                .unwrap()
                .contains(&json!({"x-amz-security-token": "FwoGZXIvYXdzE+/="}))
        );
    }

    #[test]
    fn signature_covers_the_exact_base64_policy() {
        let fields = sign(&policy("k"), &credentials(None));
        let key = sigv4::signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NOW, "us-east-1");
        assert_eq!(
            fields.get("x-amz-signature").unwrap(),
            sigv4::sign_policy(&key, fields.get("policy").unwrap())
        );
        let signature = fields.get("x-amz-signature").unwrap();
        assert_eq!(signature.len(), 64);
        assert!(
            signature
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }

    #[test]
    fn awkward_keys_are_escaped_not_broken() {
        for key in [
            "uploads/x/q\"uote\\.txt",
            "uploads/x/고양이 #1 +50%.png",
            "uploads/x/\u{2028}",
            "uploads/x/\u{1}\u{1f}\t\n\r\u{7f}",
        ] {
            let fields = sign(&policy(key), &credentials(None));
            assert_eq!(decoded_policy(&fields)["conditions"][1]["key"], key);
            assert_eq!(fields.get("key"), Some(key));
        }
    }
}
