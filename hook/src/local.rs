//! The local edge: events over HTTP, as local-s3 sends them (`--notify`) and as Ceph radosgw's
//! bucket notifications push them (an HTTP endpoint topic). `POST` an event (either shape) and
//! the hook answers `202` at once and judges in the background, retrying a failed object a few
//! times, as Lambda's asynchronous invocation does; an event it cannot read is `400` with the
//! reason, so the sender sees it. The only module of the hook that knows hyper's server.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::{Hook, event};

/// The largest event taken (a notification holds a handful of records).
const MAX_EVENT_BYTES: usize = 1024 * 1024;
/// Tries per object: a store that is starting, or a result write that failed, is tried again.
const ATTEMPTS: u32 = 5;

/// Serves events until `shutdown` completes.
pub async fn serve(
    hook: Arc<Hook>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                Err(err) => {
                    tracing::warn!(%err, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let hook = hook.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(hook.clone(), request));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(socket), service)
                .await;
        });
    }
}

pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|err| {
        std::io::Error::new(
            err.kind(),
            format!("the hook cannot listen on {addr}: {err}"),
        )
    })
}

async fn answer(
    hook: Arc<Hook>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.method() == Method::GET {
        return Ok(reply(StatusCode::OK, serde_json::json!({"hook": "ready"})));
    }
    if request.method() != Method::POST {
        return Ok(reply(
            StatusCode::METHOD_NOT_ALLOWED,
            serde_json::json!({"error": "POST an S3 event"}),
        ));
    }
    let body = match Limited::new(request.into_body(), MAX_EVENT_BYTES)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(err) => {
            return Ok(reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                serde_json::json!({"error": err.to_string()}),
            ));
        }
    };
    let stored = serde_json::from_slice::<serde_json::Value>(&body)
        .map_err(|e| e.to_string())
        .and_then(|payload| event::stored_objects(&payload).map_err(|e| e.to_string()));
    let stored = match stored {
        Ok(stored) => stored,
        Err(why) => {
            tracing::warn!(why, "an event the hook cannot read");
            return Ok(reply(
                StatusCode::BAD_REQUEST,
                serde_json::json!({"error": why}),
            ));
        }
    };
    let accepted = stored.len();
    for object in stored {
        let hook = hook.clone();
        tokio::spawn(async move {
            let mut wait = Duration::from_millis(500);
            for attempt in 1..=ATTEMPTS {
                match hook.process(&object).await {
                    Ok(_) => return,
                    Err(err) => {
                        tracing::warn!(attempt, %err, etag = object.etag.as_deref().unwrap_or_default(), "not judged yet")
                    }
                }
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            tracing::error!(
                etag = object.etag.as_deref().unwrap_or_default(),
                "not judged after {ATTEMPTS} attempts"
            );
        });
    }
    Ok(reply(
        StatusCode::ACCEPTED,
        serde_json::json!({"accepted": accepted}),
    ))
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}
