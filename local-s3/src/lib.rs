//! A local S3 server for development and tests: s3s-fs (objects as files under a folder) behind a CORS
//! layer, with one bucket and fixed credentials.
//!
//! s3s verifies SigV4 POST policies the way AWS does (signature, expiration, every condition, no extra
//! fields, `content-length-range`), so the signer's forms are tested against a real server. It has no
//! CORS of its own; [`Cors`] answers preflights and adds the response headers for the allowed origins.
//! s3s-fs 0.17 checks `Content-MD5` on PutObject but not on UploadPart, where AWS and radosgw do:
//! the same layer checks it there (`400 BadDigest`), so a part URL with a signed MD5 refuses other
//! bytes here as it does on S3.
//!
//! [`store`] adds to s3s-fs what the after-upload hook needs of a store: an event for every stored
//! object, sent where AWS would send it, object tags, and `If-Match` on reads.
//!
//! [`radosgw`] runs the strictest S3 available here, Ceph's radosgw, for the strict suites; [`client`]
//! is the tests' HTTP client with SigV4 header signing for set-up calls.

pub mod client;
pub mod issuer;
pub mod radosgw;
pub mod store;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS,
    ACCESS_CONTROL_REQUEST_METHOD, HeaderValue, ORIGIN, VARY,
};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use hyper_util::server::graceful::GracefulShutdown;
use s3s::auth::SimpleAuth;
use s3s::config::{S3Config, StaticConfigProvider};
use s3s::region::Region;
use s3s::service::{S3Service, S3ServiceBuilder};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// What the local server serves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Folder holding the buckets (one sub-folder each).
    pub root: PathBuf,
    /// Created at start if missing.
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    /// Requests signed for another region are refused, as AWS does.
    pub region: String,
    /// Page origins allowed by the CORS layer (`*` allows any).
    pub allowed_origins: Vec<String>,
    /// Where each stored object is announced, if anywhere (the hook's local endpoint).
    pub notify: Option<store::Notify>,
}

/// A running server; [`Server::stop`] ends it (dropping it ends it too, without waiting).
pub struct Server {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL for path-style requests, e.g. `http://127.0.0.1:9000`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets open requests finish for up to 5 s, then returns.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Binds `addr` (port 0 picks a free one), creates the bucket folder and starts serving.
pub async fn start(config: Config, addr: SocketAddr) -> io::Result<Server> {
    let listener = TcpListener::bind(addr).await.map_err(|err| {
        io::Error::new(
            err.kind(),
            format!("local S3 cannot listen on {addr}: {err}"),
        )
    })?;
    let addr = listener.local_addr()?;
    let service = build_service(&config)?;
    let (shutdown, mut stop) = oneshot::channel();
    let task = tokio::spawn(async move {
        let http = ConnBuilder::new(TokioExecutor::new());
        let graceful = GracefulShutdown::new();
        loop {
            let socket = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((socket, _)) => socket,
                    Err(err) => {
                        tracing::warn!(%err, "local S3: accept failed");
                        continue;
                    }
                },
                _ = &mut stop => break,
            };
            // Small answers must not wait for the client's delayed ACK (Nagle's algorithm).
            let _ = socket.set_nodelay(true);
            let conn = http.serve_connection(TokioIo::new(socket), service.clone());
            let conn = graceful.watch(conn.into_owned());
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), graceful.shutdown()).await;
    });
    Ok(Server {
        addr,
        shutdown: Some(shutdown),
        task: Some(task),
    })
}

fn build_service(config: &Config) -> io::Result<Cors> {
    std::fs::create_dir_all(config.root.join(&config.bucket))?;
    let fs = s3s_fs::FileSystem::new(&config.root)
        .map_err(|err| io::Error::other(format!("{err:?}")))?;
    let region: Region = config.region.parse().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad region {:?}", config.region),
        )
    })?;
    let mut s3_config = S3Config::default();
    s3_config.expected_region = Some(region);
    let store = store::Store::new(fs, &config.root, config.notify.clone(), &config.region);
    let mut builder = S3ServiceBuilder::new(store);
    builder.set_auth(SimpleAuth::from_single(
        config.access_key.clone(),
        config.secret_key.clone(),
    ));
    builder.set_config(Arc::new(StaticConfigProvider::new(Arc::new(s3_config))));
    Ok(Cors {
        inner: builder.build(),
        allowed_origins: Arc::new(config.allowed_origins.clone()),
    })
}

/// The CORS rule a bucket would carry: the allowed origins may `GET`, `HEAD`, `PUT` and `POST`, with
/// any request header, and read `ETag` from the answer.
#[derive(Clone)]
pub struct Cors {
    inner: S3Service,
    allowed_origins: Arc<Vec<String>>,
}

impl Cors {
    fn allows(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| o == "*" || o == origin)
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl hyper::service::Service<Request<Incoming>> for Cors {
    type Response = Response<s3s::Body>;
    type Error = s3s::HttpError;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let origin = req.headers().get(ORIGIN).cloned();
        let allowed = origin
            .as_ref()
            .and_then(|o| o.to_str().ok())
            .is_some_and(|o| self.allows(o));
        let preflight = req.method() == Method::OPTIONS
            && req.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD);
        if preflight {
            let response = preflight_response(&req, origin.filter(|_| allowed));
            return Box::pin(async move { Ok(response) });
        }
        let inner = self.inner.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let (body, bad) = checked_part(&parts, body);
            let mut response = inner.call(Request::from_parts(parts, body)).await?;
            if bad.is_some_and(|bad| bad.load(Ordering::SeqCst)) {
                response = bad_digest();
            }
            if let Some(origin) = origin.filter(|_| allowed) {
                let headers = response.headers_mut();
                headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                headers.insert(
                    ACCESS_CONTROL_EXPOSE_HEADERS,
                    HeaderValue::from_static("ETag"),
                );
            }
            response
                .headers_mut()
                .append(VARY, HeaderValue::from_static("Origin"));
            Ok(response)
        })
    }
}

/// For an UploadPart with a `Content-MD5`: the body, checked as it streams (see
/// [`Md5Checked`]), and the flag it sets on a mismatch; other requests' bodies as they are.
fn checked_part(
    parts: &http::request::Parts,
    body: Incoming,
) -> (s3s::Body, Option<Arc<AtomicBool>>) {
    let query = parts.uri.query().unwrap_or_default();
    let upload_part = parts.method == Method::PUT
        && query.split('&').any(|q| q.starts_with("partNumber="))
        && query.split('&').any(|q| q.starts_with("uploadId="));
    let expected = parts
        .headers
        .get("content-md5")
        .and_then(|v| v.to_str().ok())
        .filter(|_| upload_part);
    match expected {
        Some(expected) => {
            let bad = Arc::new(AtomicBool::new(false));
            let body = Md5Checked {
                inner: body,
                hasher: md5::Md5::default(),
                expected: expected.to_string(),
                bad: bad.clone(),
                done: false,
            };
            (s3s::Body::http_body(body), Some(bad))
        }
        None => (s3s::Body::from(body), None),
    }
}

/// A part's body whose MD5 is computed as it streams to s3s-fs; when it differs from the
/// `Content-MD5` header, the stream ends in an error instead (s3s-fs then stores nothing) and
/// `bad` is set, so the answer becomes S3's `400 BadDigest`. The signature is checked first, by
/// s3s before it reads the body, as AWS does.
struct Md5Checked {
    inner: Incoming,
    hasher: md5::Md5,
    expected: String,
    bad: Arc<AtomicBool>,
    done: bool,
}

impl hyper::body::Body for Md5Checked {
    type Data = hyper::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        use md5::Digest as _;
        use std::task::Poll;
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.hasher.update(data);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error.into()))),
            Poll::Ready(None) => {
                use base64::Engine as _;
                this.done = true;
                let actual = base64::engine::general_purpose::STANDARD
                    .encode(std::mem::take(&mut this.hasher).finalize());
                if actual == this.expected {
                    Poll::Ready(None)
                } else {
                    this.bad.store(true, Ordering::SeqCst);
                    Poll::Ready(Some(Err("Content-MD5 mismatch".into())))
                }
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

fn bad_digest() -> Response<s3s::Body> {
    let mut response = Response::new(s3s::Body::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>BadDigest</Code>\
         <Message>The Content-MD5 you specified did not match what we received.</Message></Error>"
            .to_string(),
    ));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

fn preflight_response(
    req: &Request<Incoming>,
    allowed_origin: Option<HeaderValue>,
) -> Response<s3s::Body> {
    let mut response = Response::new(s3s::Body::empty());
    let headers = response.headers_mut();
    headers.insert(VARY, HeaderValue::from_static("Origin"));
    match allowed_origin {
        Some(origin) => {
            *response.status_mut() = StatusCode::OK;
            let headers = response.headers_mut();
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            headers.insert(
                ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, HEAD, PUT, POST"),
            );
            if let Some(requested) = req.headers().get(ACCESS_CONTROL_REQUEST_HEADERS) {
                headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
            }
            headers.insert(
                ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("ETag"),
            );
            headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        }
        // What S3 answers a preflight no CORS rule matches.
        None => *response.status_mut() = StatusCode::FORBIDDEN,
    }
    response
}
