//! One file in the list (`Entry`) and its `Status`: what the page draws, and what each status
//! allows (cancel, retry, pause).

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Never sent, and not going by itself; the failure says why: the rules refuse it (before
    /// any request), it is a second copy of a file in the list held back until the user's Retry
    /// (`PageCode::Duplicate`, `Status::offers_retry`), or another tab took its upload over
    /// (`PageCode::OtherTab`). One status for the three because the page's DOM contract has one
    /// (`data-status="refused"`, with `data-error` naming the reason).
    Refused,
    Queued,
    Signing,
    Uploading,
    Finalizing,
    Retrying,
    Done,
    Failed,
    Cancelled,
    /// A multipart upload the user paused: nothing in flight, parts stored stay.
    Paused,
    /// A multipart upload from before a reload: waits for its file to be picked again.
    Unfinished,
}

impl Status {
    pub const ALL: [Status; 11] = [
        Status::Queued,
        Status::Signing,
        Status::Uploading,
        Status::Finalizing,
        Status::Retrying,
        Status::Paused,
        Status::Unfinished,
        Status::Done,
        Status::Failed,
        Status::Cancelled,
        Status::Refused,
    ];

    /// The `data-status` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Refused => "refused",
            Status::Queued => "queued",
            Status::Signing => "signing",
            Status::Uploading => "uploading",
            Status::Finalizing => "finalizing",
            Status::Retrying => "retrying",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
            Status::Paused => "paused",
            Status::Unfinished => "unfinished",
        }
    }

    /// Holding one of the `concurrency` slots.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            Status::Signing | Status::Uploading | Status::Finalizing
        )
    }

    /// Not once the whole body is sent (`finalizing`): S3 may have stored the file already, and a
    /// cancel could not take that back.
    pub fn can_cancel(self) -> bool {
        matches!(
            self,
            Status::Queued
                | Status::Signing
                | Status::Uploading
                | Status::Retrying
                | Status::Paused
        )
    }

    pub fn can_retry(self) -> bool {
        matches!(self, Status::Failed | Status::Cancelled)
    }

    /// Whether this entry offers Retry: failed or cancelled, or a duplicate held back (Retry then
    /// means "upload it anyway").
    pub fn offers_retry(entry: &Entry) -> bool {
        entry.status.can_retry()
            || (entry.status == Status::Refused
                && entry
                    .failure
                    .as_ref()
                    .is_some_and(|f| f.code == FailureCode::Page(PageCode::Duplicate)))
    }

    /// Cleared by "clear finished".
    pub fn is_finished(self) -> bool {
        matches!(self, Status::Done | Status::Cancelled | Status::Refused)
    }
}

/// A form asked for while the file is still `queued`.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Ahead {
    No,
    /// Asked for the current attempt; no answer yet.
    Asked,
    Ready {
        response: SignResponse,
        signed_at_ms: f64,
    },
    /// The signer did not sign: the file is signed in its turn, as if never asked.
    Failed,
}

/// One file in the list.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: FileId,
    pub file: FileInfo,
    pub status: Status,
    /// 1 on the first try, +1 for each retry (automatic or not) and each fresh signature.
    pub attempt: u32,
    /// The key the signer issued for the latest attempt.
    pub key: Option<String>,
    /// The signer's upload token for `key`: every later sign request for this file sends it, so
    /// the key stays the same.
    pub(super) token: Option<String>,
    pub failure: Option<Failure>,
    /// Bytes sent in the current attempt.
    pub sent: u64,
    pub speed: Speed,
    /// S3's answer once done.
    pub etag: Option<String>,
    pub location: Option<String>,
    /// Transient failures in a row (the backoff grows with it).
    pub(super) streak: u32,
    /// When the current run of failures began; `None` while the file makes progress.
    pub(super) failing_since_ms: Option<f64>,
    /// A policy that expired is signed again once per try.
    pub(super) re_signed_after_expiry: bool,
    /// When this attempt last showed signs of life (for the stall timeout).
    pub(super) last_activity_ms: f64,
    pub(super) ahead: Ahead,
    /// Goes up as a multipart upload (its parts are the queue's `multiparts`).
    pub multipart: bool,
    /// A single-POST file's MD5 (base64), when checksums are on: the signer pins it in the
    /// policy, so the form can only ever store these bytes. Computed before the first signature.
    pub(super) md5: Option<String>,
    /// Its MD5 is being computed (`Command::Part` with `PartCommand::Hash` of part 0, the whole
    /// file).
    pub(super) hashing: bool,
    /// Its end (done, failed or refused) was told to the page's host (`Command::Tell`); cleared
    /// when it runs again, so a retried file's next end is told too.
    pub(super) told: bool,
    /// Shown as retrying because the rules could not be loaded yet; queued again once they are.
    pub(super) waits_for_rules: bool,
}

impl Entry {
    /// The upload token its key was signed with, if the signer gave one.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// 100 only once S3 said it stored the file; a file whose bytes are all sent and that waits
    /// for S3's answer shows 99.
    pub fn percent(&self) -> u8 {
        match self.status {
            Status::Done => 100,
            _ => percent(self.sent, self.file.size).min(99),
        }
    }

    /// Pause is offered to a multipart upload on its way (Resume to a paused one).
    pub fn can_pause(&self) -> bool {
        self.multipart
            && self.key.is_some()
            && matches!(
                self.status,
                Status::Queued | Status::Uploading | Status::Retrying
            )
    }

    pub fn seconds_left(&self) -> Option<f64> {
        (self.status == Status::Uploading)
            .then(|| {
                self.speed
                    .seconds_left(self.file.size.saturating_sub(self.sent))
            })
            .flatten()
    }
}
