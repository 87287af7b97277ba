//! The uploader page. `upload/` is the pure core (queue, progress, S3 answers, form layout) and runs
//! under plain `cargo test`; the browser edges and the Yew app are compiled for `wasm32` only.

pub mod upload;
