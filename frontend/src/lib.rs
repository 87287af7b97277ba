//! The uploader page. Until the Yew page lands, this crate only proves that `shared` builds for the
//! page's side of the contract (native and `wasm32-unknown-unknown`).

pub use shared::{SignRequest, SignResponse, UploadRules};
