//! The S3 edge: the only module that sends requests to S3 (hyper's client, rustls for https). It
//! sends each [`S3Call`] the pure core asks for and hands the answer back ([`run`]), knowing
//! nothing of the routes.
//!
//! Why hyper and the project's own SigV4 rather than `aws-sdk-s3`: the signer makes four kinds of
//! calls (create, list, complete, abort a multipart upload) and signs one for the page to send
//! (UploadPart, with the part's length and MD5 as signed headers, which the SDK's presigner does
//! not pin the same way); the SDK would add several MB to a Lambda zip of about 2.4 MB and tens of ms to a cold
//! start, for code the signer already has (SigV4, tested against AWS's published examples).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::answer::Outgoing;
use crate::step::{Pending, S3Answer, S3Call, Step};

/// One S3 call may take this long.
const CALL_TIMEOUT: Duration = Duration::from_secs(4);
/// But `complete`, which S3 may take a while to answer for a big upload (it answers `200` at once
/// and the result when done; s3s-fs copies the parts: 3 s for 1 GiB, measured). Under the
/// Lambda's 28 s and API Gateway's 30 s; the page retries a `complete` that timed out, and an
/// upload that completed meanwhile then answers `NoSuchUpload` or `ObjectExists`: done.
const COMPLETE_TIMEOUT: Duration = Duration::from_secs(25);
/// Calls one request may make at most (a complete of 10,000 parts lists 10 pages, then completes).
const MAX_CALLS: usize = 16;
/// The largest S3 answer read (a page of 1,000 listed parts is about 250 KB).
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// http or https (rustls, webpki roots): the signer's outgoing connections (S3, and the sign-in
/// issuer in `oidc.rs`), and the hook's.
pub fn https_connector() -> hyper_rustls::HttpsConnector<HttpConnector> {
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .build()
}

/// A pool of connections to S3, over http (a local store) or https (AWS). Making one does no I/O.
#[derive(Clone)]
pub struct Client {
    inner: HyperClient<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("s3::Client")
    }
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

impl Client {
    pub fn new() -> Client {
        Client {
            inner: HyperClient::builder(TokioExecutor::new()).build(https_connector()),
        }
    }

    /// Sends one call: S3's status and body, or why there is none.
    pub async fn send(&self, call: &S3Call) -> S3Answer {
        let mut request = http::Request::builder()
            .method(call.method.clone())
            .uri(&call.url);
        for (name, value) in &call.headers {
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(Bytes::from(call.body.clone())))
            .map_err(|e| e.to_string())?;
        let exchange = async {
            let response = self
                .inner
                .request(request)
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            Ok((status, body.to_vec()))
        };
        let limit = match call.pending {
            Pending::Complete { .. } => COMPLETE_TIMEOUT,
            _ => CALL_TIMEOUT,
        };
        tokio::time::timeout(limit, exchange)
            .await
            .map_err(|_| "storage did not answer in time".to_string())?
    }
}

/// Runs a request's steps from `first`: each S3 call the core asks for (at most `MAX_CALLS`; a
/// call past that is answered as a storage failure), then `resume` with its answer, until the
/// core answers. `Signer::answer` is its one caller.
pub async fn run(
    client: &Client,
    first: Step,
    mut resume: impl FnMut(Pending, S3Answer) -> Step,
) -> Outgoing {
    let mut step = first;
    let mut calls = 0;
    loop {
        match step {
            Step::Done(response) => return response,
            Step::Call(call) => {
                calls += 1;
                let answer = if calls <= MAX_CALLS {
                    client.send(&call).await
                } else {
                    Err("too many storage calls for one request".into())
                };
                step = resume(call.pending, answer);
            }
        }
    }
}
