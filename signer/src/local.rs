//! The local edge: the same service over plain HTTP/1.1 (hyper) for development and tests. The only
//! module that knows hyper.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming as HyperBody;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::auth::Caller;
use crate::service::{Incoming, MAX_BATCH_BODY_BYTES, Signer};

/// Serves until `shutdown` resolves, then gives open connections up to 5 s to finish.
pub async fn serve(signer: Arc<Signer>, listener: TcpListener, shutdown: impl Future<Output = ()>) {
    let mut shutdown = std::pin::pin!(shutdown);
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    tracing::warn!(%err, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Answers are small and written at once; without this, Nagle's algorithm and the
        // client's delayed ACK can hold a response back for 40 ms (measured: 51 ms per sign
        // request from Chromium on loopback).
        let _ = stream.set_nodelay(true);
        let signer = Arc::clone(&signer);
        let service = service_fn(move |request| {
            let signer = Arc::clone(&signer);
            async move { Ok::<_, Infallible>(answer(&signer, request).await) }
        });
        let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%err, "connection ended with an error");
            }
        });
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}

/// Binds the configured address, with a clear error when it is taken.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|err| std::io::Error::new(err.kind(), format!("cannot listen on {addr}: {err}")))
}

async fn answer(signer: &Signer, request: Request<HyperBody>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    // Up to the largest body any route takes (a batch, a multipart call), and one byte more so
    // a route sees that a body is over its limit.
    let body = read_limited(body, MAX_BATCH_BODY_BYTES + 1).await;
    let origin = crate::service::origin_header(parts.headers.get(http::header::ORIGIN));
    let response = crate::s3::answer(
        signer,
        &Incoming {
            method: &parts.method,
            path: parts.uri.path(),
            origin,
            body: &body,
            caller: Caller::from_authorization(parts.headers.get(http::header::AUTHORIZATION)),
            origin_secret: parts
                .headers
                .get(crate::service::ORIGIN_SECRET_HEADER)
                .and_then(|v| v.to_str().ok()),
        },
    )
    .await;
    response.map(|body| Full::new(Bytes::from(body)))
}

/// Reads at most `limit` bytes of a body: enough for the service to tell a body over its limit,
/// without ever buffering a large upload someone sent to the wrong place.
async fn read_limited(mut body: HyperBody, limit: usize) -> Vec<u8> {
    let mut buffer = Vec::new();
    while buffer.len() < limit {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    let room = limit - buffer.len();
                    buffer.extend_from_slice(&data[..data.len().min(room)]);
                }
            }
            Some(Err(_)) | None => break,
        }
    }
    buffer
}
