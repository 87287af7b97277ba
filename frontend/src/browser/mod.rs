//! The browser edges: one module per outside system. Only `wasm32` builds compile them.

pub mod files;
pub mod json;
pub mod signer;
pub mod xhr;
