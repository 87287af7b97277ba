//! What every route answers with, below the routes and the edges that use it (`service.rs`,
//! `multipart.rs`, `s3.rs`, `local.rs`, `lambda.rs`): the response type, JSON answers, the
//! signer's error shape, and the size-checked JSON body every POST route reads.

use http::header::CONTENT_TYPE;
use http::{HeaderValue, Response, StatusCode};
use shared::{ErrorBody, ErrorCode};

/// The largest request body the signer reads. A sign request is a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// The largest body of a batch or multipart request (a batch of files with long names).
pub const MAX_BATCH_BODY_BYTES: usize = 8 * MAX_BODY_BYTES;

/// An answer: status, headers and a (JSON or empty) body.
pub type Outgoing = Response<String>;

/// A JSON answer.
pub fn json(status: StatusCode, body: String) -> Outgoing {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A JSON body of at most `limit` bytes as `T`, or the 413 (`too_large`) or 400 (`malformed`
/// words for serde's error) that every POST route answers otherwise.
#[expect(
    clippy::result_large_err,
    reason = "the refusal is the response itself, as in every route's private helpers"
)]
pub fn read_body<T: serde::de::DeserializeOwned>(
    body: &[u8],
    limit: usize,
    too_large: &str,
    malformed: impl FnOnce(serde_json::Error) -> String,
) -> Result<T, Outgoing> {
    if body.len() > limit {
        return Err(error(ErrorCode::RequestTooLarge, too_large.into()));
    }
    serde_json::from_slice(body).map_err(|err| error(ErrorCode::MalformedRequest, malformed(err)))
}

/// The signer's error shape, `{"error":{"code","message"}}`, with the code's status.
pub fn error(code: ErrorCode, message: String) -> Outgoing {
    let body = serde_json::to_string(&ErrorBody::new(code, message)).unwrap_or_default();
    let status =
        StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json(status, body)
}
