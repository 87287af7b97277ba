//! The upload token: the signer's signed statement of the key and plan it chose for one file, so a
//! later call (a retry of the same file, the multipart calls) can prove the signer chose them.
//!
//! On the wire a token is opaque text, `v2.<key id>.<claims>.<mac>`: `claims` is the JSON of
//! [`UploadClaims`] in base64url (no padding) and `mac` the base64url HMAC-SHA256 of
//! `v2.<key id>.<claims>` under the secret the key id names, which only the signer holds
//! (`signer/src/token.rs` signs and verifies; tokens from before key ids were `v1.<claims>.<mac>`).
//! The page stores and sends tokens back unchanged; it never needs to read one. The claims live
//! here so the JSON is pinned by the tests below, like the rest of the contract.
//!
//! What a token binds, and why each field:
//! - `key`: the object key; a retry signs this key again instead of a new random one, so a lost
//!   answer never leaves a second object behind.
//! - `contentType`, `size`: the type and exact size the first form pinned; a call that asks for
//!   another type or size with this token is refused.
//! - `expires`: Unix seconds after which the signer refuses the token.
//! - `contentMd5`: only for a single POST whose sign request carried the file's MD5 (issue #11):
//!   its form pins that MD5, and a retry must state the same one, so the token can never sign a
//!   form for other bytes. Absent otherwise, so tokens without it keep their JSON.
//! - `uploadId`, `partSize`: only for a multipart upload (absent for a single POST), so a token
//!   for one kind of upload cannot be used for the other.

use serde::{Deserialize, Serialize};

/// What an upload token states. Field order is the JSON order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UploadClaims {
    pub key: String,
    pub content_type: String,
    pub size: u64,
    /// Unix time (seconds) after which the token is refused.
    pub expires: u64,
    /// The file's MD5 (base64, as `Content-MD5` carries it) the form pins; single POST only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_md5: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_size: Option<u64>,
}

impl UploadClaims {
    /// A token for a single POST of `size` bytes of `content_type` to `key`.
    pub fn single(key: String, content_type: String, size: u64, expires: u64) -> UploadClaims {
        UploadClaims {
            key,
            content_type,
            size,
            expires,
            content_md5: None,
            upload_id: None,
            part_size: None,
        }
    }

    pub fn is_multipart(&self) -> bool {
        self.upload_id.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(claims: &UploadClaims, text: &str) {
        assert_eq!(serde_json::to_string(claims).unwrap(), text);
        assert_eq!(&serde_json::from_str::<UploadClaims>(text).unwrap(), claims);
    }

    #[test]
    fn single_post_claims_are_pinned() {
        let claims = UploadClaims::single(
            "uploads/00ff/cat.png".into(),
            "image/png".into(),
            12345,
            1_451_520_000,
        );
        assert!(!claims.is_multipart());
        check(
            &claims,
            r#"{"key":"uploads/00ff/cat.png","contentType":"image/png","size":12345,"expires":1451520000}"#,
        );
    }

    #[test]
    fn single_post_claims_with_an_md5_are_pinned() {
        let claims = UploadClaims {
            content_md5: Some("1B2M2Y8AsgTpgAmY7PhCfg==".into()),
            ..UploadClaims::single(
                "uploads/00ff/cat.png".into(),
                "image/png".into(),
                12345,
                1_451_520_000,
            )
        };
        assert!(!claims.is_multipart());
        check(
            &claims,
            concat!(
                r#"{"key":"uploads/00ff/cat.png","contentType":"image/png","size":12345,"#,
                r#""expires":1451520000,"contentMd5":"1B2M2Y8AsgTpgAmY7PhCfg=="}"#
            ),
        );
    }

    #[test]
    fn multipart_claims_are_pinned() {
        let claims = UploadClaims {
            upload_id: Some("2~abc".into()),
            part_size: Some(8 * 1024 * 1024),
            ..UploadClaims::single(
                "uploads/00ff/big.iso".into(),
                "application/octet-stream".into(),
                1 << 30,
                1,
            )
        };
        assert!(claims.is_multipart());
        check(
            &claims,
            concat!(
                r#"{"key":"uploads/00ff/big.iso","contentType":"application/octet-stream","size":1073741824,"#,
                r#""expires":1,"uploadId":"2~abc","partSize":8388608}"#
            ),
        );
    }

    #[test]
    fn unknown_claims_are_refused() {
        let text = r#"{"key":"k","contentType":"a/b","size":1,"expires":1,"admin":true}"#;
        assert!(serde_json::from_str::<UploadClaims>(text).is_err());
    }
}
