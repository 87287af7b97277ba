//! `cargo bench -p signer --bench load`: the local signer binary under load. Starts it (release
//! build) on 127.0.0.1, measures the cold start (process spawn to the first signed response), then
//! sends 10,000 `POST /sign` requests over 64 keep-alive connections and prints requests/s, p50/p99
//! latency and the number of errors. Stops the signer at the end.
//!
//! Under `cargo test` (no `--bench` argument) it runs as a smoke test: 500 requests over 8
//! connections, failing on any error.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BODY: &str = r#"{"filename":"holiday photo.jpg","contentType":"image/jpeg","size":3500000}"#;

fn main() -> std::process::ExitCode {
    let benchmark = std::env::args().any(|arg| arg == "--bench");
    let (requests, concurrency) = if benchmark { (10_000, 64) } else { (500, 8) };
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_signer"))
        .env_clear()
        .envs([
            ("UPLOAD_BUCKET", "bench-uploads"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "ASIABENCH"),
            ("AWS_SECRET_ACCESS_KEY", "bench/secret"),
            ("AWS_SESSION_TOKEN", &"IQoJb3JpZ2luX2VjE".repeat(50)),
            ("ALLOWED_ORIGINS", "http://127.0.0.1:8080"),
            ("SIGNER_ADDR", "127.0.0.1:0"),
            ("RUST_LOG", "warn"),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the signer");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening line");
    let addr: SocketAddr = line
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|a| a.parse().ok())
        .expect("address");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (cold_start, report) = runtime.block_on(async {
        let mut first = Connection::open(addr).await;
        let status = first.sign().await;
        let cold_start = started.elapsed();
        assert_eq!(status, Some(200), "first request failed");
        (cold_start, load(addr, requests, concurrency).await)
    });
    let _ = child.kill();
    let _ = child.wait();

    let (mut latencies, errors, elapsed) = report;
    latencies.sort();
    let percentile =
        |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!("signer load: {requests} POST /sign, {concurrency} connections, one client thread");
    println!(
        "  cold start (spawn to first signed response): {:.1} ms",
        cold_start.as_secs_f64() * 1e3
    );
    println!(
        "  throughput: {:.0} requests/s",
        requests as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  latency: p50 {:.0} us, p99 {:.0} us, max {:.0} us",
        percentile(0.50).as_secs_f64() * 1e6,
        percentile(0.99).as_secs_f64() * 1e6,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e6
    );
    println!("  errors: {errors}");
    if errors == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

async fn load(
    addr: SocketAddr,
    requests: usize,
    concurrency: usize,
) -> (Vec<Duration>, usize, Duration) {
    let started = Instant::now();
    let per_connection = requests / concurrency;
    let extra = requests % concurrency;
    let tasks: Vec<_> = (0..concurrency)
        .map(|i| {
            let count = per_connection + usize::from(i < extra);
            tokio::spawn(async move {
                let mut connection = Connection::open(addr).await;
                let mut latencies = Vec::with_capacity(count);
                let mut errors = 0;
                for _ in 0..count {
                    let sent = Instant::now();
                    match connection.sign().await {
                        Some(200) => latencies.push(sent.elapsed()),
                        _ => {
                            errors += 1;
                            connection = Connection::open(addr).await;
                        }
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut all = Vec::with_capacity(requests);
    let mut errors = 0;
    for task in tasks {
        let (latencies, task_errors) = task.await.expect("client task");
        all.extend(latencies);
        errors += task_errors;
    }
    (all, errors, started.elapsed())
}

/// One keep-alive HTTP/1.1 connection sending sign requests.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
    request: Vec<u8>,
}

impl Connection {
    async fn open(addr: SocketAddr) -> Connection {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let request = format!(
            "POST /sign HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://127.0.0.1:8080\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{BODY}",
            BODY.len()
        )
        .into_bytes();
        Connection {
            stream,
            buffer: Vec::with_capacity(4096),
            request,
        }
    }

    /// Sends one request and reads its whole response; the status, or None on a broken connection.
    async fn sign(&mut self) -> Option<u16> {
        self.stream.write_all(&self.request).await.ok()?;
        self.buffer.clear();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buffer[..end]).ok()?;
                let status = head.split(' ').nth(1)?.parse().ok()?;
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().to_string())
                    })?
                    .parse()
                    .ok()?;
                while self.buffer.len() < end + 4 + length {
                    let n = self.stream.read(&mut chunk).await.ok()?;
                    if n == 0 {
                        return None;
                    }
                    self.buffer.extend_from_slice(&chunk[..n]);
                }
                return Some(status);
            }
            let n = self.stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }
}
