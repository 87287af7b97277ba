//! The multipart endpoints' JSON: a big file goes up as S3 parts the signer planned and signed.
//!
//! - `POST /multipart/create` with a [`SignRequest`](crate::SignRequest) (no token) →
//!   [`MultipartUpload`]: the key, S3's upload id, the part plan and the upload token that every
//!   later call carries.
//! - `POST /multipart/sign-parts` with [`SignParts`] → [`SignedParts`]: one `PUT` per part, its URL
//!   and the headers to send exactly, signed (`Content-Length`, `Content-MD5` when the page gave
//!   one, and SigV4's `Authorization`, `x-amz-date`, `x-amz-content-sha256`: S3 refuses another
//!   length or other bytes).
//! - `POST /multipart/list` with [`UploadToken`] → [`ListedParts`]: what S3 holds (for resuming).
//! - `POST /multipart/complete` with [`UploadToken`] → [`CompletedUpload`], only when S3 holds
//!   parts 1..N at the planned sizes.
//! - `POST /multipart/abort` with [`UploadToken`] → `204`.

use serde::{Deserialize, Serialize};

use crate::wire::FormFields;

/// What `create` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MultipartUpload {
    pub key: String,
    pub upload_id: String,
    pub part_size: u64,
    pub parts: u32,
    pub token: String,
    /// When the token stops being accepted (RFC 3339, UTC).
    pub expires_at: String,
}

/// The calls that only name an upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UploadToken {
    pub token: String,
}

/// Parts one `sign-parts` call signs at most, each at most once. The page asks for at most two
/// parts per slot ahead, 32 at its highest `partConcurrency` (16; measured by the frontend's
/// `multipart` tests; one at a time with checksums on, as each part is hashed): this leaves
/// room, and caps what one call gets out of the signer (64 URLs, about 128 KB, for 4 KB in).
pub const MAX_PARTS_PER_SIGN: usize = 64;

/// Parts to sign, many in one round trip: 1 to [`MAX_PARTS_PER_SIGN`], no part twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignParts {
    pub token: String,
    pub parts: Vec<PartToSign>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartToSign {
    /// 1-based, within the plan.
    pub number: u32,
    /// The part's MD5, base64 (as `Content-Md5` carries it): signed, so S3 takes only these bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedParts {
    pub parts: Vec<SignedPart>,
    /// When the URLs stop being accepted (RFC 3339, UTC).
    pub expires_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedPart {
    pub number: u32,
    /// `PUT` the part's bytes here.
    pub url: String,
    /// Headers to send exactly as given (they are signed). `Content-Length` is set by the browser
    /// from the body; it is listed so other clients know what is signed.
    pub headers: FormFields,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedParts {
    pub parts: Vec<ListedPart>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedPart {
    pub number: u32,
    pub size: u64,
    pub etag: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletedUpload {
    pub key: String,
    pub etag: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T>(value: &T, text: &str)
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    {
        assert_eq!(serde_json::to_string(value).unwrap(), text);
        assert_eq!(&serde_json::from_str::<T>(text).unwrap(), value);
    }

    #[test]
    fn the_json_is_pinned() {
        check(
            &MultipartUpload {
                key: "uploads/ab/big.iso".into(),
                upload_id: "2~x".into(),
                part_size: 8388608,
                parts: 3,
                token: "v1.e30.AA".into(),
                expires_at: "2026-12-03T00:00:00Z".into(),
            },
            r#"{"key":"uploads/ab/big.iso","uploadId":"2~x","partSize":8388608,"parts":3,"token":"v1.e30.AA","expiresAt":"2026-12-03T00:00:00Z"}"#,
        );
        check(
            &SignParts {
                token: "t".into(),
                parts: vec![
                    PartToSign {
                        number: 1,
                        md5: Some("1B2M2Y8AsgTpgAmY7PhCfg==".into()),
                    },
                    PartToSign {
                        number: 2,
                        md5: None,
                    },
                ],
            },
            r#"{"token":"t","parts":[{"number":1,"md5":"1B2M2Y8AsgTpgAmY7PhCfg=="},{"number":2}]}"#,
        );
        check(
            &SignedParts {
                parts: vec![SignedPart {
                    number: 1,
                    url: "http://s3/b/k?partNumber=1".into(),
                    headers: FormFields(vec![("Content-Length".into(), "5".into())]),
                }],
                expires_at: "2026-12-02T00:10:00Z".into(),
            },
            r#"{"parts":[{"number":1,"url":"http://s3/b/k?partNumber=1","headers":{"Content-Length":"5"}}],"expiresAt":"2026-12-02T00:10:00Z"}"#,
        );
        check(&UploadToken { token: "t".into() }, r#"{"token":"t"}"#);
        check(
            &ListedParts {
                parts: vec![ListedPart {
                    number: 1,
                    size: 5,
                    etag: "\"e\"".into(),
                }],
            },
            r#"{"parts":[{"number":1,"size":5,"etag":"\"e\""}]}"#,
        );
        check(
            &CompletedUpload {
                key: "k".into(),
                etag: "\"e-3\"".into(),
            },
            r#"{"key":"k","etag":"\"e-3\""}"#,
        );
        assert!(serde_json::from_str::<UploadToken>(r#"{"token":"t","key":"x"}"#).is_err());
        assert!(
            serde_json::from_str::<SignParts>(r#"{"token":"t","parts":[{"number":1,"size":9}]}"#)
                .is_err()
        );
    }
}
