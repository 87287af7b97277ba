//! What the hook's store suites share: test files, and S3 calls through `local_s3::client`.

#![allow(dead_code)]

use local_s3::client::{Aws, HttpResponse};
use sha2::{Digest, Sha256};

/// A whole 1x1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];
/// An HTML document, to be stored as a PNG.
pub const HTML: &[u8] =
    b"<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n";

/// The answer's ETag without quotes.
pub fn etag(answer: &HttpResponse) -> String {
    answer
        .header("etag")
        .unwrap_or_default()
        .trim_matches('"')
        .to_string()
}

pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An upload id as the signer makes them: 32 random hex digits.
pub fn id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `bytes` stored as `key` by a multipart upload of 5 MiB parts (created, sent, completed with
/// S3's own API; `before_complete` runs with every part sent): the completed object's ETag.
pub fn multipart(
    aws: &Aws,
    bucket: &str,
    key: &str,
    bytes: &[u8],
    content_type: &str,
    before_complete: impl FnOnce(),
) -> String {
    let path = format!("/{bucket}/{key}");
    let create = aws
        .send(
            "s3",
            "POST",
            &path,
            &[("uploads", "")],
            &[("Content-Type", content_type)],
            b"",
        )
        .unwrap();
    assert_eq!(create.status, 200, "{}", create.text());
    let upload_id = create.xml("UploadId").unwrap();
    let mut parts = String::new();
    for (i, chunk) in bytes.chunks(5 * 1024 * 1024).enumerate() {
        let number = (i + 1).to_string();
        let answer = aws
            .send(
                "s3",
                "PUT",
                &path,
                &[("partNumber", &number), ("uploadId", &upload_id)],
                &[],
                chunk,
            )
            .unwrap();
        assert_eq!(answer.status, 200, "{}", answer.text());
        parts.push_str(&format!(
            "<Part><PartNumber>{number}</PartNumber><ETag>\"{}\"</ETag></Part>",
            etag(&answer)
        ));
    }
    before_complete();
    let complete = aws
        .send(
            "s3",
            "POST",
            &path,
            &[("uploadId", &upload_id)],
            &[("Content-Type", "application/xml")],
            format!("<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>").as_bytes(),
        )
        .unwrap();
    assert_eq!(complete.status, 200, "{}", complete.text());
    complete.xml("ETag").unwrap().trim_matches('"').to_string()
}

/// An object's tags, as GetObjectTagging lists them.
pub fn tags(aws: &Aws, bucket: &str, key: &str) -> Vec<(String, String)> {
    let answer = aws
        .send(
            "s3",
            "GET",
            &format!("/{bucket}/{key}"),
            &[("tagging", "")],
            &[],
            b"",
        )
        .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.text());
    let text = answer.text();
    let doc = roxmltree::Document::parse(&text).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("Tag"))
        .map(|tag| {
            let child = |name| {
                tag.children()
                    .find(|c| c.has_tag_name(name))
                    .and_then(|c| c.text())
                    .unwrap_or_default()
                    .to_string()
            };
            (child("Key"), child("Value"))
        })
        .collect()
}
