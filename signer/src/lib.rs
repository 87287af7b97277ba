//! The signing service: validates a file description, picks a unique key, builds and signs an S3
//! POST policy for exactly that file. See ARCHITECTURE.md for the map; `service.rs` is the HTTP API.

pub mod answer;
pub mod auth;
pub mod config;
pub mod key;
pub mod lambda;
pub mod local;
pub mod multipart;
pub mod oidc;
pub mod policy;
pub mod process;
pub mod s3;
pub mod secrets;
pub mod service;
pub mod sigv4;
pub mod state;
pub mod step;
pub mod time;
pub mod token;

pub use config::Config;
pub use service::Incoming;
pub use state::Signer;
