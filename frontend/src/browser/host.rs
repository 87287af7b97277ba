//! The page's host: a site that frames the page (its parent window) or serves it in a document
//! of its own learns what was uploaded. The work is in `frontend/host.js` (`window.uploaderHost`),
//! plain JavaScript like `sign-in.js`, since it is nothing but browser calls (a `CustomEvent` on
//! the page's element, `postMessage` to each of `config.json`'s `embedOrigins`, never `*`; the
//! browser delivers a message only when the parent is on the origin it names). The queue decides
//! what to tell (`Command::Tell`); this module only says it.
//!
//! The script is loaded before the page's wasm; without it nothing is told.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = uploaderHost, js_name = embed)]
    fn js_embed(config: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = uploaderHost, js_name = file)]
    fn js_file(
        kind: &str,
        name: &str,
        size: f64,
        content_type: &str,
        detail: &str,
    ) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = uploaderHost, js_name = allDone)]
    fn js_all_done(done: f64, failed: f64) -> Result<(), JsValue>;
}

/// `config.json`'s text, once loaded: the script reads its `embedOrigins`, the sites that may
/// frame the page, hear from it and hand it a sign-in token (reading them in Rust cost the page
/// more than the script does).
pub fn embed(config: &str) {
    let _ = js_embed(config);
}

/// `upload-done`: `{type, name, size, contentType, key}`.
pub fn done(name: &str, size: u64, content_type: &str, key: &str) {
    let _ = js_file("upload-done", name, size as f64, content_type, key);
}

/// `upload-failed`: `{type, name, size, contentType, reason}` (`reason`: the failure's code,
/// `FileTooLarge`, `BadDigest`, `Network`…).
pub fn failed(name: &str, size: u64, content_type: &str, reason: &str) {
    let _ = js_file("upload-failed", name, size as f64, content_type, reason);
}

/// `all-done`: `{type, done, failed}`.
pub fn all_done(done: usize, failed: usize) {
    let _ = js_all_done(done as f64, failed as f64);
}
