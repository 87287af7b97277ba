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
