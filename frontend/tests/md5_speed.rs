//! A benchmark, not a test: how fast the page hashes in the browser, as `browser::hash::md5_of`
//! reads a file for a part's (or a small file's) `Content-MD5` (streamed, as the page does). Run it with
//! `cargo xtask bench md5` (a release build in headless Chromium): it prints MB/s for a few sizes,
//! the median of three rounds each, and the hash alone on bytes in memory (what reading costs is
//! the difference), and checks only that each digest is right. A speed is no pass
//! or fail on a machine shared with other work, so `cargo xtask test` does not run it.

#![cfg(target_arch = "wasm32")]

use frontend::browser::hash;
use frontend::upload::digest;
use js_sys::{Array, Uint8Array};
use md5::{Digest, Md5};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::File;

wasm_bindgen_test_configure!(run_in_browser);

const MIB: usize = 1024 * 1024;

/// Bytes that are not all alike (the browser tests' own).
fn test_bytes(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_right(13) as u8)
        .collect()
}

fn file(bytes: &[u8], name: &str) -> File {
    let parts = Array::of1(&Uint8Array::from(bytes));
    File::new_with_u8_array_sequence(&parts, name).expect("a File from bytes")
}

/// Hashes `size` bytes three times; the median speed in MB/s, and the digest.
async fn median_speed(size: usize) -> (f64, [u8; 16]) {
    let file = file(&test_bytes(size), "bench.bin");
    let mut speeds = Vec::new();
    let mut last = [0; 16];
    for _ in 0..3 {
        let started = js_sys::Date::now();
        last = hash::md5_of(&file, 0, size as u64, true, hash::Reader::Lent)
            .await
            .expect("the file reads");
        let seconds = ((js_sys::Date::now() - started) / 1000.0).max(0.001);
        speeds.push(size as f64 / 1e6 / seconds);
    }
    speeds.sort_by(f64::total_cmp);
    (speeds[1], last)
}

#[wasm_bindgen_test]
async fn md5_speed() {
    for size in [MIB, 8 * MIB, 64 * MIB] {
        let (speed, digest) = median_speed(size).await;
        // Read 1 MiB at a time, the digest is still the whole file's in one go.
        let expected: [u8; 16] = Md5::digest(test_bytes(size)).into();
        assert_eq!(digest::hex(&digest), digest::hex(&expected));
        console_log!(
            "md5_of: {} MiB at {speed:.0} MB/s (median of 3)",
            size / MIB
        );
    }
    // The hash alone, on bytes already in the module's memory: what reading the file costs is
    // the difference.
    let bytes = test_bytes(64 * MIB);
    let mut speeds = Vec::new();
    for _ in 0..3 {
        let started = js_sys::Date::now();
        let digest: [u8; 16] = Md5::digest(&bytes).into();
        let seconds = ((js_sys::Date::now() - started) / 1000.0).max(0.001);
        assert_ne!(digest, [0; 16]);
        speeds.push(bytes.len() as f64 / 1e6 / seconds);
    }
    speeds.sort_by(f64::total_cmp);
    console_log!(
        "MD5 alone: 64 MiB in memory at {:.0} MB/s (median of 3)",
        speeds[1]
    );
}
