//! The only module that reads a file's bytes: the MD5 of a byte range of a `Blob` (one part of
//! the user's file), which a multipart part's `Content-MD5` needs. A range of up to
//! [`WHOLE_READ_BYTES`] is read in one piece; a longer one a slice at a time, so a part of up to
//! 5 GiB never sits in memory whole. The part's `PUT` sends a `Blob.slice` of the file, which
//! the browser reads again (why, in docs/benchmarks.md: sending the bytes read here instead
//! saved CPU but cost memory, long tasks and weight).

use js_sys::{Promise, Reflect, Uint8Array};
use md5::{Digest, Md5};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::Blob;

/// How much of a range longer than [`WHOLE_READ_BYTES`] is read at a time (and all of a range
/// up to this long): reading costs about as much CPU as hashing (`cargo xtask bench md5`: MD5
/// alone 639 MB/s), and each read costs a promise and a copy out of JavaScript, so much smaller
/// reads spend their time waiting rather than hashing. 4 MiB reads, each hashed in one task,
/// were measured on a 1 GiB upload to radosgw and not kept: about the same CPU with more
/// main-thread tasks over 50 ms (8-11 an upload against 1-5).
pub const CHUNK_BYTES: u64 = 1024 * 1024;

/// The longest range read in one piece: Chromium's browser process reads a 16 MiB slice for
/// less CPU than sixteen of 1 MiB (1 GiB in 16 MiB parts to radosgw with MD5s: 13.7 CPU seconds
/// against 15.8, `BENCH_CASES=multipart cargo xtask bench radosgw`). The plan's parts are at
/// most 64 MiB up to 625 GiB files, and one part at a time per file is hashed, so a file holds
/// at most this much.
pub const WHOLE_READ_BYTES: u64 = 64 * 1024 * 1024;

/// How much of a range read in one piece is hashed in one task of the page's: a few
/// milliseconds' work (hashing runs at about 640 MB/s), so no task is long and the page
/// answers meanwhile.
const STEP_BYTES: u64 = 4 * 1024 * 1024;

/// The MD5 of `length` bytes of `blob` from `offset`. An error if the blob cannot be read (the
/// user's file changed or was removed since it was picked: the browser's `NotReadableError`,
/// whose message this returns) or is shorter than the range.
/// `whole`: the range is all of the blob (a file sent in one POST), so a file that fits in one
/// read is read without a `slice` (measured: about a millisecond of the page's main thread per
/// slice of a picked file in Chromium, a third of the time of 100 small files' checksums).
/// `in_one_piece`: the longest range read in one piece, [`WHOLE_READ_BYTES`] but in tests.
pub async fn md5_of(
    blob: &Blob,
    offset: u64,
    length: u64,
    whole: bool,
    in_one_piece: u64,
) -> Result<[u8; 16], String> {
    let end = offset
        .checked_add(length)
        .ok_or("the range ends past 2^64 bytes")?;
    let read = |start: u64, stop: u64| -> Result<JsFuture, String> {
        // Offsets are exact in f64 up to 2^53 bytes, far past any file a browser can hold.
        Ok(JsFuture::from(if whole && start == offset && stop == end {
            blob.array_buffer()
        } else {
            blob.slice_with_f64_and_f64(start as f64, stop as f64)
                .map_err(message)?
                .array_buffer()
        }))
    };
    // A range of one chunk is read as a chunk: no timer's wait for a small file.
    let one_piece = length > CHUNK_BYTES && length <= in_one_piece;
    let all = match one_piece {
        true => Some(bytes(read(offset, end)?.await, offset, end)?),
        false => None,
    };
    let step = if one_piece { STEP_BYTES } else { CHUNK_BYTES };
    // The next piece is asked for before this one is hashed: the browser reads it from disk
    // meanwhile (measured: reading and hashing one after the other left each idle half the
    // time), or, of a range read in one piece, a timer starts it in a task of its own.
    let piece = |start: u64| -> Result<(u64, u64, JsFuture), String> {
        let stop = end.min(start.saturating_add(step));
        let future = match all {
            Some(_) => JsFuture::from(Promise::new(&mut |resolve, _| {
                if let Some(window) = web_sys::window() {
                    let _ =
                        window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
                }
            })),
            None => read(start, stop)?,
        };
        Ok((start, stop, future))
    };
    let mut hasher = Md5::new();
    let mut buffer = vec![0; step.min(length) as usize];
    let mut next = (offset < end).then(|| piece(offset)).transpose()?;
    while let Some((start, stop, future)) = next.take() {
        if stop < end {
            next = Some(piece(stop)?);
        }
        let read = future.await;
        let bytes = match &all {
            Some(all) => all.subarray((start - offset) as u32, (stop - offset) as u32),
            None => bytes(read, start, stop)?,
        };
        let into = &mut buffer[..(stop - start) as usize];
        bytes.copy_to(into);
        hasher.update(into);
    }
    Ok(hasher.finalize().into())
}

/// The bytes a read of `start..stop` gave, or why not: the read failed, or gave fewer bytes
/// (`slice` clamps to the blob's end without an error, so a short read means a short blob, and
/// a whole blob of another length a file changed since it was picked).
fn bytes(read: Result<JsValue, JsValue>, start: u64, stop: u64) -> Result<Uint8Array, String> {
    let bytes = Uint8Array::new(&read.map_err(message)?);
    let wanted = stop - start;
    if bytes.length() as u64 != wanted {
        return Err(format!(
            "the file is shorter than the part: {} bytes at {start}, {wanted} expected",
            bytes.length()
        ));
    }
    Ok(bytes)
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
