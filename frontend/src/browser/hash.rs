//! The only module that reads a file's bytes: the MD5 of a byte range of a `Blob` (one part of
//! the user's file), which a multipart part's `Content-MD5` needs. The range is read a piece of
//! up to [`PIECE_BYTES`] at a time, so a part of up to 5 GiB never sits in memory whole. The
//! part's `PUT` sends a `Blob.slice` of the file, which the browser reads again (why, in
//! docs/benchmarks.md: sending the bytes read here instead saved no CPU and cost memory, long
//! tasks and weight).

use js_sys::{Reflect, Uint8Array};
use md5::{Digest, Md5};
use wasm_bindgen::JsValue;
use web_sys::Blob;

use super::sleep;

/// How much is read at a time: Chromium's browser process serves one 16 MiB read for much less
/// CPU than sixteen of 1 MiB (1 GiB in 16 MiB parts to radosgw with MD5s: 13.7 CPU seconds
/// against 15.8, `BENCH_CASES=multipart cargo xtask bench radosgw`). At most two pieces a range
/// are held: the next is asked for while this one is hashed.
pub const PIECE_BYTES: u64 = 16 * 1024 * 1024;

/// How much of a piece is hashed in one task of the page's: a few milliseconds' work (hashing
/// runs at about 640 MB/s), so no task is long and the page answers meanwhile. (4 MiB reads each
/// hashed in one task were measured before: more main-thread tasks over 50 ms, 8-11 an upload
/// against 1-5.)
const STEP_BYTES: u64 = 4 * 1024 * 1024;

/// The MD5 of `length` bytes of `blob` from `offset`, read `piece_bytes` at a time
/// ([`PIECE_BYTES`] but in tests). An error if the blob cannot be read (the user's file changed
/// or was removed since it was picked: the browser's `NotReadableError`, whose message this
/// returns) or is shorter than the range.
/// `whole`: the range is all of the blob (a file sent in one POST), so a file that fits in one
/// piece is read without a `slice` (measured: about a millisecond of the page's main thread per
/// slice of a picked file in Chromium, a third of the time of 100 small files' checksums).
pub async fn md5_of(
    blob: &Blob,
    offset: u64,
    length: u64,
    whole: bool,
    piece_bytes: u64,
) -> Result<[u8; 16], String> {
    let end = offset
        .checked_add(length)
        .ok_or("the range ends past 2^64 bytes")?;
    let read = |start: u64| -> Result<(u64, u64, wasm_bindgen_futures::JsFuture), String> {
        let stop = end.min(start.saturating_add(piece_bytes.max(1)));
        // Offsets are exact in f64 up to 2^53 bytes, far past any file a browser can hold.
        let promise = if whole && start == offset && stop == end {
            blob.array_buffer()
        } else {
            blob.slice_with_f64_and_f64(start as f64, stop as f64)
                .map_err(message)?
                .array_buffer()
        };
        Ok((start, stop, promise.into()))
    };
    let mut hasher = Md5::new();
    let mut buffer = vec![0; STEP_BYTES.min(length) as usize];
    let mut next = (offset < end).then(|| read(offset)).transpose()?;
    while let Some((start, stop, piece)) = next.take() {
        // The next piece is asked for before this one is hashed: the browser reads it from disk
        // meanwhile (measured: reading and hashing one after the other left each idle half
        // the time).
        if stop < end {
            next = Some(read(stop)?);
        }
        let piece = Uint8Array::new(&piece.await.map_err(message)?);
        let wanted = stop - start;
        // `slice` clamps to the blob's end without an error, so a short read means a short blob
        // (and a whole blob of another length, a file changed since it was picked).
        if piece.length() as u64 != wanted {
            return Err(format!(
                "the file is shorter than the part: {} bytes at {start}, {wanted} expected",
                piece.length()
            ));
        }
        let mut at = 0;
        while at < wanted {
            // Each step of a piece in a task of its own while the page is seen. Not in a
            // background tab: browsers run its timers at most once a second there, so a wait
            // would slow its uploads to a few MiB/s, and nobody waits for it to answer.
            if at > 0 && !hidden() {
                sleep(0).await;
            }
            let to = wanted.min(at + STEP_BYTES);
            let into = &mut buffer[..(to - at) as usize];
            piece.subarray(at as u32, to as u32).copy_to(into);
            hasher.update(into);
            at = to;
        }
    }
    Ok(hasher.finalize().into())
}

/// Whether the page is hidden (a background tab, a minimised window).
fn hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

/// A rejected read's message (a `DOMException` such as `NotReadableError`), read as a property
/// so any thrown object with a `message` works.
fn message(error: JsValue) -> String {
    Reflect::get(&error, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .filter(|m| !m.is_empty())
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "the file could not be read".into())
}
