//! The only module that reads a file's bytes: the MD5 of a byte range of a `Blob` (one part of
//! the user's file), which a multipart part's `Content-MD5` needs. The range is read one slice
//! at a time into one reused buffer, so a part of up to 5 GiB never sits in memory whole.
//! The part's `PUT` sends a `Blob.slice` of the file, which the browser reads again: reading
//! the part once into memory and sending those bytes was measured and not kept (an
//! `ArrayBuffer` body cost Chromium ten times the CPU: 146 CPU seconds for 1 GiB, 13 MiB/s).

use js_sys::{Reflect, Uint8Array};
use md5::{Digest, Md5};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::Blob;

/// How much is read at a time: reading costs about as much CPU as hashing (`cargo xtask bench
/// md5`: MD5 alone 639 MB/s, read and hashed 1 MiB at a time 302 MB/s), and each read costs a
/// promise and a copy out of JavaScript, so much smaller reads spend their time waiting rather
/// than hashing. Larger ones were measured on a 1 GiB upload to radosgw and not kept: 4 MiB
/// reads cost about the same CPU (17.3 s against 15.8-16.7, medians of 3) with more main-thread
/// tasks over 50 ms (8-11 an upload against 1-5), and hold more memory.
pub const CHUNK_BYTES: u64 = 1024 * 1024;

/// The MD5 of `length` bytes of `blob` from `offset`. An error if the blob cannot be read (the
/// user's file changed or was removed since it was picked: the browser's `NotReadableError`,
/// whose message this returns) or is shorter than the range.
/// `whole`: the range is all of the blob (a file sent in one POST), so a file that fits in one
/// read is read without a `slice` (measured: about a millisecond of the page's main thread per
/// slice of a picked file in Chromium, a third of the time of 100 small files' checksums).
pub async fn md5_of(
    blob: &Blob,
    offset: u64,
    length: u64,
    whole: bool,
) -> Result<[u8; 16], String> {
    let end = offset
        .checked_add(length)
        .ok_or("the range ends past 2^64 bytes")?;
    let mut hasher = Md5::new();
    let mut buffer = vec![0; CHUNK_BYTES.min(length) as usize];
    // Offsets are exact in f64 up to 2^53 bytes, far past any file a browser can hold.
    let read = |start: u64| -> Result<(u64, u64, JsFuture), String> {
        let stop = end.min(start.saturating_add(CHUNK_BYTES));
        if whole && start == 0 && stop == end {
            return Ok((start, stop, JsFuture::from(blob.array_buffer())));
        }
        let slice = blob
            .slice_with_f64_and_f64(start as f64, stop as f64)
            .map_err(message)?;
        Ok((start, stop, JsFuture::from(slice.array_buffer())))
    };
    let mut next = (offset < end).then(|| read(offset)).transpose()?;
    while let Some((start, stop, chunk)) = next.take() {
        // The next chunk is asked for before this one is hashed: the browser reads it from disk
        // meanwhile (measured: reading and hashing one after the other left each idle half
        // the time).
        if stop < end {
            next = Some(read(stop)?);
        }
        let wanted = (stop - start) as usize;
        let bytes = Uint8Array::new(&chunk.await.map_err(message)?);
        // `slice` clamps to the blob's end without an error, so a short read means a short blob
        // (and a whole blob of another length, a file changed since it was picked).
        if bytes.length() as usize != wanted {
            return Err(format!(
                "the file is shorter than the part: {} bytes at {start}, {wanted} expected",
                bytes.length()
            ));
        }
        bytes.copy_to(&mut buffer[..wanted]);
        hasher.update(&buffer[..wanted]);
    }
    Ok(hasher.finalize().into())
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
