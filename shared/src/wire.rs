//! Serde types that cross the network: the sign request, the sign response and the error body.
//!
//! Field names are part of the contract (the page, the signer and Uppy's `@uppy/aws-s3` read them), so
//! the tests below compare against fixed JSON text.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What the page tells the signer about one file. The signer alone decides the key, the size range
/// and the exact type that go into the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignRequest {
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    /// The upload token of an earlier answer for this same file: the signer then signs the key that
    /// token names again (a retry leaves one object, never two) after checking that the type and
    /// size are the ones the token states. Optional: without it a new key is chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The file's MD5, base64 (as `Content-MD5` carries it). Optional: when given, the form and
    /// the policy pin it, so where the store checks it (AWS, s3s-fs; not radosgw 16) a replayed
    /// form with other bytes of the same size is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_md5: Option<String>,
}

impl SignRequest {
    /// A request for a new key (no token).
    pub fn new(filename: impl Into<String>, content_type: impl Into<String>, size: u64) -> Self {
        SignRequest {
            filename: filename.into(),
            content_type: content_type.into(),
            size,
            token: None,
            content_md5: None,
        }
    }
}

/// A signed POST form for exactly one object. The shape (`method`, `url`, `fields`) is the one Uppy's
/// `@uppy/aws-s3` expects from its `getUploadParameters` callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignResponse {
    /// Always `"POST"`.
    pub method: String,
    /// Where the form goes: the bucket's endpoint.
    pub url: String,
    /// The object key the policy pins.
    pub key: String,
    /// Every form field the browser must send, in this order, before the file.
    pub fields: FormFields,
    /// When the policy stops being accepted (RFC 3339, UTC).
    pub expires_at: String,
    /// The upload token for this key (see `token.rs`): send it with a retry of the same file.
    pub token: String,
}

/// The most files one `POST /sign/batch` signs: twice the 16 the page puts in one (each file's
/// form is about 2 KB out, so one call answers at most about 64 KB; it was 100).
pub const MAX_BATCH_FILES: usize = 32;

/// `POST /sign/batch`: several files signed in one round trip (a page with many small files
/// otherwise spends a request to the signer on each). Each file is checked and signed exactly as
/// `POST /sign` would, with its own new key or the key its `token` names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignBatch {
    /// 1 to [`MAX_BATCH_FILES`] files.
    pub files: Vec<SignRequest>,
}

/// The answer to [`SignBatch`]: for each file, in the request's order, what `POST /sign` would
/// have answered for it alone (its form, or its refusal), so one file's refusal never holds back
/// the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedBatch {
    pub results: Vec<BatchResult>,
}

/// One file's answer in a [`SignedBatch`]: a form, or the error body `/sign` would have sent
/// (told apart by its `error` field; the HTTP status `/sign` would have used is the code's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BatchResult {
    Refused(ErrorBody),
    Signed(SignResponse),
}

/// Form fields in the order they must be sent. S3 reads every field before the file, so the order of
/// the fields among themselves does not matter to S3, but a stable order keeps forms reproducible.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormFields(pub Vec<(String, String)>);

impl FormFields {
    /// The value of the first field with this name (S3 field names are case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

impl Serialize for FormFields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for FormFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Ordered;
        impl<'de> Visitor<'de> for Ordered {
            type Value = FormFields;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of string form fields")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FormFields, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(entry) = map.next_entry::<String, String>()? {
                    fields.push(entry);
                }
                Ok(FormFields(fields))
            }
        }
        deserializer.deserialize_map(Ordered)
    }
}

/// Every error the signer answers with: `{"error":{"code":"FileTooLarge","message":"…"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code,
                message: message.into(),
            },
        }
    }
}

/// The closed set of error codes. Each maps to one HTTP status; only `Internal` is a 5xx.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorCode {
    /// The body is not JSON, or not a `SignRequest` (missing, unknown or mistyped fields).
    MalformedRequest,
    /// The request body is over the signer's limit (16 KiB for `/sign`, 128 KiB for a batch or a
    /// multipart call), or a batch names more than [`MAX_BATCH_FILES`] files.
    RequestTooLarge,
    /// The file is empty and the rules do not allow empty files.
    EmptyFile,
    /// The file is bigger than the rules allow.
    FileTooLarge,
    /// The content type is not a `type/subtype` media type.
    InvalidContentType,
    /// The content type is well formed but not in the allow-list.
    ContentTypeNotAllowed,
    /// The file name cannot be used (for example, far too long).
    InvalidFilename,
    /// The request came from a page origin the signer does not serve.
    OriginNotAllowed,
    /// The signer takes uploads only from signed-in users (authenticated mode) and the request
    /// carried no sign-in token, or one this signer does not accept.
    SignInRequired,
    /// The sign-in token has expired: sign in again.
    SessionExpired,
    /// The upload token is not one this signer issued, was changed, is for another kind of
    /// upload, or states another type or size than the request.
    InvalidToken,
    /// The upload token is older than its expiry: ask again without it (a new key).
    TokenExpired,
    /// A part number outside the upload's plan, or more parts than one request signs.
    PartNotInPlan,
    /// The signer requires each file's MD5 (`REQUIRE_MD5`, published as the rules'
    /// `requireMd5`) and the request left it out: `contentMd5` for a form, `md5` for each part.
    Md5Required,
    /// `complete` found parts missing or of other sizes than planned; nothing was completed.
    UploadIncomplete,
    /// S3 no longer knows this multipart upload (completed, aborted or expired).
    NoSuchUpload,
    /// `complete` found an object at the upload's key already (an earlier `complete` whose answer
    /// was lost): nothing was completed again.
    ObjectExists,
    /// S3 could not be reached or failed; not the request's fault.
    StorageFailed,
    /// No such endpoint.
    NotFound,
    /// The endpoint exists but not for this method.
    MethodNotAllowed,
    /// The signer itself failed; never caused by the request.
    Internal,
}

impl ErrorCode {
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::MalformedRequest
            | ErrorCode::EmptyFile
            | ErrorCode::FileTooLarge
            | ErrorCode::InvalidContentType
            | ErrorCode::ContentTypeNotAllowed
            | ErrorCode::InvalidFilename => 400,
            ErrorCode::SignInRequired | ErrorCode::SessionExpired => 401,
            ErrorCode::OriginNotAllowed | ErrorCode::InvalidToken | ErrorCode::TokenExpired => 403,
            ErrorCode::PartNotInPlan | ErrorCode::Md5Required => 400,
            ErrorCode::UploadIncomplete | ErrorCode::ObjectExists => 409,
            ErrorCode::NoSuchUpload => 404,
            ErrorCode::StorageFailed => 502,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::RequestTooLarge => 413,
            ErrorCode::Internal => 500,
        }
    }

    /// Every code, for parsers that do not go through serde.
    pub const ALL: [ErrorCode; 21] = [
        ErrorCode::MalformedRequest,
        ErrorCode::RequestTooLarge,
        ErrorCode::EmptyFile,
        ErrorCode::FileTooLarge,
        ErrorCode::InvalidContentType,
        ErrorCode::ContentTypeNotAllowed,
        ErrorCode::InvalidFilename,
        ErrorCode::OriginNotAllowed,
        ErrorCode::SignInRequired,
        ErrorCode::SessionExpired,
        ErrorCode::InvalidToken,
        ErrorCode::TokenExpired,
        ErrorCode::PartNotInPlan,
        ErrorCode::Md5Required,
        ErrorCode::UploadIncomplete,
        ErrorCode::NoSuchUpload,
        ErrorCode::ObjectExists,
        ErrorCode::StorageFailed,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Internal,
    ];

    /// The code for its wire name, e.g. `"FileTooLarge"`.
    pub fn parse(name: &str) -> Option<ErrorCode> {
        ErrorCode::ALL
            .into_iter()
            .find(|code| code.as_str() == name)
    }

    /// The code as it appears on the wire, e.g. `"FileTooLarge"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedRequest => "MalformedRequest",
            ErrorCode::RequestTooLarge => "RequestTooLarge",
            ErrorCode::EmptyFile => "EmptyFile",
            ErrorCode::FileTooLarge => "FileTooLarge",
            ErrorCode::InvalidContentType => "InvalidContentType",
            ErrorCode::ContentTypeNotAllowed => "ContentTypeNotAllowed",
            ErrorCode::InvalidFilename => "InvalidFilename",
            ErrorCode::OriginNotAllowed => "OriginNotAllowed",
            ErrorCode::SignInRequired => "SignInRequired",
            ErrorCode::SessionExpired => "SessionExpired",
            ErrorCode::InvalidToken => "InvalidToken",
            ErrorCode::TokenExpired => "TokenExpired",
            ErrorCode::PartNotInPlan => "PartNotInPlan",
            ErrorCode::Md5Required => "Md5Required",
            ErrorCode::UploadIncomplete => "UploadIncomplete",
            ErrorCode::NoSuchUpload => "NoSuchUpload",
            ErrorCode::ObjectExists => "ObjectExists",
            ErrorCode::StorageFailed => "StorageFailed",
            ErrorCode::NotFound => "NotFound",
            ErrorCode::MethodNotAllowed => "MethodNotAllowed",
            ErrorCode::Internal => "Internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T>(value: &T, text: &str)
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + fmt::Debug,
    {
        assert_eq!(serde_json::to_string(value).unwrap(), text);
        assert_eq!(&serde_json::from_str::<T>(text).unwrap(), value);
    }

    #[test]
    fn sign_request_is_camel_case() {
        check(
            &SignRequest::new("cat.png", "image/png", 12345),
            r#"{"filename":"cat.png","contentType":"image/png","size":12345}"#,
        );
    }

    #[test]
    fn sign_request_may_carry_a_token() {
        check(
            &SignRequest {
                token: Some("v1.e30.AA".into()),
                ..SignRequest::new("cat.png", "image/png", 12345)
            },
            r#"{"filename":"cat.png","contentType":"image/png","size":12345,"token":"v1.e30.AA"}"#,
        );
    }

    /// Issue #11: the file's MD5 is optional, and a request without it keeps its JSON exactly.
    #[test]
    fn sign_request_may_carry_the_files_md5() {
        check(
            &SignRequest {
                content_md5: Some("1B2M2Y8AsgTpgAmY7PhCfg==".into()),
                ..SignRequest::new("cat.png", "image/png", 12345)
            },
            r#"{"filename":"cat.png","contentType":"image/png","size":12345,"contentMd5":"1B2M2Y8AsgTpgAmY7PhCfg=="}"#,
        );
        check(
            &SignRequest {
                token: Some("v1.e30.AA".into()),
                content_md5: Some("1B2M2Y8AsgTpgAmY7PhCfg==".into()),
                ..SignRequest::new("cat.png", "image/png", 12345)
            },
            r#"{"filename":"cat.png","contentType":"image/png","size":12345,"token":"v1.e30.AA","contentMd5":"1B2M2Y8AsgTpgAmY7PhCfg=="}"#,
        );
        // `null` is the same as absent.
        let text =
            r#"{"filename":"cat.png","contentType":"image/png","size":12345,"contentMd5":null}"#;
        assert_eq!(
            serde_json::from_str::<SignRequest>(text).unwrap(),
            SignRequest::new("cat.png", "image/png", 12345)
        );
    }

    #[test]
    fn sign_request_refuses_a_client_chosen_key() {
        let text = r#"{"filename":"a","contentType":"text/plain","size":1,"key":"uploads/x"}"#;
        let err = serde_json::from_str::<SignRequest>(text).unwrap_err();
        assert!(err.to_string().contains("unknown field `key`"), "{err}");
    }

    #[test]
    fn sign_response_keeps_field_order() {
        let response = SignResponse {
            method: "POST".into(),
            url: "https://b.s3.us-east-1.amazonaws.com".into(),
            key: "uploads/abc/cat.png".into(),
            fields: FormFields(vec![
                ("key".into(), "uploads/abc/cat.png".into()),
                ("Content-Type".into(), "image/png".into()),
                ("policy".into(), "e30=".into()),
                ("x-amz-signature".into(), "00".into()),
            ]),
            expires_at: "2015-12-30T12:00:00Z".into(),
            token: "v1.e30.AA".into(),
        };
        check(
            &response,
            concat!(
                r#"{"method":"POST","url":"https://b.s3.us-east-1.amazonaws.com","key":"uploads/abc/cat.png","#,
                r#""fields":{"key":"uploads/abc/cat.png","Content-Type":"image/png","policy":"e30=","x-amz-signature":"00"},"#,
                r#""expiresAt":"2015-12-30T12:00:00Z","token":"v1.e30.AA"}"#
            ),
        );
        assert_eq!(response.fields.get("content-type"), Some("image/png"));
    }

    /// The batch's wire shape: a list of `/sign` requests in, a list of `/sign` answers out.
    #[test]
    fn sign_batch_shape() {
        check(
            &SignBatch {
                files: vec![
                    SignRequest::new("a.txt", "text/plain", 1),
                    SignRequest {
                        token: Some("v1.e30.AA".into()),
                        ..SignRequest::new("b.txt", "text/plain", 2)
                    },
                ],
            },
            concat!(
                r#"{"files":[{"filename":"a.txt","contentType":"text/plain","size":1},"#,
                r#"{"filename":"b.txt","contentType":"text/plain","size":2,"token":"v1.e30.AA"}]}"#
            ),
        );
        let signed = SignResponse {
            method: "POST".into(),
            url: "https://b.s3.us-east-1.amazonaws.com".into(),
            key: "uploads/abc/a.txt".into(),
            fields: FormFields(vec![("key".into(), "uploads/abc/a.txt".into())]),
            expires_at: "2015-12-30T12:00:00Z".into(),
            token: "v1.e30.AA".into(),
        };
        check(
            &SignedBatch {
                results: vec![
                    BatchResult::Signed(signed),
                    BatchResult::Refused(ErrorBody::new(ErrorCode::FileTooLarge, "too big")),
                ],
            },
            concat!(
                r#"{"results":[{"method":"POST","url":"https://b.s3.us-east-1.amazonaws.com","key":"uploads/abc/a.txt","#,
                r#""fields":{"key":"uploads/abc/a.txt"},"expiresAt":"2015-12-30T12:00:00Z","token":"v1.e30.AA"},"#,
                r#"{"error":{"code":"FileTooLarge","message":"too big"}}]}"#
            ),
        );
        let err = serde_json::from_str::<SignBatch>(r#"{"files":[],"key":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `key`"), "{err}");
    }

    #[test]
    fn error_body_shape() {
        check(
            &ErrorBody::new(ErrorCode::FileTooLarge, "too big"),
            r#"{"error":{"code":"FileTooLarge","message":"too big"}}"#,
        );
    }

    #[test]
    fn every_code_round_trips_and_only_server_side_failures_are_5xx() {
        for code in ErrorCode::ALL {
            check(&code, &format!("\"{}\"", code.as_str()));
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            let status = code.http_status();
            let server_side = matches!(code, ErrorCode::Internal | ErrorCode::StorageFailed);
            assert_eq!(status >= 500, server_side, "{code}");
            assert!((400..=502).contains(&status), "{code}");
        }
        assert_eq!(ErrorCode::parse("Teapot"), None);
    }
}
