//! The signer's effects as values, below every route and edge: a route either answers
//! ([`Step::Done`]) or names the S3 request it needs ([`S3Call`]) and how to go on with S3's
//! answer ([`Pending`]). The routes (`service.rs`, `multipart.rs`) make them without I/O;
//! `s3.rs` sends the calls and hands the answers back to `Signer::resume`.

use http::Method;
use shared::{ListedPart, PartPlan, UploadClaims};

use crate::answer::Outgoing;

/// What a route needs next.
#[derive(Debug)]
pub enum Step {
    Done(Outgoing),
    Call(S3Call),
}

/// One request to S3, signed, and what to do with its answer.
#[derive(Debug)]
pub struct S3Call {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub pending: Pending,
}

/// Where a multipart call stands while S3 answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    Create {
        claims: UploadClaims,
        plan: PartPlan,
    },
    /// Listing for `list` (`complete: false`) or before `complete` (`true`), page by page.
    List {
        claims: UploadClaims,
        plan: PartPlan,
        parts: Vec<ListedPart>,
        complete: bool,
    },
    Complete {
        claims: UploadClaims,
    },
    Abort,
}

/// An S3 answer: status and body, or why there was none.
pub type S3Answer = Result<(u16, Vec<u8>), String>;
