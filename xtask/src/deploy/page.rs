//! The page's upload: which files go to `s3://<bucket>/page/` and how (compressed without
//! CloudFront, content types, cache headers, the order, stale files removed), and the inline
//! bootstrap moved into a file for the CSP.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

use super::*;
use crate::{root, run};

/// How one page file goes to S3.
#[derive(Debug, PartialEq)]
pub(super) struct PageUpload {
    pub(super) content_type: &'static str,
    pub(super) cache_control: &'static str,
    /// Uploaded gzipped with `Content-Encoding: gzip`: S3 serves files as stored and does not
    /// compress, so without CloudFront (which compresses for each browser) the text and wasm
    /// files go up compressed.
    pub(super) gzip: bool,
}

/// Hashed assets are immutable; index.html and config.json are never cached. Content types are
/// set explicitly (`application/wasm` is not in every MIME table).
pub(super) fn page_upload(name: &str, cloudfront: bool) -> PageUpload {
    let extension = name.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    let content_type = match extension {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript",
        "wasm" => "application/wasm",
        "css" => "text/css",
        "json" => "application/json",
        _ => "application/octet-stream",
    };
    let cache_control = if name == "index.html" || name == "config.json" {
        "no-cache"
    } else {
        "public, max-age=31536000, immutable"
    };
    PageUpload {
        content_type,
        cache_control,
        gzip: !cloudfront && matches!(extension, "html" | "js" | "wasm" | "css"),
    }
}

/// The order of the uploads: assets first, config.json, then index.html last, so a visitor never
/// gets an index.html whose assets are missing.
pub(super) fn upload_order(names: &mut [String]) {
    names.sort_by_key(|name| match name.as_str() {
        "index.html" => 2,
        "config.json" => 1,
        _ => 0,
    });
}

/// Keys under `page/` (the text answer of `list-objects-v2 --query Contents[].Key`) that this
/// build no longer has: earlier builds' assets, deleted after the new page is up.
pub(super) fn stale_page_keys(listing: &str, names: &[String]) -> Vec<String> {
    listing
        .split_whitespace()
        .filter(|key| *key != "None")
        .filter(|key| {
            key.strip_prefix("page/")
                .is_some_and(|name| !names.iter().any(|n| n == name))
        })
        .map(str::to_string)
        .collect()
}

/// Copies dist/ to `s3://<bucket>/page/` (see `page_upload` and `upload_order`), then deletes
/// what the build no longer has.
pub(super) fn sync_page(bucket: &str, region: &str, cloudfront: bool) -> Result<(), String> {
    let dist = root().join("dist");
    let compressed = root().join("target").join("page-gzip");
    std::fs::create_dir_all(&compressed).map_err(|e| format!("{}: {e}", compressed.display()))?;
    let mut names: Vec<String> = std::fs::read_dir(&dist)
        .map_err(|e| format!("{}: {e}", dist.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    upload_order(&mut names);
    for name in &names {
        let upload = page_upload(name, cloudfront);
        let mut source = dist.join(name);
        if upload.gzip {
            let gzipped = compressed.join(name);
            gzip_file(&source, &gzipped)?;
            source = gzipped;
        }
        let mut copy = Command::new("aws");
        copy.arg("s3")
            .arg("cp")
            .arg(source)
            .arg(format!("s3://{bucket}/page/{name}"))
            .args([
                "--content-type",
                upload.content_type,
                "--cache-control",
                upload.cache_control,
                "--region",
                region,
            ]);
        if upload.gzip {
            copy.args(["--content-encoding", "gzip"]);
        }
        run(copy)?;
    }
    let listing = aws_text(&[
        "s3api",
        "list-objects-v2",
        "--bucket",
        bucket,
        "--prefix",
        "page/",
        "--query",
        "Contents[].Key",
        "--output",
        "text",
        "--region",
        region,
    ])?;
    for key in stale_page_keys(&listing, &names) {
        let mut delete = Command::new("aws");
        delete.args([
            "s3",
            "rm",
            &format!("s3://{bucket}/{key}"),
            "--region",
            region,
        ]);
        run(delete)?;
    }
    Ok(())
}

pub(super) fn gzip_file(from: &Path, to: &Path) -> Result<(), String> {
    let bytes = std::fs::read(from).map_err(|e| format!("{}: {e}", from.display()))?;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(&bytes)
        .and_then(|()| encoder.finish())
        .and_then(|gzipped| std::fs::write(to, gzipped))
        .map_err(|e| format!("{}: {e}", to.display()))
}

/// trunk writes the page's wasm bootstrap as an inline `<script type="module">`, which the
/// CloudFront page's Content-Security-Policy (`script-src 'self'`, no 'unsafe-inline') refuses.
/// It becomes a file of its own next to index.html, named by its content like trunk's assets.
pub(super) fn move_page_scripts_out(dist: &Path) -> Result<(), String> {
    let index = dist.join("index.html");
    let html = std::fs::read_to_string(&index).map_err(|e| format!("{}: {e}", index.display()))?;
    let (html, scripts) = inline_scripts_to_files(&html);
    for (name, script) in &scripts {
        std::fs::write(dist.join(name), script).map_err(|e| format!("{name}: {e}"))?;
    }
    std::fs::write(&index, html).map_err(|e| format!("{}: {e}", index.display()))
}

/// Every inline `<script>` of `html` replaced by the same tag with `src="./boot-<hash>.js"`;
/// the new page and the files to write. Relative imports inside a module resolve against its
/// own URL, the same folder as the page's, so the script works unchanged.
pub(super) fn inline_scripts_to_files(html: &str) -> (String, Vec<(String, String)>) {
    let (mut page, mut files, mut rest) = (String::new(), Vec::new(), html);
    while let Some(start) = rest.find("<script") {
        let Some(tag_end) = rest[start..].find('>').map(|i| start + i) else {
            break;
        };
        let Some(close) = rest[tag_end..].find("</script>").map(|i| tag_end + i) else {
            break;
        };
        let tag = &rest[start..tag_end];
        let script = &rest[tag_end + 1..close];
        page.push_str(&rest[..start]);
        if tag.contains(" src=") || script.trim().is_empty() {
            page.push_str(&rest[start..close]);
        } else {
            let name = format!("boot-{:016x}.js", crate::fnv::fnv1a64(script.as_bytes()));
            page.push_str(&format!("{tag} src=\"./{name}\">"));
            files.push((name, script.to_string()));
        }
        rest = &rest[close..];
        page.push_str("</script>");
        rest = &rest["</script>".len()..];
    }
    page.push_str(rest);
    (page, files)
}
