//! The echo server the page's browser tests (`frontend/tests/browser.rs`) post to: HTTP/1.1 on
//! 127.0.0.1 (hyper, on a tokio runtime of its own), `Access-Control-Allow-Origin: *` on every
//! answer, so the test page (served by `wasm-bindgen-test-runner` on another port) may read it.
//! Multipart bodies are parsed by `multer`.
//!
//! Endpoints:
//!
//! - `OPTIONS *`: a CORS preflight, always allowed. (An `XMLHttpRequest` with upload listeners is
//!   always preflighted, even for a plain multipart POST.)
//! - `POST /echo[?status=NNN]`: parses the `multipart/form-data` body and answers `NNN`
//!   (default 201) with
//!   `{"parts":[{"name":…,"filename":…|null,"length":…,"value":…|null,"fnv1a64":"…"}, …]}`,
//!   the parts in the order received; `value` is a text part's content (`null` for a file part);
//!   `fnv1a64` is the FNV-1a 64 checksum of the part's bytes, in hex.
//! - `POST /slow?id=NAME`: reads the body slowly (a pause of 20 ms after every 64 KiB, about
//!   3 MB/s) so upload progress and aborts can be watched, then answers 200 with the same JSON
//!   as `/last`.
//! - `GET /last?id=NAME`: what the slow POST called `NAME` saw so far:
//!   `{"expected":…,"received":…,"finished":…,"complete":…}`, where `expected` is the
//!   `Content-Length`, `finished` says the server stopped reading (the body ended or the connection
//!   closed) and `complete` says the whole body arrived. 404 if there was no such POST.
//! - `GET /unused-port`: `{"port":…}`, a 127.0.0.1 port that was free a moment ago (bound, then
//!   released), for a request that must fail to connect.
//!
//! Every answer closes its connection. Bodies must carry a `Content-Length` (Chromium sends one for
//! `FormData`); anything else is a 411. Dropping the [`EchoServer`] stops its runtime, which ends
//! every open connection.

use crate::fnv::fnv1a64;
use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, BodyStream, Full};
use hyper::body::Incoming;
use hyper::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS, CACHE_CONTROL, CONNECTION,
    CONTENT_LENGTH, CONTENT_TYPE,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// The most `/echo` reads into memory; the browser tests send far less.
const MAX_ECHO_BODY: u64 = 64 * 1024 * 1024;
/// How `/slow` reads: a pause after every this many bytes.
const SLOW_CHUNK: u64 = 64 * 1024;
const SLOW_PAUSE: Duration = Duration::from_millis(20);

/// A CORS echo server for the page's browser tests; stops when dropped.
pub struct EchoServer {
    addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

/// What each `/slow?id=NAME` POST saw, by name.
type SlowRecords = Arc<Mutex<HashMap<String, SlowRecord>>>;

#[derive(Debug, Clone, Copy, Default)]
struct SlowRecord {
    expected: u64,
    received: u64,
    finished: bool,
}

impl SlowRecord {
    fn to_json(self) -> String {
        format!(
            r#"{{"expected":{},"received":{},"finished":{},"complete":{}}}"#,
            self.expected,
            self.received,
            self.finished,
            self.received == self.expected
        )
    }
}

impl EchoServer {
    /// Binds 127.0.0.1 on a free port and starts serving on a runtime of its own.
    pub fn start() -> io::Result<EchoServer> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let slow = SlowRecords::default();
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let slow = slow.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let slow = slow.clone();
                        async move { Ok::<_, Infallible>(serve(request, &slow).await) }
                    });
                    let _ = http1::Builder::new()
                        .keep_alive(false)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(EchoServer {
            addr,
            runtime: Some(runtime),
        })
    }

    /// The base URL, e.g. `http://127.0.0.1:PORT`, with no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // Ends the accept loop and every connection task (their sockets close).
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

type Answer = Response<Full<Bytes>>;

fn answer(status: u16, content_type: &str, body: String) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let headers = response.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, "*".parse().unwrap());
    headers.insert(CONTENT_TYPE, content_type.parse().unwrap());
    headers.insert(CACHE_CONTROL, "no-store".parse().unwrap());
    headers.insert(CONNECTION, "close".parse().unwrap());
    response
}

fn json(status: u16, body: String) -> Answer {
    answer(status, "application/json", body)
}

fn text(status: u16, body: &str) -> Answer {
    answer(status, "text/plain; charset=utf-8", body.to_string())
}

fn query<'a>(request: &'a Request<Incoming>, name: &str) -> Option<&'a str> {
    request.uri().query()?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then_some(value)
    })
}

fn content_length(request: &Request<Incoming>) -> Option<u64> {
    request
        .headers()
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

async fn serve(request: Request<Incoming>, slow_records: &SlowRecords) -> Answer {
    match (request.method(), request.uri().path()) {
        (&Method::OPTIONS, _) => {
            // Allow whatever the preflight asks for: this server exists to be posted to.
            let asked = request
                .headers()
                .get(ACCESS_CONTROL_REQUEST_HEADERS)
                .cloned();
            let mut response = text(204, "");
            let headers = response.headers_mut();
            headers.insert(
                ACCESS_CONTROL_ALLOW_METHODS,
                "GET, POST, OPTIONS".parse().unwrap(),
            );
            if let Some(asked) = asked {
                headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, asked);
            }
            headers.insert(ACCESS_CONTROL_MAX_AGE, "600".parse().unwrap());
            response
        }
        (&Method::POST, "/echo") => echo(request).await,
        (&Method::POST, "/slow") => slow(request, slow_records).await,
        (&Method::GET, "/last") => {
            let record = query(&request, "id").and_then(|id| lock(slow_records).get(id).copied());
            match record {
                Some(record) => json(200, record.to_json()),
                None => text(404, "no slow POST with that id"),
            }
        }
        (&Method::GET, "/unused-port") => unused_port(),
        _ => text(404, "no such endpoint"),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Parses the multipart body and answers with its parts, in order.
async fn echo(request: Request<Incoming>) -> Answer {
    let Some(length) = content_length(&request) else {
        return text(411, "a Content-Length is required");
    };
    if length > MAX_ECHO_BODY {
        return text(413, "body too large for /echo");
    }
    let status = match query(&request, "status").map(str::parse::<u16>) {
        None => 201,
        Some(Ok(status)) if (200..600).contains(&status) => status,
        Some(_) => return text(400, "status must be 200..599"),
    };
    let Some(boundary) = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok())
    else {
        return text(400, "not multipart/form-data");
    };
    let frames = BodyStream::new(request.into_body())
        .filter_map(|frame| async move { frame.map(|f| f.into_data().ok()).transpose() });
    let mut form = multer::Multipart::new(frames, boundary);
    let mut parts = Vec::new();
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().map(str::to_string);
                let filename = field.file_name().map(str::to_string);
                match field.bytes().await {
                    Ok(bytes) => parts.push(part_json(name, filename, &bytes)),
                    Err(_) => return text(400, "malformed multipart body"),
                }
            }
            Ok(None) => break,
            Err(_) => return text(400, "malformed multipart body"),
        }
    }
    json(status, format!(r#"{{"parts":[{}]}}"#, parts.join(",")))
}

fn part_json(name: Option<String>, filename: Option<String>, bytes: &[u8]) -> String {
    let quoted = |text: Option<&str>| {
        text.map_or("null".to_string(), |t| {
            serde_json::to_string(t).unwrap_or_default()
        })
    };
    let value = if filename.is_none() {
        quoted(Some(&String::from_utf8_lossy(bytes)))
    } else {
        "null".into()
    };
    format!(
        r#"{{"name":{},"filename":{},"length":{},"value":{value},"fnv1a64":"{:016x}"}}"#,
        quoted(name.as_deref()),
        quoted(filename.as_deref()),
        bytes.len(),
        fnv1a64(bytes)
    )
}

/// Reads the body with a pause after every `SLOW_CHUNK` bytes, recording progress under `id`.
async fn slow(request: Request<Incoming>, records: &SlowRecords) -> Answer {
    let Some(id) = query(&request, "id").map(str::to_string) else {
        return text(400, "/slow needs ?id=NAME");
    };
    let Some(expected) = content_length(&request) else {
        return text(411, "a Content-Length is required");
    };
    let mut record = SlowRecord {
        expected,
        ..SlowRecord::default()
    };
    let save = |record: SlowRecord| {
        lock(records).insert(id.clone(), record);
    };
    save(record);
    let mut body = request.into_body();
    let mut since_pause = 0u64;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        if let Some(data) = frame.data_ref() {
            record.received += data.len() as u64;
            since_pause += data.len() as u64;
            save(record);
            while since_pause >= SLOW_CHUNK {
                since_pause -= SLOW_CHUNK;
                tokio::time::sleep(SLOW_PAUSE).await;
            }
        }
    }
    record.finished = true;
    save(record);
    // A client that went away mid-body gets no answer: there is no one to answer.
    json(200, record.to_json())
}

fn unused_port() -> Answer {
    // Binding port 0 and letting go hands out a port nothing listens on; the kernel does not reuse
    // it straight away, which is all a failing-connection test needs.
    match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(addr) => json(200, format!(r#"{{"port":{}}}"#, addr.port())),
        Err(e) => text(500, &format!("cannot bind: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_parts_come_back_in_order_with_their_bytes_and_cors() {
        let server = EchoServer::start().unwrap();
        let addr: SocketAddr = server.url().trim_start_matches("http://").parse().unwrap();
        let boundary = "XyZ";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nuploads/a b\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n\u{1}\u{2}\u{3}\r\n\
             --{boundary}--\r\n"
        );
        let content_type = format!("multipart/form-data; boundary=\"{boundary}\"");
        let response = local_s3::client::request(
            addr,
            "POST",
            "/echo?status=200",
            &[("Content-Type", &content_type)],
            body.as_bytes(),
        )
        .unwrap();
        assert_eq!(response.status, 200, "{}", response.text());
        assert_eq!(response.header("access-control-allow-origin"), Some("*"));
        let value: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(value["parts"][0]["name"], "key");
        assert_eq!(value["parts"][0]["value"], "uploads/a b");
        assert_eq!(value["parts"][1]["filename"], "f.bin");
        assert_eq!(value["parts"][1]["length"], 3);
        assert_eq!(
            value["parts"][1]["fnv1a64"],
            format!("{:016x}", fnv1a64(&[1, 2, 3]))
        );
        let missing = local_s3::client::request(addr, "GET", "/last?id=none", &[], b"").unwrap();
        assert_eq!(missing.status, 404);
        let preflight = local_s3::client::request(
            addr,
            "OPTIONS",
            "/echo",
            &[("Access-Control-Request-Headers", "x-test")],
            b"",
        )
        .unwrap();
        assert_eq!(preflight.status, 204);
        assert_eq!(
            preflight.header("access-control-allow-headers"),
            Some("x-test")
        );
        drop(server);
        assert!(
            std::net::TcpStream::connect(addr).is_err(),
            "still listening"
        );
    }
}
