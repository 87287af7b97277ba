//! The wire contract between the uploader page and the signer, and the upload rules both of them run.
//!
//! Everything here is plain data and pure functions: it compiles for the host and for `wasm32`, so the
//! page pre-checks a file with exactly the code the signer enforces.

pub mod calendar;
mod multipart;
mod parts;
mod rules;
mod token;
mod wire;

pub use multipart::{
    CompletedUpload, ListedPart, ListedParts, MAX_PARTS_PER_SIGN, MultipartUpload, PartToSign,
    SignParts, SignedPart, SignedParts, UploadToken,
};
pub use parts::{
    DEFAULT_PART_BYTES, LARGEST_PLANNED_PART, MAX_OBJECT_BYTES, MAX_PART_BYTES, MAX_PARTS,
    MIN_PART_BYTES, PLANNED_PARTS, PartPlan,
};
pub use rules::{
    ContentTypePattern, MAX_FILENAME_BYTES, Refusal, SignIn, UploadRules, check_filename,
    human_bytes, human_bytes_apart, is_active_type,
};
pub use token::UploadClaims;
pub use wire::{
    BatchResult, ErrorBody, ErrorCode, ErrorDetail, FormFields, MAX_BATCH_FILES, SignBatch,
    SignRequest, SignResponse, SignedBatch,
};
