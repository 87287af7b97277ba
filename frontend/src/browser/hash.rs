//! The only module that reads a file's bytes: the MD5 of a byte range of a `Blob` (one part of
//! the user's file, or a small file whole), which the `Content-MD5` of a part or a form needs. A
//! range of up to [`STEP_BYTES`] is read in one `arrayBuffer()`; a longer one is streamed, into
//! one buffer of [`STEP_BYTES`] where the browser's blob streams are byte streams (a "bring
//! your own buffer" reader: Chromium, Firefox), else in the chunks the stream gives (Safari's
//! engine), so a part of up to 5 GiB never sits in memory whole. The part's `PUT` sends a
//! `Blob.slice` of the file, which the browser reads again (why, in docs/benchmarks.md: sending
//! the bytes read here instead saved no CPU and cost memory, long tasks and weight).

use js_sys::{ArrayBuffer, Reflect, Uint8Array};
use md5::{Digest, Md5};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ReadableStreamByobReader, ReadableStreamDefaultReader};

use super::sleep;

/// How much is hashed in one task of the page's: a few milliseconds' work (hashing runs at about
/// 640 MB/s), so no task is long and the page answers meanwhile. (4 MiB reads each hashed in one
/// task were measured before: more main-thread tasks over 50 ms, 8-11 an upload against 1-5.)
/// Also the stream's buffer, and the longest range read in one `arrayBuffer()`.
const STEP_BYTES: u64 = 4 * 1024 * 1024;

/// Which reader streams a range longer than [`STEP_BYTES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// One buffer lent to each read where the blob's stream is a byte stream, else as
    /// [`Reader::Chunks`]: what the page does. Measured against reading 16 MiB pieces with
    /// `arrayBuffer()` (the page's way before): Chromium's memory flat for about the same CPU
    /// in the page (in a bare probe, 0.5-1 CPU second a GiB less; docs/benchmarks.md).
    Lent,
    /// The chunks the stream's default reader gives, each a new array: Safari's engine's way,
    /// whose blob streams are no byte streams; in tests the others' too.
    Chunks,
}

/// The MD5 of `length` bytes of `blob` from `offset`. An error if the blob cannot be read (the
/// user's file changed or was removed since it was picked: the browser's `NotReadableError`,
/// whose message this returns) or is not as long as the range.
/// `whole`: the range is all of the blob (a file sent in one POST), so it is read without a
/// `slice` (measured: about a millisecond of the page's main thread per slice of a picked file
/// in Chromium, a third of the time of 100 small files' checksums).
pub async fn md5_of(
    blob: &Blob,
    offset: u64,
    length: u64,
    whole: bool,
    reader: Reader,
) -> Result<[u8; 16], String> {
    let end = offset
        .checked_add(length)
        .ok_or("the range ends past 2^64 bytes")?;
    // Offsets are exact in f64 up to 2^53 bytes, far past any file a browser can hold.
    let range = if whole {
        blob.clone()
    } else {
        blob.slice_with_f64_and_f64(offset as f64, end as f64)
            .map_err(message)?
    };
    let mut hashing = Hashing::new(length);
    let mut read = 0;
    if length <= STEP_BYTES {
        let bytes = JsFuture::from(range.array_buffer())
            .await
            .map_err(message)?;
        let bytes = Uint8Array::new(&bytes);
        read = bytes.length() as u64;
        // `slice` clamps to the blob's end without an error, so a short read means a short blob
        // (and a whole blob of another length, a file changed since it was picked).
        if read == length {
            hashing.absorb(&bytes).await;
        }
    } else {
        let stream = range.stream();
        // A blob stream that is not a byte stream takes no BYOB reader (a `TypeError`).
        let lent = match reader {
            Reader::Lent => ReadableStreamByobReader::new(&stream).ok(),
            Reader::Chunks => None,
        };
        let mut source = match lent {
            Some(lent) => Source::Lent(lent, ArrayBuffer::new(STEP_BYTES as u32)),
            None => Source::Chunks(ReadableStreamDefaultReader::new(&stream).map_err(message)?),
        };
        while read <= length {
            let next = match &source {
                Source::Lent(lent, into) => {
                    lent.read_with_array_buffer_view(&Uint8Array::new(into))
                }
                Source::Chunks(chunks) => chunks.read(),
            };
            let result = JsFuture::from(next).await.map_err(message)?;
            let field = |name: &str| Reflect::get(&result, &JsValue::from_str(name));
            if field("done").ok().and_then(|done| done.as_bool()) != Some(false) {
                break;
            }
            // A read not done gives bytes, a view on a buffer.
            let chunk: Uint8Array = field("value").map_err(message)?.unchecked_into();
            read += chunk.length() as u64;
            if read <= length {
                hashing.absorb(&chunk).await;
            }
            // The buffer lent comes back with the bytes.
            if let Source::Lent(_, into) = &mut source {
                *into = chunk.buffer();
            }
        }
    }
    if read != length {
        return Err(format!(
            "the file is not as long as the part: {read} bytes at {offset}, {length} expected"
        ));
    }
    Ok(hashing.hasher.finalize().into())
}

/// Whether the browser can still read `file`: not once it was changed, moved or deleted on disk
/// since it was picked (Chromium refuses every read then, Firefox and WebKit once it is gone,
/// with `NotReadableError`). Its first byte is read, as a hash (a reader of its own would weigh
/// more for nothing), and once more a second later if that fails: WebKit fails the reads of a
/// page going into its back-forward cache, a file that is fine once the page is shown again.
pub async fn readable(file: &Blob) -> bool {
    let first = (file.size() as u64).min(1);
    for again in [false, true] {
        if again {
            sleep(1_000).await;
        }
        if md5_of(file, 0, first, false, Reader::Lent).await.is_ok() {
            return true;
        }
    }
    false
}

/// The reader a range is streamed with (a BYOB reader with the buffer it lends each read).
enum Source {
    Lent(ReadableStreamByobReader, ArrayBuffer),
    Chunks(ReadableStreamDefaultReader),
}

/// An MD5 being computed from bytes read into JavaScript: copied into WASM [`STEP_BYTES`] at a
/// time and hashed, each step in a task of its own while the page is seen. Not in a background
/// tab: browsers run its timers at most once a second there, so a wait would slow its uploads
/// to a few MiB/s, and nobody waits for it to answer.
struct Hashing {
    hasher: Md5,
    buffer: Vec<u8>,
    /// Bytes hashed since the last wait.
    since_wait: u64,
}

impl Hashing {
    fn new(length: u64) -> Self {
        Hashing {
            hasher: Md5::new(),
            buffer: vec![0; STEP_BYTES.min(length) as usize],
            since_wait: 0,
        }
    }

    async fn absorb(&mut self, bytes: &Uint8Array) {
        let length = bytes.length();
        let mut at = 0;
        while at < length {
            // Reads of bytes a stream holds already resolve without a task of their own.
            if self.since_wait >= STEP_BYTES {
                if !hidden() {
                    sleep(0).await;
                }
                self.since_wait = 0;
            }
            let to = length.min(at + (STEP_BYTES - self.since_wait) as u32);
            let into = &mut self.buffer[..(to - at) as usize];
            bytes.subarray(at, to).copy_to(into);
            self.hasher.update(into);
            self.since_wait += u64::from(to - at);
            at = to;
        }
    }
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
