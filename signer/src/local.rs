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
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use shared::ErrorCode;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::answer::MAX_BATCH_BODY_BYTES;
use crate::auth::Caller;
use crate::service::Incoming;
use crate::state::Signer;

/// What one client may hold of the local server: a client that sends its headers or its body
/// slowly, or opens connections without end, must not hold it for everyone.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request's headers must have arrived this long after it began (else the connection is
    /// closed).
    pub header_read: Duration,
    /// Its body this long after its headers (else `408`).
    pub body_read: Duration,
    /// Connections open at once; past it, new ones wait to be accepted.
    pub connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(30),
            connections: 256,
        }
    }
}

/// Serves until `shutdown` resolves, then gives open connections up to 5 s to finish.
pub async fn serve(signer: Arc<Signer>, listener: TcpListener, shutdown: impl Future<Output = ()>) {
    serve_with(signer, listener, shutdown, Limits::default()).await;
}

/// [`serve`] with other [`Limits`] (tests use short ones).
pub async fn serve_with(
    signer: Arc<Signer>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    limits: Limits,
) {
    let mut shutdown = std::pin::pin!(shutdown);
    let graceful = GracefulShutdown::new();
    let open = Arc::new(Semaphore::new(limits.connections));
    loop {
        // A place first: past the cap, connections wait in the listener's backlog.
        let place = tokio::select! {
            place = Arc::clone(&open).acquire_owned() => match place {
                Ok(place) => place,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
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
        let body_read = limits.body_read;
        let service = service_fn(move |request| {
            let signer = Arc::clone(&signer);
            async move { Ok::<_, Infallible>(answer(&signer, request, body_read).await) }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%err, "connection ended with an error");
            }
            drop(place);
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

async fn answer(
    signer: &Signer,
    request: Request<HyperBody>,
    body_read: Duration,
) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    // Up to the largest body any route takes (a batch, a multipart call), and one byte more so
    // a route sees that a body is over its limit.
    let Ok(body) =
        tokio::time::timeout(body_read, read_limited(body, MAX_BATCH_BODY_BYTES + 1)).await
    else {
        let mut late = crate::answer::error(
            ErrorCode::MalformedRequest,
            format!(
                "The request's body did not arrive within {} s.",
                body_read.as_secs()
            ),
        );
        *late.status_mut() = http::StatusCode::REQUEST_TIMEOUT;
        return late.map(|body| Full::new(Bytes::from(body)));
    };
    let origin = crate::service::origin_header(parts.headers.get(http::header::ORIGIN));
    let caller = Caller::from_authorization(parts.headers.get(http::header::AUTHORIZATION));
    if let Caller::Bearer(token) = caller {
        crate::oidc::refresh_keys_for(signer, token).await;
    }
    let response = signer
        .answer(&Incoming {
            method: &parts.method,
            path: parts.uri.path(),
            origin,
            body: &body,
            caller,
            origin_secret: parts
                .headers
                .get(crate::service::ORIGIN_SECRET_HEADER)
                .and_then(|v| v.to_str().ok()),
        })
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
