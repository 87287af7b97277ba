//! SigV4: the signing key, the signature over a browser POST policy, and S3 requests signed in
//! their headers (the signer's own calls: create, list, complete, abort a multipart upload; and
//! the UploadPart requests the page sends, whose signed headers it sends as given).

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::time::UnixTime;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// AWS credentials. `Debug` never shows the secret or the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Present for temporary credentials (Lambda roles, STS); must then go into the form and policy.
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// `AKID/20151229/us-east-1/s3/aws4_request`: the `x-amz-credential` form field.
pub fn credential(access_key_id: &str, date: UnixTime, region: &str) -> String {
    format!(
        "{access_key_id}/{}/{region}/s3/aws4_request",
        date.date_stamp()
    )
}

/// A derived signing key and the UTC day it belongs to. It only changes once a day, so the signer
/// derives it once a day instead of on every request (four HMACs saved per signature).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SigningKey {
    day: u64,
    key: [u8; 32],
}

impl SigningKey {
    pub fn derive(secret_access_key: &str, now: UnixTime, region: &str) -> SigningKey {
        SigningKey {
            day: now.day(),
            key: signing_key(secret_access_key, now, region),
        }
    }

    /// Whether this key signs for `now`'s credential scope date.
    pub fn is_for(&self, now: UnixTime) -> bool {
        self.day == now.day()
    }

    pub fn sign(&self, base64_policy: &str) -> String {
        sign_policy(&self.key, base64_policy)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("day", &self.day)
            .finish_non_exhaustive()
    }
}

/// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), "s3"), "aws4_request").
pub fn signing_key(secret_access_key: &str, date: UnixTime, region: &str) -> [u8; 32] {
    signing_key_for(secret_access_key, date, region, "s3")
}

/// [`signing_key`] for another AWS service (`secretsmanager` for the token secret).
fn signing_key_for(
    secret_access_key: &str,
    date: UnixTime,
    region: &str,
    service: &str,
) -> [u8; 32] {
    let mut secret = Vec::with_capacity(4 + secret_access_key.len());
    secret.extend_from_slice(b"AWS4");
    secret.extend_from_slice(secret_access_key.as_bytes());
    let k_date = hmac(&secret, date.date_stamp().as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// The `x-amz-signature` form field: lower-case hex of HMAC(signing key, base64 policy).
pub fn sign_policy(signing_key: &[u8; 32], base64_policy: &str) -> String {
    hex(&hmac(signing_key, base64_policy.as_bytes()))
}

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail here.
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// One request to S3, for signing: method, the URL's host (with a port, if any), the path
/// (already encoded as it goes on the wire: each segment URI-encoded), the query parameters
/// (not encoded) and the headers that are signed (lower-case names).
#[derive(Debug, Clone)]
pub struct CanonicalRequest<'a> {
    pub method: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    /// The body's SHA-256 in hex, or `UNSIGNED-PAYLOAD`.
    pub payload_hash: &'a str,
}

impl CanonicalRequest<'_> {
    /// The query string, encoded and sorted as SigV4 wants it (and as it is sent).
    pub fn query_string(&self) -> String {
        let mut pairs: Vec<(String, String)> = self
            .query
            .iter()
            .map(|(k, v)| (uri_encode(k, true), uri_encode(v, true)))
            .collect();
        pairs.sort();
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// `host` plus the signed headers, sorted: `(names joined by ';', canonical header lines)`.
    fn signed_headers(&self) -> (String, String) {
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        headers.push(("host".into(), self.host.to_string()));
        headers.sort();
        let names = headers
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(";");
        let lines = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
        (names, lines)
    }

    fn signature(&self, signing_key: &SigningKey, now: UnixTime, scope: &str) -> String {
        let (names, lines) = self.signed_headers();
        let canonical = format!(
            "{}\n{}\n{}\n{lines}\n{names}\n{}",
            self.method,
            self.path,
            self.query_string(),
            self.payload_hash
        );
        let to_sign = format!(
            "{ALGORITHM}\n{}\n{scope}\n{}",
            now.amz_date(),
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        hex(&hmac(&signing_key.key, to_sign.as_bytes()))
    }
}

/// Signs `request` in its headers: adds `x-amz-date`, `x-amz-content-sha256` and, for temporary
/// credentials, `x-amz-security-token` to the signed headers, and returns every header to send
/// (the `Authorization` last). `request.headers` must not hold those already.
pub fn sign_headers(
    request: CanonicalRequest,
    credentials: &Credentials,
    signing_key: &SigningKey,
    now: UnixTime,
    region: &str,
) -> Vec<(String, String)> {
    sign_headers_as(request, credentials, signing_key, now, region, "s3")
}

/// The headers of a request to another AWS service (a JSON API such as Secrets Manager's),
/// signed with keys derived for it from `credentials`.
pub fn sign_service_headers(
    request: CanonicalRequest,
    credentials: &Credentials,
    now: UnixTime,
    region: &str,
    service: &str,
) -> Vec<(String, String)> {
    let signing_key = SigningKey {
        day: now.day(),
        key: signing_key_for(&credentials.secret_access_key, now, region, service),
    };
    sign_headers_as(request, credentials, &signing_key, now, region, service)
}

fn sign_headers_as(
    mut request: CanonicalRequest,
    credentials: &Credentials,
    signing_key: &SigningKey,
    now: UnixTime,
    region: &str,
    service: &str,
) -> Vec<(String, String)> {
    request.headers.push((
        "x-amz-content-sha256".into(),
        request.payload_hash.to_string(),
    ));
    request.headers.push(("x-amz-date".into(), now.amz_date()));
    if let Some(token) = &credentials.session_token {
        request
            .headers
            .push(("x-amz-security-token".into(), token.clone()));
    }
    let scope = format!("{}/{region}/{service}/aws4_request", now.date_stamp());
    let signature = request.signature(signing_key, now, &scope);
    let (names, _) = request.signed_headers();
    let mut headers = request.headers;
    headers.push((
        "authorization".into(),
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={names}, Signature={signature}",
            credentials.access_key_id
        ),
    ));
    headers
}

/// `<bucket URL>/<key>` (`base` as `Config::upload_url` spells it, path-style or virtual-host):
/// the object's URL, and its host and encoded path apart, as a request is signed.
pub fn object_url(base: &str, key: &str) -> (String, String, String) {
    let (scheme, rest) = base.split_once("://").unwrap_or(("https", base));
    let (host, base_path) = match rest.split_once('/') {
        Some((host, path)) => (host, format!("/{path}")),
        None => (rest, String::new()),
    };
    let path = format!("{base_path}/{}", uri_encode(key, false));
    (format!("{scheme}://{host}{path}"), host.to_string(), path)
}

/// RFC 3986 unreserved characters stay; everything else is `%XX` (and `/` too unless a path).
pub fn uri_encode(text: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b'/' if !encode_slash => out.push('/'),
            _ => {
                out.push('%');
                out.push_str(&hex(&[byte]).to_ascii_uppercase());
            }
        }
    }
    out
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ../shared/reference/aws-sigv4-post-example.md: AWS's published browser-POST example.
    const AWS_EXAMPLE_POLICY: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
    const AWS_EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const AWS_EXAMPLE_DATE: UnixTime = UnixTime(1_451_347_200); // 2015-12-29T00:00:00Z

    #[test]
    fn aws_post_example_signing_key() {
        let key = signing_key(AWS_EXAMPLE_SECRET, AWS_EXAMPLE_DATE, "us-east-1");
        assert_eq!(
            hex(&key),
            "cbcef1ebeaefc82cce6530b9f0a9ae598846065f5c5bae0674bd5ebc4ba52d28"
        );
    }

    #[test]
    fn aws_post_example_signature() {
        let key = signing_key(AWS_EXAMPLE_SECRET, AWS_EXAMPLE_DATE, "us-east-1");
        assert_eq!(
            sign_policy(&key, AWS_EXAMPLE_POLICY),
            "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
        );
    }

    #[test]
    fn aws_post_example_credential_scope() {
        assert_eq!(
            credential("AKIAIOSFODNN7EXAMPLE", AWS_EXAMPLE_DATE, "us-east-1"),
            "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"
        );
        // The scope date is the UTC date, even one second before midnight.
        assert_eq!(
            credential("AK", UnixTime(1_451_347_199), "eu-west-1"),
            "AK/20151228/eu-west-1/s3/aws4_request"
        );
    }

    #[test]
    fn a_derived_key_is_for_its_utc_day_only() {
        let key = SigningKey::derive(AWS_EXAMPLE_SECRET, AWS_EXAMPLE_DATE, "us-east-1");
        assert!(key.is_for(AWS_EXAMPLE_DATE.plus_seconds(86_399)));
        assert!(!key.is_for(AWS_EXAMPLE_DATE.plus_seconds(86_400)));
        assert!(!key.is_for(UnixTime(AWS_EXAMPLE_DATE.0 - 1)));
        assert_eq!(
            key.sign(AWS_EXAMPLE_POLICY),
            "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
        );
        assert!(!format!("{key:?}").contains("cbcef1"));
    }

    // AWS's published examples for S3 (Signature Version 4, "Examples"): bucket examplebucket,
    // 2013-05-24T00:00:00Z, us-east-1, the example keys.
    const EXAMPLE_DATE: UnixTime = UnixTime(1_369_353_600);

    fn example_credentials() -> Credentials {
        Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: AWS_EXAMPLE_SECRET.into(),
            session_token: None,
        }
    }

    #[test]
    fn aws_example_get_object_signed_in_headers() {
        let key = SigningKey::derive(AWS_EXAMPLE_SECRET, EXAMPLE_DATE, "us-east-1");
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let headers = sign_headers(
            CanonicalRequest {
                method: "GET",
                host: "examplebucket.s3.amazonaws.com",
                path: "/test.txt",
                query: vec![],
                headers: vec![("range".into(), "bytes=0-9".into())],
                payload_hash: empty,
            },
            &example_credentials(),
            &key,
            EXAMPLE_DATE,
            "us-east-1",
        );
        assert_eq!(
            headers.last().unwrap().1,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn encoding() {
        assert_eq!(uri_encode("uploads/a b+c~d", false), "uploads/a%20b%2Bc~d");
        assert_eq!(uri_encode("a/b", true), "a%2Fb");
        assert_eq!(uri_encode("고", false), "%EA%B3%A0");
    }

    #[test]
    fn debug_hides_secrets() {
        let credentials = Credentials {
            access_key_id: "AKID".into(),
            secret_access_key: "very-secret".into(),
            session_token: Some("token-value".into()),
        };
        let shown = format!("{credentials:?}");
        assert!(shown.contains("AKID"));
        assert!(
            !shown.contains("very-secret") && !shown.contains("token-value"),
            "{shown}"
        );
    }
}
