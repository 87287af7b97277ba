//! The echo server the page's browser tests (`frontend/tests/browser.rs`) post to: plain `std`
//! HTTP/1.1 on 127.0.0.1, one thread per connection, `Access-Control-Allow-Origin: *` on every
//! answer, so the test page (served by `wasm-bindgen-test-runner` on another port) may read it.
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
//! - `POST /slow?id=NAME`: reads the body slowly (64 KiB every 20 ms, about 3 MB/s) so upload
//!   progress and aborts can be watched, then answers 200 with the same JSON as `/last`.
//! - `GET /last?id=NAME`: what the slow POST called `NAME` saw so far:
//!   `{"expected":…,"received":…,"finished":…,"complete":…}`, where `expected` is the
//!   `Content-Length`, `finished` says the server stopped reading (the body ended or the connection
//!   closed) and `complete` says the whole body arrived. 404 if there was no such POST.
//! - `GET /unused-port`: `{"port":…}`, a 127.0.0.1 port that was free a moment ago (bound, then
//!   released), for a request that must fail to connect.
//!
//! Every answer closes its connection, so each thread serves one request and ends. Bodies must
//! carry a `Content-Length` (Chromium sends one for `FormData`); anything else is a 411.
//! Dropping the [`EchoServer`] shuts every open connection down and joins every thread.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The most a request head (request line and headers) may take.
const MAX_HEAD: usize = 64 * 1024;
/// The most `/echo` reads into memory; the browser tests send far less.
const MAX_ECHO_BODY: u64 = 64 * 1024 * 1024;
/// How `/slow` reads: this many bytes, then a pause.
const SLOW_CHUNK: usize = 64 * 1024;
const SLOW_PAUSE: Duration = Duration::from_millis(20);
/// A client silent for this long is dropped, so no thread waits forever on a stuck browser.
const IDLE: Duration = Duration::from_secs(30);

/// A CORS echo server for the page's browser tests; stops when dropped.
pub struct EchoServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

/// What the accept thread and the connection threads share.
#[derive(Default)]
struct Shared {
    stopping: AtomicBool,
    next_connection: AtomicU64,
    /// The open connections, so stopping can shut them down (which ends their threads' reads).
    open: Mutex<HashMap<u64, TcpStream>>,
    /// What each `/slow?id=NAME` POST saw, by name.
    slow: Mutex<HashMap<String, SlowRecord>>,
}

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
    /// Binds 127.0.0.1 on a free port and starts serving on a background thread.
    pub fn start() -> io::Result<EchoServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let accept = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("echo-accept".into())
                .spawn(move || accept_loop(&listener, &shared))?
        };
        Ok(EchoServer {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// The base URL, e.g. `http://127.0.0.1:PORT`, with no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // `accept` blocks until someone connects, so connect once to wake it up to see the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut threads: Vec<JoinHandle<()>> = Vec::new();
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            // A failed accept concerns that one connection (or a passing lack of file
            // descriptors): pause briefly rather than spin, then carry on.
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        threads.retain(|thread| !thread.is_finished());
        let id = shared.next_connection.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.open).insert(id, clone);
        }
        let for_thread = shared.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("echo-{id}"))
            .spawn(move || {
                serve(stream, &for_thread);
                lock(&for_thread.open).remove(&id);
            });
        match spawned {
            Ok(thread) => threads.push(thread),
            Err(_) => {
                lock(&shared.open).remove(&id);
            }
        }
    }
    // Unblock every connection still reading or writing, then wait for each thread to end.
    for stream in lock(&shared.open).values() {
        let _ = stream.shutdown(Shutdown::Both);
    }
    for thread in threads {
        let _ = thread.join();
    }
}

/// A poisoned lock only means another connection's thread panicked; its data is still usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One request head, parsed.
struct Request {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn content_length(&self) -> Option<u64> {
        self.header("content-length")?.trim().parse().ok()
    }
}

/// An answer; every one gets the CORS header and `Connection: close`.
struct Answer {
    status: u16,
    content_type: &'static str,
    body: String,
}

impl Answer {
    fn json(status: u16, body: String) -> Answer {
        Answer {
            status,
            content_type: "application/json",
            body,
        }
    }

    fn text(status: u16, body: &str) -> Answer {
        Answer {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.to_string(),
        }
    }
}

fn serve(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(IDLE));
    let _ = stream.set_write_timeout(Some(IDLE));
    let Ok((request, rest)) = read_head(&mut stream) else {
        return;
    };
    let answer = match (request.method.as_str(), request.path.as_str()) {
        ("OPTIONS", _) => Some(Answer::text(204, "")),
        ("POST", "/echo") => echo(&request, rest, &mut stream),
        ("POST", "/slow") => slow(&request, rest, &mut stream, shared),
        ("GET", "/last") => Some(last(&request, shared)),
        ("GET", "/unused-port") => Some(unused_port()),
        _ => Some(Answer::text(404, "no such endpoint")),
    };
    // No answer means the client went away mid-body: there is no one to answer.
    if let Some(answer) = answer {
        let _ = write_answer(&mut stream, &request, &answer);
    }
    let _ = stream.shutdown(Shutdown::Both);
}

/// Reads up to the blank line that ends the head; returns the head and any body bytes read past it.
fn read_head(stream: &mut TcpStream) -> io::Result<(Request, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(at) = find(&buffer, b"\r\n\r\n") {
            break at;
        }
        if buffer.len() > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too long"));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
    let rest = buffer[end + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_string();
    let target = request_line.next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name.to_string(), value.to_string())
        })
        .collect();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
        .collect();
    let request = Request {
        method,
        path: path.to_string(),
        query,
        headers,
    };
    Ok((request, rest))
}

fn write_answer(stream: &mut TcpStream, request: &Request, answer: &Answer) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n\
         Access-Control-Allow-Origin: *\r\n\
         Content-Type: {}\r\n\
         Content-Length: {}\r\n\
         Cache-Control: no-store\r\n\
         Connection: close\r\n",
        answer.status,
        reason(answer.status),
        answer.content_type,
        answer.body.len()
    );
    if request.method == "OPTIONS" {
        // Allow whatever the preflight asks for: this server exists to be posted to.
        head.push_str("Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n");
        if let Some(asked) = request.header("access-control-request-headers") {
            head.push_str(&format!("Access-Control-Allow-Headers: {asked}\r\n"));
        }
        head.push_str("Access-Control-Max-Age: 600\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(answer.body.as_bytes())?;
    stream.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        411 => "Length Required",
        413 => "Content Too Large",
        _ => "Status",
    }
}

/// Reads the whole body into memory, then answers with what the multipart form held.
fn echo(request: &Request, rest: Vec<u8>, stream: &mut TcpStream) -> Option<Answer> {
    let Some(length) = request.content_length() else {
        return Some(Answer::text(411, "a Content-Length is required"));
    };
    if length > MAX_ECHO_BODY {
        return Some(Answer::text(413, "body too large for /echo"));
    }
    let mut body = rest;
    body.truncate(length as usize);
    let missing = length - body.len() as u64;
    if Read::take(&mut *stream, missing)
        .read_to_end(&mut body)
        .ok()? as u64
        != missing
    {
        return None;
    }
    let status = match request.query("status").map(str::parse::<u16>) {
        None => 201,
        Some(Ok(status)) if (200..600).contains(&status) => status,
        Some(_) => return Some(Answer::text(400, "status must be 200..599")),
    };
    let Some(boundary) = request.header("content-type").and_then(boundary) else {
        return Some(Answer::text(400, "not multipart/form-data"));
    };
    match parse_multipart(&body, &boundary) {
        Some(parts) => Some(Answer::json(status, parts_json(&parts))),
        None => Some(Answer::text(400, "malformed multipart body")),
    }
}

/// Reads the body a chunk at a time with a pause after each, recording progress under `id`.
fn slow(
    request: &Request,
    rest: Vec<u8>,
    stream: &mut TcpStream,
    shared: &Shared,
) -> Option<Answer> {
    let Some(id) = request.query("id").map(str::to_string) else {
        return Some(Answer::text(400, "/slow needs ?id=NAME"));
    };
    let Some(expected) = request.content_length() else {
        return Some(Answer::text(411, "a Content-Length is required"));
    };
    let mut record = SlowRecord {
        expected,
        received: (rest.len() as u64).min(expected),
        finished: false,
    };
    let save = |record: SlowRecord| {
        lock(&shared.slow).insert(id.clone(), record);
    };
    save(record);
    let mut chunk = vec![0u8; SLOW_CHUNK];
    while record.received < expected {
        std::thread::sleep(SLOW_PAUSE);
        let wanted = (expected - record.received).min(SLOW_CHUNK as u64) as usize;
        match stream.read(&mut chunk[..wanted]) {
            Ok(0) | Err(_) => break,
            Ok(n) => record.received += n as u64,
        }
        save(record);
    }
    record.finished = true;
    save(record);
    (record.received == expected).then(|| Answer::json(200, record.to_json()))
}

fn last(request: &Request, shared: &Shared) -> Answer {
    let record = request
        .query("id")
        .and_then(|id| lock(&shared.slow).get(id).copied());
    match record {
        Some(record) => Answer::json(200, record.to_json()),
        None => Answer::text(404, "no slow POST with that id"),
    }
}

fn unused_port() -> Answer {
    // Binding port 0 and letting go hands out a port nothing listens on; the kernel does not reuse
    // it straight away, which is all a failing-connection test needs.
    match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(addr) => Answer::json(200, format!(r#"{{"port":{}}}"#, addr.port())),
        Err(e) => Answer::text(500, &format!("cannot bind: {e}")),
    }
}

/// The `boundary` parameter of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    header_params(params)
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| value)
}

/// `; a=b; c="d; e"` as name/value pairs. Browsers percent-encode quotes inside quoted values, so
/// a quoted value simply runs to the next quote.
fn header_params(params: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = params;
    loop {
        rest = rest.trim_start_matches([';', ' ', '\t']);
        let Some((name, after)) = rest.split_once('=') else {
            return pairs;
        };
        let (value, after) = match after.strip_prefix('"') {
            Some(quoted) => quoted.split_once('"').unwrap_or((quoted, "")),
            None => after.split_once(';').unwrap_or((after, "")),
        };
        pairs.push((name.trim().to_string(), value.to_string()));
        rest = after;
    }
}

struct Part<'a> {
    name: String,
    filename: Option<String>,
    data: &'a [u8],
}

/// Splits a multipart body into its parts, in order; `None` if it is not well formed.
fn parse_multipart<'a>(body: &'a [u8], boundary: &str) -> Option<Vec<Part<'a>>> {
    let delimiter = format!("--{boundary}");
    let next_delimiter = format!("\r\n--{boundary}");
    let mut at = delimiter.len();
    if !body.starts_with(delimiter.as_bytes()) {
        return None;
    }
    let mut parts = Vec::new();
    loop {
        let rest = &body[at..];
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        let rest = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&rest[..head_end]);
        let content = &rest[head_end + 4..];
        let data_end = find(content, next_delimiter.as_bytes())?;
        let disposition = head
            .split("\r\n")
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-disposition"))
            .map(|(_, value)| value.trim())?;
        let (kind, params) = disposition.split_once(';')?;
        if !kind.trim().eq_ignore_ascii_case("form-data") {
            return None;
        }
        let params = header_params(params);
        let param = |wanted: &str| {
            params
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
                .map(|(_, value)| value.clone())
        };
        parts.push(Part {
            name: param("name")?,
            filename: param("filename"),
            data: &content[..data_end],
        });
        // Step over the part's data and the delimiter line that ends it.
        at = body.len() - content.len() + data_end + next_delimiter.len();
    }
}

fn parts_json(parts: &[Part]) -> String {
    let items: Vec<String> = parts
        .iter()
        .map(|part| {
            let filename = part
                .filename
                .as_deref()
                .map_or("null".to_string(), json_string);
            // A file part is checked by length and checksum; a field's value is shown as is.
            let value = match part.filename {
                Some(_) => "null".to_string(),
                None => json_string(&String::from_utf8_lossy(part.data)),
            };
            format!(
                r#"{{"name":{},"filename":{},"length":{},"value":{},"fnv1a64":"{:016x}"}}"#,
                json_string(&part.name),
                filename,
                part.data.len(),
                value,
                fnv1a64(part.data)
            )
        })
        .collect();
    format!(r#"{{"parts":[{}]}}"#, items.join(","))
}

fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// FNV-1a, 64 bits: a checksum the browser test can compute too, with no dependency.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &[u8], boundary: &str, expected: &[(&str, Option<&str>, &[u8])]) {
        let parts = parse_multipart(body, boundary).expect("well formed");
        let seen: Vec<(&str, Option<&str>, &[u8])> = parts
            .iter()
            .map(|p| (p.name.as_str(), p.filename.as_deref(), p.data))
            .collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn multipart_parts_come_out_in_order_with_their_bytes() {
        let body = b"--XyZ\r\n\
            Content-Disposition: form-data; name=\"key\"\r\n\r\n\
            uploads/a b.png\r\n\
            --XyZ\r\n\
            Content-Disposition: form-data; name=\"file\"; filename=\"a; b.png\"\r\n\
            Content-Type: application/octet-stream\r\n\r\n\
            \r\n--Xy\r\n\r\n\
            --XyZ--\r\n";
        check(
            body,
            "XyZ",
            &[
                ("key", None, b"uploads/a b.png"),
                ("file", Some("a; b.png"), b"\r\n--Xy\r\n"),
            ],
        );
    }

    #[test]
    fn the_boundary_is_read_quoted_or_not() {
        assert_eq!(
            boundary("multipart/form-data; boundary=----WebKitFormBoundaryQ"),
            Some("----WebKitFormBoundaryQ".to_string())
        );
        assert_eq!(
            boundary("Multipart/Form-Data;boundary=\"a b\""),
            Some("a b".to_string())
        );
        assert_eq!(boundary("text/plain; boundary=x"), None);
    }

    #[test]
    fn fnv1a64_matches_the_published_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn the_server_answers_cors_and_stops_when_dropped() {
        let server = EchoServer::start().expect("bind");
        let addr = server.addr;
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream
            .write_all(b"OPTIONS /echo HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("write");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
        assert!(
            answer.contains("Access-Control-Allow-Origin: *"),
            "{answer}"
        );
        // A connection left open mid-request must not keep the server alive.
        let _idle = TcpStream::connect(addr).expect("connect");
        drop(server);
        assert!(TcpStream::connect(addr).is_err());
    }
}
