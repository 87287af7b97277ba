//! The local server's limits (`signer::local::Limits`): a client that sends its headers or its
//! body slowly, or holds connections open, cannot hold the server for everyone. Short limits here;
//! the server runs them at 10 s, 30 s and 256 connections.

use std::sync::Arc;
use std::time::{Duration, Instant};

use signer::local::{Limits, serve_with};
use signer::{Config, Signer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SIGN: &str = "POST /sign HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
const BODY: &str = r#"{"filename":"a.txt","contentType":"text/plain","size":1}"#;

async fn server(limits: Limits) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let config = Config::from_pairs(&[
        ("UPLOAD_BUCKET", "b-1"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "SECRET"),
    ])
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve_with(
        Arc::new(Signer::new(config)),
        listener,
        async {
            let _ = stopped.await;
        },
        limits,
    ));
    (addr, stop)
}

/// What the server sends until it closes the connection or `wait` passes.
async fn read_for(stream: &mut TcpStream, wait: Duration) -> (String, bool) {
    let mut got = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buffer[..n]),
            Err(_) => return (String::from_utf8_lossy(&got).into(), false),
        }
    }
}

fn request() -> String {
    format!("{SIGN}Content-Length: {}\r\n\r\n{BODY}", BODY.len())
}

#[tokio::test]
async fn slow_headers_are_cut_off_and_a_slow_body_gets_408() {
    let limits = Limits {
        header_read: Duration::from_millis(300),
        body_read: Duration::from_millis(300),
        connections: 16,
    };
    let (addr, _stop) = server(limits).await;
    // Headers that never end: closed soon after the limit.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(SIGN.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (_, closed) = read_for(&mut slow, Duration::from_secs(5)).await;
    assert!(closed, "a connection sending headers for ever was kept");
    assert!(started.elapsed() < Duration::from_secs(4));
    // A body that stops short of its length: 408, with the signer's error shape.
    let mut short = TcpStream::connect(addr).await.unwrap();
    short
        .write_all(format!("{SIGN}Content-Length: 100\r\n\r\n{{\"file").as_bytes())
        .await
        .unwrap();
    let (answer, _) = read_for(&mut short, Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("MalformedRequest") && answer.contains("did not arrive"),
        "{answer}"
    );
    // A whole request is answered as ever.
    let mut whole = TcpStream::connect(addr).await.unwrap();
    whole.write_all(request().as_bytes()).await.unwrap();
    let (answer, _) = read_for(&mut whole, Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn past_the_connection_cap_a_client_waits_until_one_closes() {
    let limits = Limits {
        header_read: Duration::from_secs(20),
        body_read: Duration::from_secs(20),
        connections: 2,
    };
    let (addr, _stop) = server(limits).await;
    // Two connections held open by a client that never finishes its headers.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(SIGN.as_bytes()).await.unwrap();
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A third is not served while they are open...
    let mut third = TcpStream::connect(addr).await.unwrap();
    third.write_all(request().as_bytes()).await.unwrap();
    let (answer, _) = read_for(&mut third, Duration::from_millis(700)).await;
    assert!(answer.is_empty(), "served past the cap: {answer}");
    // ...and is, once one of them is gone.
    drop(held.pop());
    let (answer, _) = read_for(&mut third, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
