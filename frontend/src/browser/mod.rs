//! The browser edges: one module per outside system. Only `wasm32` builds compile them.

pub mod auth;
pub mod files;
pub mod hash;
pub mod host;
pub mod json;
pub mod records;
pub mod sent;
pub mod signer;
pub mod xhr;

/// Waits `ms` (a `setTimeout` as a future); 0 lets the browser run what waits meanwhile (input,
/// drawing, other tasks).
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
