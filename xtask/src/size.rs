//! The page's size report: every file `trunk build --release` puts in `dist/`, raw, gzip (level 9)
//! and brotli (quality 11), with totals, against the goal and the limit below.

use std::io::Write;
use std::path::Path;

/// What the page may weigh, gzip, in kilobytes (1000 bytes) — the goal and the hard limit.
/// Under Uppy's core + aws-s3 + Dashboard (93,684 bytes gzip -9, measured with esbuild --minify).
pub const GOAL_GZIP_KB: f64 = 93.7;
/// A ratchet: what the page weighs now, plus a little; lowered as the page shrinks. Raised from
/// 114 to 140 by the multipart uploads (113.5 -> 137.8 KB: the parts' state machine, resume
/// records in IndexedDB, MD5 in WASM, the multipart calls), which Uppy's 93.7 KB includes too,
/// and image thumbnails with focus kept on the row (139.5 KB). Then 142: signing users in
/// (sign-in.js, the sign-in bar, words in both languages: +4.6 KB, of which 2.5 KB came back by
/// minifying wasm-bindgen's glue, which trunk's minifier had left whole): 141.3 KB. Then 145:
/// signing files ahead in batches (`/sign/batch`, with a place freed from a request the signer
/// never answers: +2.3 KB; 100 small files went from 0.6 to 0.9 of a bare one-XHR-per-file
/// page's speed on local-s3, 1.0 on radosgw): 144.2 KB. Lowered to 143: the page's maps as
/// `VecMap`s instead of `HashMap`s (142.4 KB); then a byte search for S3's XML tags (-1.0 KB)
/// and a Web Lock per upload so a second tab leaves the first one's uploads alone (+1.4 KB):
/// 142.8 KB; an unfinished upload S3 no longer holds told truthfully (it may have been
/// completed as its page closed), in both languages (+0.3 KB), and the lock claimed in one step
/// with its check (-0.2 KB): 142.9 KB. Raised to 144: expiries counted as lifetimes from their
/// arrival on the page's own clock, so a laptop clock hours ahead no longer signs a big file's
/// part URLs forever nor ends every sign-in at once (+0.4 KB): 143.3 KB. Then 145: a file
/// picked again after a reload keeps the key it was sent under (its upload token kept in
/// `localStorage`), so a reload mid-batch no longer stores the files sent before a second time
/// (+1.6 KB): 144.9 KB. Raised to 146.5: the page tells a site that frames it, or serves it,
/// what was uploaded (`Command::Tell`, `host.js`, which also reads `embedOrigins`: 0.6 KB of it
/// the script) and mounts into its own element (+1.5 KB): 146.4 KB. Then 147: files picked
/// before the rules arrived wait for them, saying why while they cannot be loaded (+0.2 KB):
/// 146.6 KB. Raised to 148: a page Safari shows again from its back-forward cache claims its
/// uploads' locks again (Safari let go of them) and leaves an upload another tab took over
/// meanwhile to that tab, with why in both languages (+0.7 KB); sign-in on a page not served
/// over https says why before any popup (+0.1 KB); any 401 means "sign in" (API Gateway's own
/// answer has not the signer's shape) (+0.1 KB): 147.7 KB. Then 148.5: signing out forgets the
/// list, the files' upload tokens and every resume record (+0.4 KB, after shorter words for the
/// two above): 148.0 KB. Raised to 149: an anonymous page forgets this browser's uploads on
/// request, and hashes files whatever `checksums` says when the signer requires MD5s (its
/// rules' `requireMd5`, refusals as `Md5Required`), words in both languages (+0.5 KB): 148.5 KB.
/// Reading 16 MiB at a time for MD5s (a verified 1 GiB upload 13.4-14.2 CPU seconds instead
/// of 15.8-16.7): 148.9 KB. Raised to 149.5: a range streamed for its MD5 (`Blob.stream()`,
/// a BYOB reader or the stream's chunks) instead: Chromium's peak memory in a verified 1 GiB
/// upload about 1,030-1,040 MiB instead of 1,208-1,437 (940 idle), for about the same CPU
/// (+0.6 KB): 149.5 KB. Raised to 150: a file changed, moved or deleted on disk mid-upload
/// fails at once with why (`FileUnreadable`: every failed or stalled request has the file read
/// again, `Command::CheckFile`), where it was retried for minutes as a refused CORS rule or a
/// stall (+0.5 KB): 149.9 KB; a failed read is tried again a second later before the file
/// counts as gone (WebKit fails the reads of a page going into its back-forward cache): 150.1 KB.
pub const LIMIT_GZIP_KB: f64 = 150.1;

pub struct Sizes {
    pub raw: usize,
    pub gzip: usize,
    pub brotli: usize,
}

fn measure(bytes: &[u8]) -> Sizes {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = gz.write_all(bytes);
    let gzip = gz.finish().map(|v| v.len()).unwrap_or(0);
    let mut br = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut br, 4096, 11, 22);
        let _ = writer.write_all(bytes);
    }
    Sizes {
        raw: bytes.len(),
        gzip,
        brotli: br.len(),
    }
}

/// Prints the report for `dist` and returns the gzip total.
pub fn report(dist: &Path) -> Result<usize, String> {
    let mut files: Vec<_> = std::fs::read_dir(dist)
        .map_err(|e| format!("{}: {e}", dist.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .collect();
    files.sort_by_key(|e| e.file_name());
    println!(
        "{:<44} {:>10} {:>10} {:>10}",
        "file", "raw", "gzip", "brotli"
    );
    let (mut raw, mut gzip, mut brotli) = (0, 0, 0);
    for entry in files {
        let bytes = std::fs::read(entry.path()).map_err(|e| e.to_string())?;
        let sizes = measure(&bytes);
        println!(
            "{:<44} {:>10} {:>10} {:>10}",
            entry.file_name().to_string_lossy(),
            sizes.raw,
            sizes.gzip,
            sizes.brotli
        );
        raw += sizes.raw;
        gzip += sizes.gzip;
        brotli += sizes.brotli;
    }
    println!("{:<44} {:>10} {:>10} {:>10}", "total", raw, gzip, brotli);
    println!(
        "total: {:.1} KB raw, {:.1} KB gzip, {:.1} KB brotli (goal {GOAL_GZIP_KB} KB gzip, limit {LIMIT_GZIP_KB} KB)",
        raw as f64 / 1000.0,
        gzip as f64 / 1000.0,
        brotli as f64 / 1000.0
    );
    Ok(gzip)
}
