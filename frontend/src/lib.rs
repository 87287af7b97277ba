//! The uploader page. `upload/` is the pure core (queue, progress, S3 answers, form layout) and
//! `i18n` the page's words; both run under plain `cargo test`. The browser edges (`browser/`) and
//! the Yew app (`app`) are compiled for `wasm32` only.

pub mod i18n;
pub mod upload;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
pub mod browser;
#[cfg(target_arch = "wasm32")]
pub mod row;
