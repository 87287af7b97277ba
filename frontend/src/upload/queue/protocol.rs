//! The queue's edge protocol: the `Event`s the browser edge reports (with the attempt they
//! belong to, so a late answer to an earlier attempt is ignored) and the `Command`s it runs.

use super::*;

/// Why the signer did not sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignError {
    /// A 4xx `ErrorBody`: the signer's final word on this file.
    Refused { code: ErrorCode, message: String },
    /// A 5xx: the signer failed; try again later.
    Failed { status: u16, message: String },
    /// A 429: wait at least `retry_after_ms` (its `Retry-After`, when the page may read it).
    Throttled { retry_after_ms: Option<u32> },
    /// No answer (network, CORS, no configuration).
    Unreachable { message: String },
}

/// Everything that can happen to the queue.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Files picked, dropped or pasted; the ids are the edge's handles for the `File`s.
    /// `earlier`: the upload tokens of those this browser sent before (a reload, a closed tab):
    /// they are signed with them, so they keep their keys.
    Added {
        files: Vec<(FileId, FileInfo)>,
        earlier: Vec<(FileId, String)>,
    },
    RulesLoaded(UploadRules),
    /// The rules could not be loaded (they are asked for again); files wait for them, with why.
    RulesUnavailable(Failure),
    Signed {
        id: FileId,
        attempt: u32,
        response: SignResponse,
    },
    SignFailed {
        id: FileId,
        attempt: u32,
        error: SignError,
    },
    /// Bytes of the body sent so far (reported as they happen, also in a hidden tab).
    Progress {
        id: FileId,
        attempt: u32,
        sent: u64,
    },
    /// The last byte has left the browser; S3 has not answered yet.
    BodySent {
        id: FileId,
        attempt: u32,
    },
    /// S3 answered.
    Answered {
        id: FileId,
        attempt: u32,
        status: u16,
        body: String,
    },
    /// The request failed without an answer (network error, connection reset, CORS).
    TransportFailed {
        id: FileId,
        attempt: u32,
        cause: TransportCause,
    },
    /// Periodic: lets the queue notice stalled uploads.
    Tick,
    /// The browser says it is online again: files waiting to retry go at once.
    Online,
    /// A retry timer fired.
    RetryDue {
        id: FileId,
        attempt: u32,
    },
    Cancel(FileId),
    /// Cancel every file that can be cancelled.
    CancelAll,
    /// Retry every failed or cancelled file (not the duplicates held back: each of those is the
    /// user's own decision).
    RetryAll,
    Retry(FileId),
    Remove(FileId),
    /// The user signed in (again): files stopped because nobody was, or because the sign-in had
    /// ended, go on by themselves.
    SignedIn,
    /// The user signed out, or (anonymous) asked the page to forget this browser's uploads: every
    /// file goes from the list (uploads running stop; a multipart upload is not aborted in S3,
    /// whose lifecycle rule clears it), so the next person on this browser sees none of their
    /// names and can resume, complete or remove none of them.
    ForgetAll,
    /// The page was shown again from the back-forward cache, where Safari let go of its locks:
    /// the multipart uploads it runs or lists are claimed again.
    Restored,
    /// Another tab of the page took the lock of a multipart upload this tab runs or lists (while
    /// this page was in the back-forward cache): it is that tab's now, and this one lets it be
    /// (stops sending, never aborts it in S3).
    HandedOver {
        upload_id: String,
    },
    ClearFinished,
    /// Multipart: `create` answered.
    Created {
        id: FileId,
        attempt: u32,
        upload: MultipartUpload,
    },
    /// Multipart: what S3 holds of the upload.
    Listed {
        id: FileId,
        attempt: u32,
        parts: ListedParts,
    },
    /// Multipart: a part's MD5 is ready.
    PartHashed {
        id: FileId,
        number: u32,
        md5: [u8; 16],
    },
    /// The browser can no longer read the file (`CheckFile`): changed, moved or deleted on disk
    /// since it was picked.
    FileUnreadable {
        id: FileId,
    },
    /// Multipart: the file could not be read for hashing.
    HashFailed {
        id: FileId,
        number: u32,
        message: String,
    },
    PartsSigned {
        id: FileId,
        attempt: u32,
        parts: SignedParts,
    },
    PartProgress {
        id: FileId,
        number: u32,
        try_: u32,
        sent: u64,
    },
    PartAnswered {
        id: FileId,
        number: u32,
        try_: u32,
        status: u16,
        body: String,
    },
    PartFailed {
        id: FileId,
        number: u32,
        try_: u32,
        cause: TransportCause,
    },
    Completed {
        id: FileId,
        attempt: u32,
        upload: CompletedUpload,
    },
    Pause(FileId),
    Resume(FileId),
    /// Resume records found at start, with ids the edge gave them.
    Unfinished {
        records: Vec<(FileId, ResumeRecord)>,
    },
}

/// Effects for the browser edge to run.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Sign {
        id: FileId,
        attempt: u32,
        request: SignRequest,
    },
    /// POST the form: `fields` in order, then the file.
    Upload {
        id: FileId,
        attempt: u32,
        url: String,
        fields: FormFields,
    },
    /// Keep `file`'s upload token in this browser (its single POST is about to start), so the
    /// same file picked again after a reload is signed for the same key (`browser/sent.rs`).
    KeepToken { file: FileInfo, token: String },
    /// Forget every upload token this browser keeps (`Event::ForgetAll`).
    ForgetTokens,
    /// Stop the file's requests in flight, if any (its form's POST or its parts' PUTs); nothing in
    /// S3 changes (that is `AbortMultipart`).
    StopRequests { id: FileId },
    /// Send `RetryDue { id, attempt }` after `delay_ms`.
    RetryAfter {
        id: FileId,
        attempt: u32,
        delay_ms: u32,
    },
    /// The edge may forget the `File` (removed from the list).
    Forget { id: FileId },
    /// Multipart: `POST /multipart/create`; answers `Created` or `SignFailed`.
    CreateMultipart {
        id: FileId,
        attempt: u32,
        request: SignRequest,
    },
    /// `POST /multipart/list`; answers `Listed` or `SignFailed`.
    ListParts {
        id: FileId,
        attempt: u32,
        token: String,
    },
    /// Hash a part (`PartHashed`), sign parts (`PartsSigned` or `SignFailed`), send a part
    /// (`PartProgress`…, then `PartAnswered` or `PartFailed`).
    Part {
        id: FileId,
        attempt: u32,
        command: PartCommand,
    },
    /// Stop one part's request.
    AbortPart { id: FileId, number: u32 },
    /// A request of the file failed or stalled: read the file again, and answer
    /// `FileUnreadable` if the browser no longer can (browsers report a request of a file
    /// deleted on disk as a network failure, or let it hang).
    CheckFile { id: FileId },
    /// `POST /multipart/complete`; answers `Completed` or `SignFailed`.
    CompleteMultipart {
        id: FileId,
        attempt: u32,
        token: String,
    },
    /// `POST /multipart/abort` (no parts left in S3); the edge also forgets its record.
    AbortMultipart { upload_id: String, token: String },
    /// Keep this record for resuming after a reload.
    Remember(ResumeRecord),
    /// Claim the lock of an upload this tab runs or lists (see `Event::Restored`); one another
    /// tab holds comes back as `Event::HandedOver`.
    Claim { upload_id: String },
    /// The upload completed or was aborted: its record goes.
    ForgetRecord { upload_id: String },
    /// Forget every resume record this browser keeps (`Event::ForgetAll`).
    ForgetAllRecords,
    /// Tell the page's host (its parent window, its document) that a file or the list ended.
    Tell(Told),
}

/// What the page tells its host (`browser/host.rs`): each file's end once, and the list's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    /// Stored: S3 answered for it.
    Done(FileId),
    /// Failed for good (it offers Retry), or refused before any request.
    Failed(FileId),
    /// Nothing is left to run, after at least one file ended: how many are done and how many
    /// failed or were refused, of the whole list.
    AllDone { done: usize, failed: usize },
}
