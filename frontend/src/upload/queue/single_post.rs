//! The single-POST path: a file at most the rules' `multipartThresholdBytes` is hashed (when
//! checksums are on), signed (ahead, when a slot is busy), sent as one form, and answered.

use super::*;

/// Whether a form signed ahead may still be used: until a minute before it expires, counted from
/// when it arrived (`use_until_ms`: the page's clock may be hours off the signer's), or for
/// `SIGNED_AHEAD_FRESH_MS` when it has no readable `expiresAt`.
pub(super) fn is_fresh(response: &SignResponse, signed_at_ms: f64, now_ms: f64) -> bool {
    let signed = response.fields.get("x-amz-date");
    match use_until_ms(
        &response.expires_at,
        signed,
        signed_at_ms,
        SIGNED_AHEAD_MARGIN_MS,
    ) {
        Some(until_ms) => now_ms < until_ms,
        None => now_ms - signed_at_ms < SIGNED_AHEAD_FRESH_MS,
    }
}

/// The file has its form: it uploads now, its upload token kept first (so a reload, a crash or
/// the file picked again signs the same key).
pub(super) fn start_upload(
    entry: &mut Entry,
    response: SignResponse,
    now_ms: f64,
    commands: &mut Vec<Command>,
) {
    entry.status = Status::Uploading;
    entry.key = Some(response.key);
    // A signer from before upload tokens answers none.
    entry.token = Some(response.token).filter(|t| !t.is_empty());
    entry.sent = 0;
    entry.speed = Speed::start(now_ms, 0);
    entry.last_activity_ms = now_ms;
    if let Some(token) = &entry.token {
        commands.push(Command::KeepToken {
            file: entry.file.clone(),
            token: token.clone(),
        });
    }
    commands.push(Command::Upload {
        id: entry.id,
        attempt: entry.attempt,
        url: response.url,
        fields: response.fields,
    });
}

/// MD5 of no bytes, base64.
pub(super) const EMPTY_MD5: &str = "1B2M2Y8AsgTpgAmY7PhCfg==";

/// Whether a single-POST file's MD5 is known; if not, it is asked for (once): part 0, the whole
/// file, through the part hasher. An empty file's is known.
pub(super) fn md5_ready(entry: &mut Entry, commands: &mut Vec<Command>) -> bool {
    if entry.md5.is_none() && entry.file.size == 0 {
        entry.md5 = Some(EMPTY_MD5.into());
    }
    if entry.md5.is_some() {
        return true;
    }
    if !entry.hashing {
        entry.hashing = true;
        commands.push(Command::Part {
            id: entry.id,
            attempt: entry.attempt,
            command: PartCommand::Hash {
                number: WHOLE_FILE,
                offset: 0,
                length: entry.file.size,
            },
        });
    }
    false
}

pub(super) fn sign_command(entry: &Entry) -> Command {
    let mut request = sign_request(&entry.file);
    request.token = entry.token.clone();
    request.content_md5 = entry.md5.clone();
    Command::Sign {
        id: entry.id,
        attempt: entry.attempt,
        request,
    }
}

impl Queue {
    /// The signer signed: the file uploads if it is its turn, or keeps the form signed ahead.
    pub(super) fn signed(
        &mut self,
        id: FileId,
        attempt: u32,
        response: SignResponse,
        now_ms: f64,
        commands: &mut Vec<Command>,
    ) {
        if let Some(entry) = self.current(id, attempt, &[Status::Signing]) {
            start_upload(entry, response, now_ms, commands);
        } else if let Some(entry) = self.current(id, attempt, &[Status::Queued])
            && entry.ahead == Ahead::Asked
        {
            entry.ahead = Ahead::Ready {
                response,
                signed_at_ms: now_ms,
            };
        }
    }

    /// Bytes of the form's body sent so far: progress clears the run of failures.
    pub(super) fn progress(&mut self, id: FileId, attempt: u32, sent: u64, now_ms: f64) {
        if let Some(entry) = self.current(id, attempt, &[Status::Uploading]) {
            if sent > entry.sent {
                entry.streak = 0;
                entry.failing_since_ms = None;
            }
            entry.sent = sent.clamp(entry.sent, entry.file.size);
            entry.speed.sample(now_ms, entry.sent);
            entry.last_activity_ms = now_ms;
        }
    }

    /// The last byte left the browser: the file waits for S3's answer (`finalizing`).
    pub(super) fn body_sent(&mut self, id: FileId, attempt: u32, now_ms: f64) {
        if let Some(entry) = self.current(id, attempt, &[Status::Uploading]) {
            entry.status = Status::Finalizing;
            entry.sent = entry.file.size;
            entry.last_activity_ms = now_ms;
        }
    }

    /// The form's POST failed without an answer: transient, retried, and the edge reads the file
    /// again (`FileUnreadable` fails the file if it cannot).
    pub(super) fn transport_failed(
        &mut self,
        id: FileId,
        attempt: u32,
        cause: TransportCause,
        commands: &mut Vec<Command>,
    ) {
        if self
            .current(id, attempt, &[Status::Uploading, Status::Finalizing])
            .is_none()
        {
            return;
        }
        commands.push(Command::CheckFile { id });
        self.retry_or_fail(id, transport_failure(cause), commands);
    }

    /// The file could not be read for its MD5: it fails with why (Retry reads it again).
    pub(super) fn file_unreadable(&mut self, id: FileId, message: String) {
        if let Some(entry) = entry_at(&mut self.entries, &self.index, id) {
            entry.hashing = false;
            if matches!(entry.status, Status::Signing | Status::Queued) {
                entry.status = Status::Failed;
                entry.failure = Some(Failure::page_with(PageCode::FileUnreadable, message));
            }
        }
    }

    /// A single-POST file's sign request failed: a new key for a stale token (once), a refusal shown, anything else retried.
    pub(super) fn sign_failed(
        &mut self,
        id: FileId,
        attempt: u32,
        error: SignError,
        now_ms: f64,
        commands: &mut Vec<Command>,
    ) {
        if let Some(entry) = self.current(id, attempt, &[Status::Queued])
            && entry.ahead == Ahead::Asked
        {
            entry.ahead = Ahead::Failed;
        } else if let Some(entry) = self.current(id, attempt, &[Status::Signing]) {
            match error {
                SignError::Refused {
                    code: ErrorCode::InvalidToken | ErrorCode::TokenExpired,
                    ..
                } if entry.token.is_some() => {
                    // The token is too old (or from a signer since restarted with another
                    // secret): ask for a new key, once.
                    entry.token = None;
                    entry.attempt += 1;
                    entry.last_activity_ms = now_ms;
                    commands.push(sign_command(entry));
                }
                SignError::Refused { code, message } => {
                    self.fail(id, Failure::signer(code, message));
                }
                error => {
                    let (failure, min_delay_ms) = sign_failure(error);
                    self.retry_after_at_least(id, failure, min_delay_ms, commands);
                }
            }
        }
    }

    /// S3 answered the form's POST.
    pub(super) fn answered(
        &mut self,
        id: FileId,
        attempt: u32,
        status: u16,
        body: &str,
        commands: &mut Vec<Command>,
    ) {
        if self
            .current(id, attempt, &[Status::Uploading, Status::Finalizing])
            .is_none()
        {
            return;
        }
        if (200..300).contains(&status) {
            let Some(entry) = entry_at(&mut self.entries, &self.index, id) else {
                return;
            };
            let response = s3_xml::parse_post_response(body);
            entry.status = Status::Done;
            entry.sent = entry.file.size;
            entry.failure = None;
            entry.streak = 0;
            entry.failing_since_ms = None;
            if let Some(response) = response {
                entry.key = response.key.or(entry.key.take());
                entry.etag = response.etag;
                entry.location = response.location;
            }
            return;
        }
        let (failure, expired) = match storage_refusal(status, body) {
            StoreRefusal::Transient(failure) => {
                self.retry_or_fail(id, failure, commands);
                return;
            }
            StoreRefusal::Expired(failure) => (failure, true),
            StoreRefusal::Final(failure) => (failure, false),
        };
        let Some(entry) = entry_at(&mut self.entries, &self.index, id) else {
            return;
        };
        if failure.code == FailureCode::Store(StoreCode::BadDigest) {
            // The file's bytes are not the ones hashed (changed on disk): a Retry hashes it
            // again, under a new key (the token states the old MD5; nothing was stored).
            entry.md5 = None;
            entry.token = None;
        }
        if expired && !entry.re_signed_after_expiry {
            // Sign again at once, keeping the slot: the form was fine, only late.
            entry.re_signed_after_expiry = true;
            entry.attempt += 1;
            entry.status = Status::Signing;
            entry.sent = 0;
            entry.last_activity_ms = self.now_ms;
            commands.push(sign_command(entry));
        } else {
            self.fail(id, failure);
        }
    }

    /// A single-POST file's MD5 is known: sign now if the file is waiting for it.
    pub(super) fn file_hashed(&mut self, id: FileId, md5: [u8; 16], commands: &mut Vec<Command>) {
        let Some(entry) = entry_at(&mut self.entries, &self.index, id) else {
            return;
        };
        entry.hashing = false;
        entry.md5 = Some(digest::base64(&md5));
        if entry.status == Status::Signing {
            entry.ahead = Ahead::No;
            commands.push(sign_command(entry));
        }
    }
}
