//! The hook's S3 edge, the only module of the hook that talks to S3: it reads an object as a
//! stream (only the bytes an event announced: `If-Match`), writes a result object and sets an
//! object's tags. Requests are signed in their headers with the signer's SigV4 and sent with
//! hyper, as the signer sends its own (`signer/src/s3.rs` says why not the AWS SDK).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use signer::sigv4::{self, CanonicalRequest, Credentials, SigningKey};
use signer::time::UnixTime;

use crate::judge::{Inspected, Inspection};

/// A write or a tag may take this long.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// A read stalls when no byte arrives for this long (a big object may take minutes in all).
const READ_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// The most of an error answer read.
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// Why a call to S3 failed: worth a retry (the invocation fails, Lambda tries again, then the
/// dead-letter queue keeps the event).
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("storage did not answer: {0}")]
    Unreachable(String),
    #[error("storage answered {status} to {what}: {code}")]
    Refused {
        what: &'static str,
        status: u16,
        code: String,
    },
}

/// An object read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub inspected: Inspected,
    /// Its `Content-Type` as stored.
    pub content_type: String,
    /// Without quotes.
    pub etag: String,
    /// `x-amz-meta-uploader`, set by the signer in the signed-in mode.
    pub uploader: Option<String>,
}

/// What a read found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Object(Read),
    /// The object's bytes are no longer the announced ones (`412`): a later event announces the
    /// new ones.
    Replaced,
    /// No such key any more (`404`).
    Gone,
}

/// Connections to one bucket, signed with one set of credentials.
#[derive(Clone)]
pub struct Bucket {
    client: HyperClient<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    /// `https://<bucket>.s3.<region>.amazonaws.com` or `<endpoint>/<bucket>`.
    url: String,
    credentials: Credentials,
    region: String,
}

impl Bucket {
    pub fn new(url: String, credentials: Credentials, region: String) -> Bucket {
        Bucket {
            client: HyperClient::builder(TokioExecutor::new()).build(signer::s3::https_connector()),
            url,
            credentials,
            region,
        }
    }

    /// A request to `key`, signed now.
    fn request(
        &self,
        method: &str,
        key: &str,
        query: Vec<(String, String)>,
        headers: Vec<(String, String)>,
        body: Bytes,
    ) -> Result<http::Request<Full<Bytes>>, S3Error> {
        use sha2::Digest as _;
        let now = UnixTime::now();
        let payload_hash = sigv4::hex(&sha2::Sha256::digest(&body));
        let (url, host, path) = sigv4::object_url(&self.url, key);
        let canonical = CanonicalRequest {
            method,
            host: &host,
            path: &path,
            query,
            headers,
            payload_hash: &payload_hash,
        };
        let query = canonical.query_string();
        let signing_key =
            SigningKey::derive(&self.credentials.secret_access_key, now, &self.region);
        let headers = sigv4::sign_headers(
            canonical,
            &self.credentials,
            &signing_key,
            now,
            &self.region,
        );
        let url = if query.is_empty() {
            url
        } else {
            format!("{url}?{query}")
        };
        let mut request = http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request
            .body(Full::new(body))
            .map_err(|e| S3Error::Unreachable(e.to_string()))
    }

    /// Reads `key` once, whole, as it streams (never held in memory): its digest, size and first
    /// bytes. With `etag`, only if the object still holds those bytes.
    pub async fn read(&self, key: &str, etag: Option<&str>) -> Result<Found, S3Error> {
        let headers = etag
            .map(|etag| vec![("if-match".to_string(), format!("\"{etag}\""))])
            .unwrap_or_default();
        let request = self.request("GET", key, Vec::new(), headers, Bytes::new())?;
        let response = tokio::time::timeout(READ_IDLE_TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| S3Error::Unreachable("no answer to GET".into()))?
            .map_err(|e| S3Error::Unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        match status {
            200 => {}
            412 => return Ok(Found::Replaced),
            404 => return Ok(Found::Gone),
            _ => return Err(refusal("GET", status, response.into_body()).await),
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type").unwrap_or_default();
        let found_etag = header("etag")
            .unwrap_or_default()
            .trim_matches('"')
            .to_string();
        let uploader = header(signer::policy::UPLOADER_METADATA);
        let mut body: Incoming = response.into_body();
        let mut inspection = Inspection::new();
        loop {
            let frame = tokio::time::timeout(READ_IDLE_TIMEOUT, body.frame())
                .await
                .map_err(|_| S3Error::Unreachable("the object stopped arriving".into()))?;
            match frame {
                None => break,
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        inspection.update(data);
                    }
                }
                Some(Err(e)) => return Err(S3Error::Unreachable(e.to_string())),
            }
        }
        Ok(Found::Object(Read {
            inspected: inspection.finish(),
            content_type,
            etag: found_etag,
            uploader,
        }))
    }

    /// Stores `body` as `key` with `content_type`.
    pub async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), S3Error> {
        let headers = vec![("content-type".to_string(), content_type.to_string())];
        let request = self.request("PUT", key, Vec::new(), headers, Bytes::from(body))?;
        self.call("PUT", request).await
    }

    /// Replaces `key`'s tags with `tags`.
    pub async fn tag(&self, key: &str, tags: &[(&str, &str)]) -> Result<(), S3Error> {
        use base64::Engine as _;
        use md5::Digest as _;
        let tags: String = tags
            .iter()
            .map(|(k, v)| {
                format!(
                    "<Tag><Key>{}</Key><Value>{}</Value></Tag>",
                    escape(k),
                    escape(v)
                )
            })
            .collect();
        let xml = format!("<Tagging><TagSet>{tags}</TagSet></Tagging>");
        // S3 wants a checksum of a tagging body.
        let md5 = base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&xml));
        let headers = vec![
            ("content-md5".to_string(), md5),
            ("content-type".to_string(), "application/xml".to_string()),
        ];
        let query = vec![("tagging".to_string(), String::new())];
        let request = self.request("PUT", key, query, headers, Bytes::from(xml))?;
        self.call("PutObjectTagging", request).await
    }

    async fn call(
        &self,
        what: &'static str,
        request: http::Request<Full<Bytes>>,
    ) -> Result<(), S3Error> {
        let response = tokio::time::timeout(CALL_TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| S3Error::Unreachable(format!("no answer to {what}")))?
            .map_err(|e| S3Error::Unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            // Read the (empty) answer so the connection can be used again.
            let _ = response.into_body().collect().await;
            Ok(())
        } else {
            Err(refusal(what, status, response.into_body()).await)
        }
    }
}

/// S3's error code from an error answer, or the status alone.
async fn refusal(what: &'static str, status: u16, body: Incoming) -> S3Error {
    let body = http_body_util::Limited::new(body, MAX_ERROR_BYTES)
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    let code = roxmltree::Document::parse(&text)
        .ok()
        .and_then(|doc| {
            doc.descendants()
                .find(|n| n.has_tag_name("Code"))
                .and_then(|n| n.text().map(str::to_string))
        })
        .unwrap_or_else(|| "no error code".into());
    S3Error::Refused { what, status, code }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
