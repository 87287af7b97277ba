//! A minimal blocking HTTP/1.1 client for tests: one request per connection (`Connection: close`),
//! sent exactly as given (forged requests included), and SigV4 header signing for the few S3, IAM
//! and STS calls a test set-up makes (create a bucket, set its CORS rule, read an object back, get
//! session credentials).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;

pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The text of the first `<tag>` element in an XML body, entities decoded (a key with `&`
    /// compares right), whatever its namespace; `None` when the body is not XML or has none.
    pub fn xml(&self, tag: &str) -> Option<String> {
        let text = self.text();
        let doc = roxmltree::Document::parse(&text).ok()?;
        doc.descendants()
            .find(|n| n.is_element() && n.tag_name().name() == tag)
            .map(|n| n.text().unwrap_or_default().to_string())
    }
}

/// Sends one request on a fresh connection and reads the whole answer. `Err` only when there is
/// no answer at all (nothing listening, connection reset before any byte).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<HttpResponse, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .map_err(|e| format!("send to {addr}: {e}"))?;
    // A server may refuse and close before reading the whole body; that is an answer too.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse_response(&raw).ok_or_else(|| format!("no HTTP answer from {addr} to {method} {path}"))
}

fn parse_response(raw: &[u8]) -> Option<HttpResponse> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Some(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        let start = line_end + 2;
        if size == 0 || data.len() < start + size {
            break;
        }
        out.extend_from_slice(&data[start..start + size]);
        data = data.get(start + size + 2..).unwrap_or_default();
    }
    out
}

/// Credentials and a region: signs requests with SigV4 headers (path-style, like the signer), by
/// `aws-sigv4`, the AWS SDK's own signer: the tests' requests are signed independently of the
/// signer's SigV4 (`signer/src/sigv4.rs`, the product's).
#[derive(Clone)]
pub struct Aws {
    pub addr: SocketAddr,
    pub access_key: String,
    pub secret_key: String,
    pub session_token: Option<String>,
    pub region: String,
}

impl Aws {
    /// `method path?query` to `service` (`s3`, `iam`, `sts`), signed now.
    pub fn send(
        &self,
        service: &str,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<HttpResponse, String> {
        let query = query
            .iter()
            .map(|(k, v)| format!("{}={}", uri_encode(k, true), uri_encode(v, true)))
            .collect::<Vec<_>>()
            .join("&");
        let path = uri_encode(path, false);
        let target = if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        };
        let url = format!("http://{}{target}", self.addr);
        let host = self.addr.to_string();
        let mut given: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.trim())).collect();
        given.push(("host", &host));
        let identity = Credentials::new(
            &self.access_key,
            &self.secret_key,
            self.session_token.clone(),
            None,
            "tests",
        )
        .into();
        let mut settings = SigningSettings::default();
        // As S3 wants it (and radosgw's IAM and STS take it): the payload's SHA-256 in a
        // header, the path encoded once as sent.
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(service)
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let signable = SignableRequest::new(
            method,
            &url,
            given.iter().copied(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| e.to_string())?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| e.to_string())?
            .into_parts();
        let mut signed = http::Request::builder()
            .uri(&url)
            .body(())
            .map_err(|e| e.to_string())?;
        instructions.apply_to_request_http1x(&mut signed);
        let mut sent: Vec<(&str, &str)> = given.into_iter().filter(|(n, _)| *n != "host").collect();
        for (name, value) in signed.headers() {
            sent.push((name.as_str(), value.to_str().map_err(|e| e.to_string())?));
        }
        request(self.addr, method, &target, &sent, body)
    }

    /// An IAM or STS query-API action (form-encoded POST to `/`).
    pub fn action(&self, service: &str, params: &[(&str, &str)]) -> Result<HttpResponse, String> {
        let body = params
            .iter()
            .map(|(k, v)| format!("{}={}", uri_encode(k, true), uri_encode(v, true)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            service,
            "POST",
            "/",
            &[],
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
    }
}

/// RFC 3986 unreserved characters stay; everything else is `%XX` (and `/` too unless a path).
pub fn uri_encode(text: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b'/' if !encode_slash => out.push('/'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Seconds since the epoch as UTC `[year, month, day, hour, minute, second]`
/// (`shared::calendar`): the tests' SigV4 dates and the store's event times.
pub(crate) fn utc(seconds: u64) -> [u64; 6] {
    let rem = seconds % 86_400;
    let (year, month, day) = shared::calendar::civil_from_days((seconds / 86_400) as i64);
    [
        year as u64,
        u64::from(month),
        u64::from(day),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_encoding() {
        assert_eq!(utc(1_451_347_200), [2015, 12, 29, 0, 0, 0]);
        assert_eq!(utc(951_825_600 + 3_723), [2000, 2, 29, 13, 2, 3]);
        assert_eq!(uri_encode("uploads/a b+c", false), "uploads/a%20b%2Bc");
        assert_eq!(uri_encode("a/b", true), "a%2Fb");
    }

    #[test]
    fn xml_text_is_decoded() {
        let response = HttpResponse {
            status: 201,
            headers: Vec::new(),
            body: br#"<?xml version="1.0"?><PostResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Key>uploads/a &amp; b/&#44032;.txt</Key><ETag>"e"</ETag></PostResponse>"#.to_vec(),
        };
        assert_eq!(response.xml("Key").as_deref(), Some("uploads/a & b/가.txt"));
        assert_eq!(response.xml("ETag").as_deref(), Some("\"e\""));
        assert_eq!(response.xml("Missing"), None);
        let not_xml = HttpResponse {
            status: 502,
            headers: Vec::new(),
            body: b"<html>bad".to_vec(),
        };
        assert_eq!(not_xml.xml("Code"), None);
    }

    #[test]
    fn chunked_bodies_are_joined() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let response = parse_response(raw).unwrap();
        assert_eq!((response.status, response.body), (200, b"abcde".to_vec()));
    }
}
