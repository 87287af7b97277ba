//! The uploader's pure core: the queue state machine, progress maths, S3 response parsing and form
//! layout. Nothing under `upload/` touches `web_sys`; it all runs under plain `cargo test`.

pub mod digest;
pub mod failure;
pub mod file;
pub mod form;
pub mod multipart;
pub mod progress;
pub mod queue;
pub mod resume;
pub mod s3_xml;
pub mod sign_batch;
pub mod timing;
pub mod vec_map;
