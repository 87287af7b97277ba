//! The Secrets Manager edge: the only module that talks to it. On AWS the upload token secret is
//! not in the function's configuration (anyone allowed to read that would read the secret and
//! mint tokens): the function has only its ARN (`UPLOAD_TOKEN_SECRET_ARN`) and a role allowed
//! `GetSecretValue` on that one secret, and reads it here once, at cold start, with the
//! function's own credentials (SigV4, `sigv4.rs`). The request is built by a pure function, so it
//! is tested without a network; `AWS_ENDPOINT_URL_SECRETS_MANAGER` (the AWS SDKs' variable for
//! it) points it at another endpoint, as the tests do.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::sigv4::{CanonicalRequest, Credentials, hex, sign_service_headers};
use crate::time::UnixTime;

const TIMEOUT: Duration = Duration::from_secs(10);
/// Secrets Manager keeps secrets of at most 64 KB.
const MAX_ANSWER_BYTES: usize = 128 * 1024;

/// One `GetSecretValue` request, signed: the URL, its headers and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// The request for the secret `arn` in `region`, to `endpoint` (`None`: the region's public
/// endpoint), signed with `credentials` at `now`.
pub fn get_secret_value(
    arn: &str,
    region: &str,
    endpoint: Option<&str>,
    credentials: &Credentials,
    now: UnixTime,
) -> SecretRequest {
    let url = match endpoint {
        Some(endpoint) => format!("{}/", endpoint.trim_end_matches('/')),
        None => format!("https://secretsmanager.{region}.amazonaws.com/"),
    };
    let host = url
        .split_once("://")
        .map_or(url.as_str(), |(_, rest)| rest)
        .trim_end_matches('/')
        .to_string();
    let body = serde_json::json!({ "SecretId": arn }).to_string();
    let payload_hash = hex(&Sha256::digest(body.as_bytes()));
    let request = CanonicalRequest {
        method: "POST",
        host: &host,
        path: "/",
        query: Vec::new(),
        headers: vec![
            ("content-type".into(), "application/x-amz-json-1.1".into()),
            (
                "x-amz-target".into(),
                "secretsmanager.GetSecretValue".into(),
            ),
        ],
        payload_hash: &payload_hash,
    };
    let headers = sign_service_headers(request, credentials, now, region, "secretsmanager");
    SecretRequest { url, headers, body }
}

#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "SecretString")]
    secret_string: Option<String>,
}

#[derive(Deserialize)]
struct Refusal {
    #[serde(rename = "__type", default)]
    kind: String,
    #[serde(rename = "Message", alias = "message", default)]
    message: String,
}

/// The secret's text, from what Secrets Manager answered with `status`.
pub fn secret_string(status: u16, body: &[u8]) -> Result<String, String> {
    if !(200..300).contains(&status) {
        let refusal: Refusal = serde_json::from_slice(body).unwrap_or(Refusal {
            kind: String::new(),
            message: String::from_utf8_lossy(body).chars().take(200).collect(),
        });
        // "…#AccessDeniedException" in some answers: the name after the last '#'.
        let kind = refusal.kind.rsplit('#').next().unwrap_or_default();
        return Err(format!(
            "Secrets Manager answered {status} {kind}: {}",
            refusal.message
        ));
    }
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|e| format!("Secrets Manager's answer is not GetSecretValue's ({e})"))?;
    answer
        .secret_string
        .ok_or_else(|| "the secret holds binary data, not text (SecretString)".into())
}

/// Reads the secret `arn` (in `region`) with `credentials`.
pub async fn fetch(
    arn: &str,
    region: &str,
    endpoint: Option<&str>,
    credentials: &Credentials,
) -> Result<String, String> {
    let request = get_secret_value(arn, region, endpoint, credentials, UnixTime::now());
    let mut builder = http::Request::post(&request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let http_request = builder
        .body(Full::new(Bytes::from(request.body)))
        .map_err(|e| format!("{}: {e}", request.url))?;
    let client: Client<_, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(crate::s3::https_connector());
    let exchange = async {
        let response = client
            .request(http_request)
            .await
            .map_err(|e| format!("{}: {e}", request.url))?;
        let status = response.status().as_u16();
        let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| format!("{}: {e}", request.url))?
            .to_bytes();
        secret_string(status, &body)
    };
    tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| format!("{} did not answer in {} s", request.url, TIMEOUT.as_secs()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials() -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: Some("session".into()),
        }
    }

    #[test]
    fn the_request_is_get_secret_value_signed_for_secretsmanager() {
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tokens-AbCdEf";
        let request = get_secret_value(
            arn,
            "eu-west-1",
            None,
            &credentials(),
            UnixTime(1_800_000_000),
        );
        assert_eq!(
            request.url,
            "https://secretsmanager.eu-west-1.amazonaws.com/"
        );
        assert_eq!(request.body, format!(r#"{{"SecretId":"{arn}"}}"#));
        let header = |name: &str| {
            request
                .headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            header("x-amz-target"),
            Some("secretsmanager.GetSecretValue")
        );
        assert_eq!(header("content-type"), Some("application/x-amz-json-1.1"));
        assert_eq!(header("x-amz-security-token"), Some("session"));
        let authorization = header("authorization").unwrap();
        assert!(
            authorization.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20270115/eu-west-1/secretsmanager/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amz-target, Signature="
            ),
            "{authorization}"
        );
        let local = get_secret_value(
            arn,
            "eu-west-1",
            Some("http://127.0.0.1:4566/"),
            &credentials(),
            UnixTime(0),
        );
        assert_eq!(local.url, "http://127.0.0.1:4566/");
    }

    #[test]
    fn answers_are_read_or_named() {
        assert_eq!(
            secret_string(200, br#"{"ARN":"a","Name":"n","SecretString":"s3cret"}"#),
            Ok("s3cret".into())
        );
        let err = secret_string(
            400,
            br#"{"__type":"com.amazonaws#AccessDeniedException","Message":"not allowed"}"#,
        )
        .unwrap_err();
        assert_eq!(
            err,
            "Secrets Manager answered 400 AccessDeniedException: not allowed"
        );
        assert!(
            secret_string(200, br#"{"SecretBinary":"AAAA"}"#)
                .unwrap_err()
                .contains("binary")
        );
        assert!(
            secret_string(502, b"<html>bad gateway</html>")
                .unwrap_err()
                .contains("502")
        );
    }
}
