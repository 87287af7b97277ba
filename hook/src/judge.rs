//! What the hook finds in an object's bytes, read once as they stream: the SHA-256, the size,
//! and the type its first bytes' signature shows, judged against the type it was stored as.
//! Pure: the bytes come in as they arrive, whatever reads them.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The bytes the type is judged from: more than any signature `infer` reads (the longest it
/// looks at are a few hundred bytes into a file; HTML and XML after leading white space).
pub const HEAD_BYTES: usize = 8 * 1024;

/// The bytes of one object, taken as they stream.
#[derive(Clone, Default)]
pub struct Inspection {
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
}

/// What a whole object's bytes were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
    /// The first [`HEAD_BYTES`] (all of a smaller object).
    pub head: Vec<u8>,
}

impl Inspection {
    pub fn new() -> Inspection {
        Inspection::default()
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
        let room = HEAD_BYTES.saturating_sub(self.head.len());
        self.head.extend_from_slice(&bytes[..room.min(bytes.len())]);
    }

    pub fn finish(self) -> Inspected {
        Inspected {
            size: self.size,
            sha256: signer::sigv4::hex(&self.hasher.finalize()),
            head: self.head,
        }
    }
}

/// Whether the bytes are what their type says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The bytes' signature is the stored type's (or the stored type claims nothing:
    /// `application/octet-stream`).
    Ok,
    /// The bytes are something else: an HTML document stored as `image/png`, or a file stored
    /// as a type with a signature (PNG, PDF, ZIP…) that lacks it.
    Mismatch,
    /// Nothing to judge by: the bytes have no signature and the stored type has none either
    /// (plain text, CSV, JSON), or the object is empty.
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Mismatch => "mismatch",
            Verdict::Unknown => "unknown",
        }
    }
}

/// The type `head`'s signature shows, if any, and the verdict on `declared` (the object's
/// `Content-Type`).
pub fn judge(declared: &str, head: &[u8]) -> (Option<&'static str>, Verdict) {
    let detected = infer::get(head);
    let declared = essence(declared);
    let verdict = match detected {
        _ if head.is_empty() => Verdict::Unknown,
        _ if GENERIC.contains(&declared.as_str()) => match detected {
            Some(_) => Verdict::Ok,
            None => Verdict::Unknown,
        },
        Some(kind) if same_kind(&declared, kind.mime_type()) => Verdict::Ok,
        Some(_) => Verdict::Mismatch,
        // A type whose files always start with a signature, without it. Text formats (HTML,
        // XML, scripts) may start anyhow, so their signature's absence proves nothing.
        None if infer::is_mime_supported(&declared) && !is_text_kind(&declared) => {
            Verdict::Mismatch
        }
        None => Verdict::Unknown,
    };
    (detected.map(|kind| kind.mime_type()), verdict)
}

/// Types that claim nothing about the bytes.
const GENERIC: &[&str] = &["application/octet-stream", "binary/octet-stream"];

/// Names of one type: `(what a file may be stored as, what infer calls it)`.
const ALIASES: &[(&str, &str)] = &[
    ("image/jpg", "image/jpeg"),
    ("image/pjpeg", "image/jpeg"),
    ("image/x-png", "image/png"),
    ("image/x-icon", "image/vnd.microsoft.icon"),
    ("image/x-ms-bmp", "image/bmp"),
    ("audio/mp3", "audio/mpeg"),
    ("audio/x-wav", "audio/x-wav"),
    ("audio/wav", "audio/x-wav"),
    ("audio/x-m4a", "audio/m4a"),
    ("video/x-m4v", "video/x-m4v"),
    ("application/x-zip-compressed", "application/zip"),
    ("application/x-pdf", "application/pdf"),
    ("application/xml", "text/xml"),
    ("application/gzip", "application/gzip"),
    ("application/x-gzip", "application/gzip"),
];

/// Formats that are ZIP files inside: their first bytes show a ZIP, and only a deeper look would
/// tell which (infer names some of them when the first entries say so).
const ZIP_CONTAINERS: &[&str] = &[
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/epub+zip",
    "application/java-archive",
    "application/vnd.android.package-archive",
];

/// `Image/PNG; charset=x` is `image/png`.
fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn canonical(mime: &str) -> &str {
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == mime)
        .map_or(mime, |(_, name)| name)
}

fn is_text_kind(mime: &str) -> bool {
    mime.starts_with("text/") || mime.ends_with("+xml") || mime == "application/xml"
}

/// Whether bytes infer calls `detected` are what `declared` claims.
fn same_kind(declared: &str, detected: &str) -> bool {
    let (declared, detected) = (canonical(declared), canonical(detected));
    declared == detected
        // A ZIP-based document whose first entry does not name it.
        || (detected == "application/zip" && ZIP_CONTAINERS.contains(&declared))
        // SVG, RSS and the like are XML.
        || (detected == "text/xml" && declared.ends_with("+xml"))
        // A shell script is plain text.
        || (detected == "text/x-shellscript" && declared == "text/plain")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n";
    const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0";
    const ZIP: &[u8] = b"PK\x03\x04\x14\0\0\0\x08\0\0\0!\0";
    const HTML: &[u8] = b"<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>";
    const XML: &[u8] = b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>";

    fn check(declared: &str, bytes: &[u8], detected: Option<&str>, verdict: Verdict) {
        assert_eq!(
            judge(declared, bytes),
            (detected, verdict),
            "{declared} with {:?}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(16)])
        );
    }

    #[test]
    fn bytes_are_judged_against_the_stored_type() {
        check("image/png", PNG, Some("image/png"), Verdict::Ok);
        check("IMAGE/PNG; x=y", PNG, Some("image/png"), Verdict::Ok);
        check("image/jpg", JPEG, Some("image/jpeg"), Verdict::Ok);
        check("application/pdf", PDF, Some("application/pdf"), Verdict::Ok);
        // The case: an HTML document named and typed as a PNG.
        check("image/png", HTML, Some("text/html"), Verdict::Mismatch);
        check("image/png", PDF, Some("application/pdf"), Verdict::Mismatch);
        check("text/plain", HTML, Some("text/html"), Verdict::Mismatch);
        // A type with a signature, without it.
        check("image/png", b"just some text", None, Verdict::Mismatch);
        check("application/pdf", b"\0\0\0\0", None, Verdict::Mismatch);
        // No signature either way: nothing to judge by.
        check("text/plain", b"hello, world\n", None, Verdict::Unknown);
        check("text/csv", b"a,b\n1,2\n", None, Verdict::Unknown);
        check("application/json", b"{\"a\":1}", None, Verdict::Unknown);
        check("text/html", b"hello <b>x</b>", None, Verdict::Unknown);
        check("image/png", b"", None, Verdict::Unknown);
        // Generic: claims nothing.
        check(
            "application/octet-stream",
            PNG,
            Some("image/png"),
            Verdict::Ok,
        );
        check(
            "application/octet-stream",
            b"\x01\x02",
            None,
            Verdict::Unknown,
        );
        // Containers and relatives.
        check(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ZIP,
            Some("application/zip"),
            Verdict::Ok,
        );
        check("application/zip", ZIP, Some("application/zip"), Verdict::Ok);
        check("image/svg+xml", XML, Some("text/xml"), Verdict::Ok);
        check("image/png", XML, Some("text/xml"), Verdict::Mismatch);
    }

    #[test]
    fn an_inspection_hashes_everything_and_keeps_the_head() {
        let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        let mut inspection = Inspection::new();
        for chunk in data.chunks(3_000) {
            inspection.update(chunk);
        }
        let inspected = inspection.finish();
        assert_eq!(inspected.size, 20_000);
        assert_eq!(inspected.head, data[..HEAD_BYTES]);
        assert_eq!(inspected.sha256, signer::sigv4::hex(&Sha256::digest(&data)));
        // SHA-256 of nothing, as published.
        assert_eq!(
            Inspection::new().finish().sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
