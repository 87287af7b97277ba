//! The queue's side of multipart uploads (files over the rules' `multipartThresholdBytes`): the
//! file's steps (`create`, `list`, `complete`, `abort`), its parts' answers, pause and resume,
//! and the unfinished uploads found after a reload. Which part goes next is
//! `upload/multipart.rs`'s business; here is what each answer means for the file.
//!
//! A part's failure costs that part only: it waits (the file's backoff) and goes again with a
//! fresh URL, while the others go on. The file fails only when it has made no progress for
//! `RETRY_WINDOW_MS`, and a Retry then continues the same upload (stored parts stay). Cancel and
//! Remove abort the upload in S3, so no parts are left behind; an upload S3 no longer has (or
//! whose token expired) is forgotten, and Retry starts a new one.

use super::*;
use crate::upload::multipart::{Outcome, Phase};

impl Queue {
    /// Part URLs signed for the current attempt: the parts go.
    pub(super) fn parts_signed(
        &mut self,
        id: FileId,
        attempt: u32,
        parts: SignedParts,
        now_ms: f64,
        commands: &mut Vec<Command>,
    ) {
        if let Some(multipart) = self.multiparts.get_mut(&id)
            && self
                .index
                .get(&id)
                .is_some_and(|&at| self.entries[at].attempt == attempt)
        {
            multipart.signed(parts, now_ms);
            self.next_steps(id, commands);
        }
    }

    /// A part's request failed without an answer: that part alone waits and goes again, and the
    /// edge reads the file again (`FileUnreadable` fails the file if it cannot).
    pub(super) fn part_failed(
        &mut self,
        id: FileId,
        number: u32,
        try_: u32,
        cause: TransportCause,
        commands: &mut Vec<Command>,
    ) {
        if self
            .multiparts
            .get(&id)
            .is_some_and(|m| m.is_current(number, try_))
        {
            commands.push(Command::CheckFile { id });
            self.part_retry(id, number, transport_failure(cause), 0, commands);
        }
    }

    /// The user's Resume of a paused upload: it queues for a slot again.
    pub(super) fn resume(&mut self, id: FileId, now_ms: f64) {
        if let Some(entry) =
            entry_at(&mut self.entries, &self.index, id).filter(|e| e.status == Status::Paused)
        {
            entry.status = Status::Queued;
            entry.failure = None;
            entry.streak = 0;
            entry.failing_since_ms = None;
            entry.last_activity_ms = now_ms;
        }
    }

    pub(super) fn multipart_threshold(&self) -> u64 {
        self.rules
            .as_ref()
            .map_or(u64::MAX, |r| r.multipart_threshold_bytes)
    }

    pub(super) fn is_multipart(&self, id: FileId) -> bool {
        self.multiparts.contains_key(&id)
    }

    /// A multipart file's turn (it holds a slot now): its next step.
    pub(super) fn start_multipart(&mut self, id: FileId, commands: &mut Vec<Command>) {
        let now_ms = self.now_ms;
        let checksums = self.md5s();
        let Some(entry) = entry_at(&mut self.entries, &self.index, id) else {
            return;
        };
        let multipart = self
            .multiparts
            .get_or_insert_with(id, || Multipart::new(checksums));
        entry.multipart = true;
        entry.ahead = Ahead::No;
        entry.last_activity_ms = now_ms;
        entry.sent = multipart.sent();
        let attempt = entry.attempt;
        match multipart.phase {
            Phase::Create => {
                entry.status = Status::Signing;
                commands.push(Command::CreateMultipart {
                    id,
                    attempt,
                    request: sign_request(&entry.file),
                });
            }
            Phase::List => {
                entry.status = Status::Signing;
                commands.push(Command::ListParts {
                    id,
                    attempt,
                    token: multipart.token().unwrap_or_default().to_string(),
                });
            }
            Phase::Parts => {
                entry.status = Status::Uploading;
                entry.speed = Speed::start(now_ms, entry.sent);
                self.next_steps(id, commands);
            }
            Phase::Complete => {
                entry.status = Status::Finalizing;
                entry.sent = entry.file.size;
                multipart.completes += 1;
                commands.push(Command::CompleteMultipart {
                    id,
                    attempt,
                    token: multipart.token().unwrap_or_default().to_string(),
                });
            }
        }
    }

    /// The next parts to hash, sign and send; `complete` once every part is stored.
    pub(super) fn next_steps(&mut self, id: FileId, commands: &mut Vec<Command>) {
        let now_ms = self.now_ms;
        let slots = self
            .part_concurrency
            .min(MAX_STORAGE_REQUESTS.saturating_sub(self.storage_requests(Some(id))));
        let (Some(entry), Some(multipart)) = (
            entry_at(&mut self.entries, &self.index, id),
            self.multiparts.get_mut(&id),
        ) else {
            return;
        };
        if entry.status != Status::Uploading || multipart.phase != Phase::Parts {
            return;
        }
        // A resumed upload whose stored parts are all checked (or of which S3 held none: its
        // tab closed before the first part landed) is that upload now: its unfinished row goes.
        if !multipart.verifying()
            && let Some(from) = multipart.resume_of.take()
        {
            self.drop_unfinished(from, commands);
            return self.next_steps(id, commands);
        }
        let attempt = entry.attempt;
        let mut out = Vec::new();
        multipart.next_steps(slots, now_ms, &mut out);
        commands.extend(out.into_iter().map(|command| Command::Part {
            id,
            attempt,
            command,
        }));
        if multipart.all_stored() {
            multipart.phase = Phase::Complete;
            multipart.completes += 1;
            entry.status = Status::Finalizing;
            entry.sent = entry.file.size;
            entry.last_activity_ms = now_ms;
            commands.push(Command::CompleteMultipart {
                id,
                attempt,
                token: multipart.token().unwrap_or_default().to_string(),
            });
        }
    }

    /// Every second (and when the browser is online again): parts with no progress for
    /// `STALL_MS` are stopped and retried; parts whose wait is over go.
    pub(super) fn parts_tick(&mut self, commands: &mut Vec<Command>) {
        let before_ms = self.now_ms - STALL_MS;
        let uploading = self.ids_where(|e| e.multipart && e.status == Status::Uploading);
        for id in uploading {
            let stalled = self
                .multiparts
                .get(&id)
                .map(|m| m.stalled(before_ms))
                .unwrap_or_default();
            if !stalled.is_empty() {
                commands.push(Command::CheckFile { id });
            }
            for number in stalled {
                commands.push(Command::AbortPart { id, number });
                let failure = Failure::page(PageCode::Timeout);
                self.part_retry(id, number, failure, 0, commands);
            }
            self.next_steps(id, commands);
        }
    }

    pub(super) fn created(
        &mut self,
        id: FileId,
        attempt: u32,
        upload: MultipartUpload,
        commands: &mut Vec<Command>,
    ) {
        let now_ms = self.now_ms;
        let entry = entry_at(&mut self.entries, &self.index, id)
            .filter(|e| e.attempt == attempt && e.status == Status::Signing);
        let multipart = self
            .multiparts
            .get_mut(&id)
            .filter(|m| m.phase == Phase::Create);
        let (Some(entry), Some(multipart)) = (entry, multipart) else {
            // Cancelled, removed or timed out meanwhile: nobody will finish this one.
            commands.push(Command::AbortMultipart {
                upload_id: upload.upload_id,
                token: upload.token,
            });
            return;
        };
        if !multipart.created(upload.clone(), entry.file.size) {
            commands.push(Command::AbortMultipart {
                upload_id: upload.upload_id,
                token: upload.token,
            });
            entry.status = Status::Failed;
            entry.failure = Some(Failure::page(PageCode::UnexpectedAnswer));
            return;
        }
        commands.push(Command::Remember(ResumeRecord {
            upload_id: upload.upload_id,
            key: upload.key.clone(),
            token: upload.token,
            expires_at: upload.expires_at,
            part_size: upload.part_size,
            parts: upload.parts,
            file: entry.file.clone(),
        }));
        entry.key = Some(upload.key);
        entry.status = Status::Uploading;
        entry.sent = 0;
        entry.speed = Speed::start(now_ms, 0);
        entry.last_activity_ms = now_ms;
        self.next_steps(id, commands);
    }

    pub(super) fn listed(
        &mut self,
        id: FileId,
        attempt: u32,
        parts: ListedParts,
        commands: &mut Vec<Command>,
    ) {
        let now_ms = self.now_ms;
        let (Some(entry), Some(multipart)) = (
            entry_at(&mut self.entries, &self.index, id).filter(|e| e.attempt == attempt),
            self.multiparts.get_mut(&id),
        ) else {
            return;
        };
        match entry.status {
            // Shown while it waits for its file: how much S3 holds (checked once it is picked).
            Status::Unfinished => {
                entry.sent = Multipart::held_bytes(&parts.parts);
                multipart.listed(&parts.parts, true);
            }
            Status::Signing if multipart.phase == Phase::List => {
                // Resuming: every stored part is checked against the file. After `complete`
                // found parts missing: S3's word is taken, the missing ones are sent.
                let check = !multipart.relisted;
                multipart.listed(&parts.parts, check);
                entry.status = Status::Uploading;
                entry.sent = multipart.sent();
                entry.speed = Speed::start(now_ms, entry.sent);
                entry.last_activity_ms = now_ms;
                self.next_steps(id, commands);
            }
            _ => {}
        }
    }

    pub(super) fn part_hashed(
        &mut self,
        id: FileId,
        number: u32,
        md5: [u8; 16],
        commands: &mut Vec<Command>,
    ) {
        let now_ms = self.now_ms;
        let checksums = self.md5s();
        let (Some(entry), Some(multipart)) = (
            entry_at(&mut self.entries, &self.index, id),
            self.multiparts.get_mut(&id),
        ) else {
            return;
        };
        let mut unfinished_done = None;
        match multipart.hashed(number, md5) {
            Outcome::NotTheSameFile => {
                // Another file with the same name, size and date: not merged into the unfinished
                // upload (which stays listed), but uploaded as a new one.
                *multipart = Multipart::new(checksums);
                entry.key = None;
                entry.sent = 0;
                entry.attempt += 1;
                entry.status = Status::Queued;
                return;
            }
            Outcome::Progress => {
                entry.sent = multipart.sent();
                entry.last_activity_ms = now_ms;
                if !multipart.verifying() {
                    unfinished_done = multipart.resume_of.take();
                }
            }
            Outcome::Nothing => {}
        }
        if let Some(from) = unfinished_done {
            // Every stored part matched: this entry is that upload now.
            self.drop_unfinished(from, commands);
        }
        self.next_steps(id, commands);
    }

    pub(super) fn hash_failed(
        &mut self,
        id: FileId,
        number: u32,
        message: String,
        commands: &mut Vec<Command>,
    ) {
        if let Some(multipart) = self.multiparts.get_mut(&id) {
            multipart.hash_failed(number);
        }
        if self
            .entry(id)
            .is_some_and(|e| e.status == Status::Uploading)
        {
            let failure = Failure::page_with(PageCode::FileUnreadable, message);
            self.fail_multipart(id, failure, commands);
        }
    }

    pub(super) fn part_progress(&mut self, id: FileId, number: u32, try_: u32, sent: u64) {
        let now_ms = self.now_ms;
        let (Some(entry), Some(multipart)) = (
            entry_at(&mut self.entries, &self.index, id),
            self.multiparts.get_mut(&id),
        ) else {
            return;
        };
        if entry.status != Status::Uploading {
            return;
        }
        if multipart.progress(number, try_, sent, now_ms) {
            entry.streak = 0;
            entry.failing_since_ms = None;
            entry.failure = None;
        }
        entry.sent = multipart.sent();
        entry.speed.sample(now_ms, entry.sent);
        entry.last_activity_ms = now_ms;
    }

    pub(super) fn part_answered(
        &mut self,
        id: FileId,
        number: u32,
        try_: u32,
        status: u16,
        body: &str,
        commands: &mut Vec<Command>,
    ) {
        let now_ms = self.now_ms;
        let (Some(entry), Some(multipart)) = (
            entry_at(&mut self.entries, &self.index, id),
            self.multiparts.get_mut(&id),
        ) else {
            return;
        };
        if !multipart.is_current(number, try_) {
            return;
        }
        if (200..300).contains(&status) {
            multipart.stored_part(number);
            entry.sent = multipart.sent();
            entry.streak = 0;
            entry.failing_since_ms = None;
            entry.failure = None;
            entry.last_activity_ms = now_ms;
            self.next_steps(id, commands);
            return;
        }
        match storage_refusal(status, body) {
            StoreRefusal::Transient(failure) => {
                self.part_retry(id, number, failure, 0, commands);
            }
            StoreRefusal::Expired(failure) => {
                // The URL expired (a part that waited long, a skewed clock): a fresh one at once,
                // the first time; again after the file's backoff (a refusal that only looks like
                // an expiry, such as a role without the permission, must not loop).
                let first = self.entry(id).is_some_and(|e| e.streak == 0);
                self.part_retry(id, number, failure, 0, commands);
                if first && let Some(multipart) = self.multiparts.get_mut(&id) {
                    multipart.release(number);
                }
                self.next_steps(id, commands);
            }
            StoreRefusal::Final(failure)
                if matches!(
                    failure.code,
                    FailureCode::Store(StoreCode::NoSuchUpload | StoreCode::NoSuchKey)
                ) =>
            {
                self.upload_gone(id, failure, commands);
            }
            StoreRefusal::Final(failure) => {
                if let Some(multipart) = self.multiparts.get_mut(&id) {
                    multipart.part_failed(number, f64::MAX);
                }
                self.fail_multipart(id, failure, commands);
            }
        }
    }

    /// A part's try failed for a reason worth another: it waits (the file's backoff, at least
    /// `min_delay_ms`) and goes again with a fresh URL, unless the file has made no progress for
    /// `RETRY_WINDOW_MS`.
    pub(super) fn part_retry(
        &mut self,
        id: FileId,
        number: u32,
        failure: Failure,
        min_delay_ms: u32,
        commands: &mut Vec<Command>,
    ) {
        let at_ms = self.backoff(id, failure, min_delay_ms, commands);
        if let Some(multipart) = self.multiparts.get_mut(&id) {
            multipart.part_failed(number, at_ms.unwrap_or(f64::MAX));
            if at_ms.is_none() {
                multipart.stop();
            }
        }
        if let Some(entry) = entry_at(&mut self.entries, &self.index, id) {
            entry.sent = self.multiparts.get(&id).map_or(0, |m| m.sent());
        }
    }

    /// The file's wait after a failure of a part (or of signing parts): when to go again (the
    /// backoff, at least `min_delay_ms`, with a timer for it), or `None` when the file has made no
    /// progress for `RETRY_WINDOW_MS`: it has failed then.
    fn backoff(
        &mut self,
        id: FileId,
        failure: Failure,
        min_delay_ms: u32,
        commands: &mut Vec<Command>,
    ) -> Option<f64> {
        match self.next_retry(id, min_delay_ms, commands) {
            Retry::At(at) => {
                let entry = entry_at(&mut self.entries, &self.index, id)?;
                entry.failure = Some(failure);
                Some(at)
            }
            Retry::GiveUp => {
                self.fail_multipart(id, failure, commands);
                None
            }
            Retry::Gone => None,
        }
    }

    /// A multipart call to the signer (`create`, `list`, `sign-parts`, `complete`) failed.
    pub(super) fn multipart_call_failed(
        &mut self,
        id: FileId,
        attempt: u32,
        error: SignError,
        commands: &mut Vec<Command>,
    ) {
        let Some((status, completes, relisted)) = self
            .entry(id)
            .filter(|e| e.attempt == attempt)
            .zip(self.multiparts.get(&id))
            .map(|(e, m)| (e.status, m.completes, m.relisted))
        else {
            return;
        };
        let gone = |code: ErrorCode| {
            matches!(
                code,
                ErrorCode::TokenExpired | ErrorCode::InvalidToken | ErrorCode::NoSuchUpload
            )
        };
        match (status, error) {
            (Status::Unfinished, SignError::Refused { code, message }) if gone(code) => {
                // Nothing left to continue: said, and the record goes. A token too old is
                // that; an upload S3 no longer holds may have been completed just as its page
                // closed (the signer finishes a `complete` it was asked for), so the row keeps
                // its key and says so, rather than "upload it again" (a second object).
                let (page_code, key) = if code == ErrorCode::NoSuchUpload {
                    let key =
                        entry_at(&mut self.entries, &self.index, id).and_then(|e| e.key.clone());
                    (PageCode::ResumeGone, key)
                } else {
                    (PageCode::ResumeExpired, None)
                };
                self.upload_gone(id, Failure::page_with(page_code, message), commands);
                if let Some(entry) = entry_at(&mut self.entries, &self.index, id) {
                    entry.status = Status::Failed;
                    entry.sent = 0;
                    entry.key = key;
                }
            }
            (Status::Unfinished, _) => {}
            (Status::Uploading, SignError::Refused { code, message }) if gone(code) => {
                self.upload_gone(id, Failure::signer(code, message), commands);
            }
            (Status::Uploading, SignError::Refused { code, message }) => {
                self.fail_multipart(id, Failure::signer(code, message), commands);
            }
            (Status::Uploading, error) => {
                // `sign-parts` failed: the parts wait, like a failed part.
                let (failure, min_delay_ms) = sign_failure(error);
                let at_ms = self.backoff(id, failure, min_delay_ms, commands);
                if let Some(multipart) = self.multiparts.get_mut(&id) {
                    multipart.sign_failed(at_ms.unwrap_or(f64::MAX));
                }
            }
            (Status::Finalizing, SignError::Refused { code, .. })
                if code == ErrorCode::ObjectExists
                    || (code == ErrorCode::NoSuchUpload && completes > 1) =>
            {
                // An earlier `complete` whose answer was lost did complete it: the key is fresh
                // (a random id), so the object there is this upload.
                self.done(id, None, commands);
            }
            (Status::Finalizing, SignError::Refused { code, .. })
                if code == ErrorCode::UploadIncomplete && !relisted =>
            {
                if let Some(multipart) = self.multiparts.get_mut(&id) {
                    multipart.relisted = true;
                    multipart.phase = Phase::List;
                }
                if let Some(entry) = entry_at(&mut self.entries, &self.index, id) {
                    entry.status = Status::Queued;
                }
            }
            (Status::Signing | Status::Finalizing, SignError::Refused { code, message })
                if gone(code) =>
            {
                self.upload_gone(id, Failure::signer(code, message), commands);
            }
            (Status::Signing | Status::Finalizing, SignError::Refused { code, message }) => {
                self.fail(id, Failure::signer(code, message));
            }
            (Status::Signing | Status::Finalizing, SignError::Throttled { retry_after_ms }) => {
                let failure = Failure::page(PageCode::Throttled);
                self.retry_after_at_least(id, failure, retry_after_ms.unwrap_or(0), commands);
            }
            (Status::Signing | Status::Finalizing, error) => {
                let (failure, _) = sign_failure(error);
                self.retry_or_fail(id, failure, commands);
            }
            _ => {}
        }
    }

    pub(super) fn completed(
        &mut self,
        id: FileId,
        attempt: u32,
        upload: CompletedUpload,
        commands: &mut Vec<Command>,
    ) {
        let _ = attempt;
        // Whatever became of the attempt that asked, S3 has the object now.
        let finishing = self
            .entry(id)
            .is_some_and(|e| !matches!(e.status, Status::Done | Status::Cancelled) && e.multipart)
            && self
                .multiparts
                .get(&id)
                .is_some_and(|m| m.phase == Phase::Complete);
        if finishing {
            if let Some(entry) = entry_at(&mut self.entries, &self.index, id) {
                entry.key = Some(upload.key);
            }
            self.done(id, Some(upload.etag), commands);
        }
    }

    fn done(&mut self, id: FileId, etag: Option<String>, commands: &mut Vec<Command>) {
        if let Some(multipart) = self.multiparts.remove(&id)
            && let Some(upload) = multipart.upload
        {
            commands.push(Command::ForgetRecord {
                upload_id: upload.upload_id,
            });
        }
        if let Some(entry) = entry_at(&mut self.entries, &self.index, id) {
            entry.status = Status::Done;
            entry.sent = entry.file.size;
            entry.etag = etag;
            entry.failure = None;
            entry.streak = 0;
            entry.failing_since_ms = None;
        }
    }

    /// The file fails (Retry goes on with the same upload): everything in flight stops.
    pub(super) fn fail_multipart(
        &mut self,
        id: FileId,
        failure: Failure,
        commands: &mut Vec<Command>,
    ) {
        commands.push(Command::StopRequests { id });
        if let Some(multipart) = self.multiparts.get_mut(&id) {
            multipart.stop();
        }
        if let Some(entry) = entry_at(&mut self.entries, &self.index, id) {
            entry.sent = self.multiparts.get(&id).map_or(0, |m| m.sent());
            entry.status = Status::Failed;
            entry.failure = Some(failure);
        }
    }

    /// S3 no longer has the upload, or its token expired: the file fails, its record goes, and
    /// Retry starts a new upload.
    fn upload_gone(&mut self, id: FileId, failure: Failure, commands: &mut Vec<Command>) {
        commands.push(Command::StopRequests { id });
        if let Some(multipart) = self.multiparts.remove(&id) {
            if let Some(upload) = multipart.upload {
                commands.push(Command::ForgetRecord {
                    upload_id: upload.upload_id,
                });
            }
            if let Some(from) = multipart.resume_of {
                self.drop_unfinished(from, commands);
            }
        }
        if let Some(entry) = entry_at(&mut self.entries, &self.index, id) {
            entry.status = Status::Failed;
            entry.failure = Some(failure);
            entry.sent = 0;
            entry.key = None;
        }
    }

    pub(super) fn pause(&mut self, id: FileId, commands: &mut Vec<Command>) {
        let (Some(entry), Some(multipart)) = (
            entry_at(&mut self.entries, &self.index, id).filter(|e| e.can_pause()),
            self.multiparts.get_mut(&id),
        ) else {
            return;
        };
        commands.push(Command::StopRequests { id });
        multipart.stop();
        entry.status = Status::Paused;
        entry.sent = multipart.sent();
        entry.failure = None;
    }

    /// Cancel: requests stop, and a multipart upload is aborted in S3 (no parts left behind).
    pub(super) fn cancel(&mut self, id: FileId, commands: &mut Vec<Command>) {
        let Some(entry) = entry_at(&mut self.entries, &self.index, id) else {
            return;
        };
        if matches!(entry.status, Status::Uploading | Status::Signing) {
            commands.push(Command::StopRequests { id });
        }
        entry.status = Status::Cancelled;
        entry.failure = None;
        entry.ahead = Ahead::No;
        self.abort_multipart(id, commands);
    }

    /// Aborts the file's multipart upload, if S3 has one, and forgets it (with the unfinished
    /// entry it came from: the same upload).
    pub(super) fn abort_multipart(&mut self, id: FileId, commands: &mut Vec<Command>) {
        let Some(multipart) = self.multiparts.remove(&id) else {
            return;
        };
        if let Some(upload) = multipart.upload {
            commands.push(Command::AbortMultipart {
                upload_id: upload.upload_id,
                token: upload.token,
            });
        }
        if let Some(from) = multipart.resume_of {
            self.drop_unfinished(from, commands);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashSet, VecDeque};

    use shared::{SignParts, SignedPart};

    use super::*;
    use crate::upload::multipart::PartCommand;
    use crate::upload::queue::harness::*;

    #[test]
    fn a_big_file_goes_up_in_parts_each_hashed_signed_and_sent_once() {
        let mut j = Journey::multipart(true, 2);
        let commands = added(&mut j.queue, 1.0, 1);
        assert!(matches!(
            commands[..],
            [Command::CreateMultipart { id: 1, .. }]
        ));
        j.drive(2.0, commands, &mut no_fault);
        let entry = j.queue.entry(1).unwrap();
        assert_eq!(entry.status, Status::Done);
        assert_eq!(entry.percent(), 100);
        assert_eq!(entry.key.as_deref(), Some("uploads/id/big.iso"));
        assert_eq!(j.sends, (1..=5).map(|n| (n, 1)).collect());
        assert_eq!(j.hashed, vec![1, 2, 3, 4, 5]);
        let mut signed = j.signed.clone();
        signed.sort();
        assert_eq!(signed, vec![1, 2, 3, 4, 5]);
        assert_eq!(
            j.count(|c| matches!(c, Command::CompleteMultipart { .. })),
            1
        );
        // Remembered once created, forgotten once complete.
        assert_eq!(
            j.count(|c| matches!(c, Command::Remember(r) if r.upload_id == "up-1")),
            1
        );
        assert_eq!(
            j.count(|c| matches!(c, Command::ForgetRecord { upload_id } if upload_id == "up-1")),
            1
        );
        // Every signed part carried its MD5 (checksums on).
        for command in &j.seen {
            if let Command::Part {
                command: PartCommand::Sign(request),
                ..
            } = command
            {
                assert!(request.parts.iter().all(|p| p.md5.is_some()));
            }
        }
    }

    #[test]
    fn parts_in_flight_stay_within_the_limit_and_hashing_runs_ahead() {
        let mut j = Journey::multipart(false, 2);
        let commands = added(&mut j.queue, 1.0, 1);
        assert!(matches!(commands[..], [Command::CreateMultipart { .. }]));
        let commands = j.queue.update(
            2.0,
            Event::Created {
                id: 1,
                attempt: 1,
                upload: upload(),
            },
        );
        // Without checksums the first parts are signed at once, in one request.
        let signs: Vec<&SignParts> = commands
            .iter()
            .filter_map(|c| match c {
                Command::Part {
                    command: PartCommand::Sign(s),
                    ..
                } => Some(s),
                _ => None,
            })
            .collect();
        assert_eq!(signs.len(), 1);
        assert!(signs[0].parts.len() >= 2 && signs[0].parts.iter().all(|p| p.md5.is_none()));
        let numbers: Vec<u32> = signs[0].parts.iter().map(|p| p.number).collect();
        let commands = j.queue.update(
            3.0,
            Event::PartsSigned {
                id: 1,
                attempt: 1,
                parts: SignedParts {
                    parts: numbers
                        .iter()
                        .map(|&number| SignedPart {
                            number,
                            url: "u".into(),
                            headers: FormFields(vec![]),
                        })
                        .collect(),
                    expires_at: "2100-01-01T00:00:00Z".into(),
                },
            },
        );
        let sends = commands
            .iter()
            .filter(|c| {
                matches!(
                    c,
                    Command::Part {
                        command: PartCommand::Send { .. },
                        ..
                    }
                )
            })
            .count();
        assert_eq!(sends, 2, "{commands:?}");
        assert_eq!(j.queue.entry(1).unwrap().status, Status::Uploading);
        // Progress of the parts in flight adds up; a failed one takes back only its own bytes.
        let try_of = |number: u32| {
            commands
                .iter()
                .find_map(|c| match c {
                    Command::Part {
                        command:
                            PartCommand::Send {
                                number: n, try_, ..
                            },
                        ..
                    } if *n == number => Some(*try_),
                    _ => None,
                })
                .unwrap()
        };
        for number in [1, 2] {
            j.queue.update(
                4.0,
                Event::PartProgress {
                    id: 1,
                    number,
                    try_: try_of(number),
                    sent: 4 * MIB,
                },
            );
        }
        assert_eq!(j.queue.entry(1).unwrap().sent, 8 * MIB);
        let commands = j.queue.update(
            5.0,
            Event::PartFailed {
                id: 1,
                number: 2,
                try_: try_of(2),
                cause: TransportCause::Dropped,
            },
        );
        let entry = j.queue.entry(1).unwrap();
        assert_eq!(entry.sent, 4 * MIB);
        assert_eq!(entry.status, Status::Uploading);
        assert_eq!(
            entry.failure.as_ref().unwrap().code,
            FailureCode::Page(PageCode::Network)
        );
        assert!(
            commands
                .iter()
                .any(|c| matches!(c, Command::RetryAfter { id: 1, .. }))
        );
        // A late answer to the failed try changes nothing.
        j.queue.update(
            6.0,
            Event::PartAnswered {
                id: 1,
                number: 2,
                try_: try_of(2),
                status: 200,
                body: String::new(),
            },
        );
        assert_eq!(j.queue.entry(1).unwrap().sent, 4 * MIB);
    }

    #[test]
    fn a_failed_part_is_retried_alone_with_a_fresh_url() {
        let mut j = Journey::multipart(true, 2);
        let commands = added(&mut j.queue, 1.0, 1);
        let mut failed_once = false;
        let mut waits = Vec::new();
        j.drive(2.0, commands, &mut |command| match command {
            Command::Part {
                id,
                command:
                    PartCommand::Send {
                        number: 3, try_, ..
                    },
                ..
            } if !failed_once => {
                failed_once = true;
                Some(vec![Event::PartFailed {
                    id: *id,
                    number: 3,
                    try_: *try_,
                    cause: TransportCause::Unreachable,
                }])
            }
            Command::RetryAfter { id, attempt, .. } => {
                waits.push((*id, *attempt));
                None
            }
            _ => None,
        });
        // Everything else went (its progress cleared the word about the failure); part 3
        // waits for its timer.
        let entry = j.queue.entry(1).unwrap();
        assert_eq!(entry.status, Status::Uploading);
        assert_eq!(entry.failure, None);
        assert_eq!(waits, vec![(1, 1)]);
        let commands = j
            .queue
            .update(60_000.0, Event::RetryDue { id: 1, attempt: 1 });
        j.drive(60_000.0, commands, &mut no_fault);
        let entry = j.queue.entry(1).unwrap();
        assert_eq!(entry.status, Status::Done);
        assert_eq!(entry.attempt, 1, "the file itself never restarted");
        assert_eq!(j.sends, [(1, 1), (2, 1), (3, 2), (4, 1), (5, 1)].into());
        // Part 3 was signed twice (a fresh URL), hashed once.
        assert_eq!(j.signed.iter().filter(|&&n| n == 3).count(), 2);
        assert_eq!(j.hashed.iter().filter(|&&n| n == 3).count(), 1);
    }

    #[test]
    fn during_an_outage_only_the_parts_in_flight_are_tried_again() {
        let mut j = Journey::multipart(false, 2);
        let commands = added(&mut j.queue, 0.0, 1);
        let mut failed = HashSet::new();
        let mut down = |command: &Command| match command {
            Command::Part {
                id,
                command: PartCommand::Send { number, try_, .. },
                ..
            } => {
                failed.insert(*number);
                Some(vec![Event::PartFailed {
                    id: *id,
                    number: *number,
                    try_: *try_,
                    cause: TransportCause::Unreachable,
                }])
            }
            _ => None,
        };
        j.drive(0.0, commands, &mut down);
        // A minute of failures: the retries go to the same two parts, no new one starts.
        let mut now = 0.0;
        while now < 60_000.0 {
            now += 1_000.0;
            let commands = j.queue.update(now, Event::Tick);
            j.drive(now, commands, &mut down);
        }
        assert_eq!(failed, HashSet::from([1, 2]));
        assert!(j.sends[&1] > 2 && !j.sends.contains_key(&3));
        // Storage is back: everything goes, each part stored once.
        let commands = j.queue.update(now + 1.0, Event::Online);
        j.drive(now + 1.0, commands, &mut no_fault);
        assert_eq!(j.queue.entry(1).unwrap().status, Status::Done);
        assert_eq!(j.sends[&3], 1);
    }

    #[test]
    fn an_expired_part_url_is_signed_again_at_once() {
        let mut j = Journey::multipart(false, 1);
        let commands = added(&mut j.queue, 1.0, 1);
        let mut expired_once = false;
        j.drive(2.0, commands, &mut |command| match command {
            Command::Part {
                id,
                command: PartCommand::Send { number: 2, try_, .. },
                ..
            } if !expired_once => {
                expired_once = true;
                Some(vec![Event::PartAnswered {
                    id: *id,
                    number: 2,
                    try_: *try_,
                    status: 403,
                    body: "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>".into(),
                }])
            }
            _ => None,
        });
        assert_eq!(j.queue.entry(1).unwrap().status, Status::Done);
        assert_eq!(j.sends[&2], 2);
    }

    /// Answers a part sign request with URLs signed on the signer's clock (`x-amz-date` at 0,
    /// expiring after `lifetime_s`), noting the parts in `signed`; other commands are left to
    /// the j.
    fn sign_at_zero(
        command: &Command,
        signed: &mut Vec<u32>,
        lifetime_s: u32,
    ) -> Option<Vec<Event>> {
        let Command::Part {
            id,
            attempt,
            command: PartCommand::Sign(request),
        } = command
        else {
            return None;
        };
        signed.extend(request.parts.iter().map(|p| p.number));
        assert!(
            signed.len() <= 20,
            "part URLs signed again and again: {signed:?}"
        );
        let headers = FormFields(vec![("x-amz-date".into(), "19700101T000000Z".into())]);
        let expires_at = format!(
            "1970-01-01T00:{:02}:{:02}Z",
            lifetime_s / 60,
            lifetime_s % 60
        );
        Some(vec![parts_signed(
            *id, *attempt, request, headers, expires_at,
        )])
    }

    #[test]
    fn part_urls_live_their_lifetime_on_a_clock_hours_ahead_or_a_short_one() {
        // The page's clock nine hours ahead of the signer's (ten-minute URLs), then in step with
        // it but with URLs that live 50 s (less than the minute kept in hand): every part is sent
        // once, each URL signed once. Compared as written, both signed the same parts forever.
        for (now, lifetime_s) in [(9.0 * 3_600_000.0, 600), (1.0, 50)] {
            let mut j = Journey::multipart(false, 2);
            let commands = added(&mut j.queue, now, 1);
            let mut signed = Vec::new();
            j.drive(now, commands, &mut |command| {
                sign_at_zero(command, &mut signed, lifetime_s)
            });
            assert_eq!(j.queue.entry(1).unwrap().status, Status::Done, "{now}");
            assert_eq!(j.sends, (1..=5).map(|n| (n, 1)).collect());
            signed.sort();
            assert_eq!(signed, vec![1, 2, 3, 4, 5]);
        }
    }

    #[test]
    fn a_part_url_past_its_lifetime_on_the_pages_clock_is_signed_again() {
        // Signed at 9 h on the page's clock with ten minutes to live: at 9 h + 9 min (a minute
        // left) it is no longer used.
        let start = 9.0 * 3_600_000.0;
        let mut j = Journey::multipart(false, 1);
        let commands = added(&mut j.queue, start, 1);
        let mut signed = Vec::new();
        j.drive(start, commands, &mut |command| match command {
            // Part 1 stays in flight: the others wait, signed ahead.
            Command::Part {
                command: PartCommand::Send { number: 1, .. },
                ..
            } => Some(vec![]),
            _ => sign_at_zero(command, &mut signed, 600),
        });
        let before = signed.len();
        assert!(before >= 2, "{signed:?}");
        let later = start + 9.0 * 60_000.0;
        let commands = j.queue.update(later, Event::Tick);
        j.drive(later, commands, &mut |command| {
            sign_at_zero(command, &mut signed, 600)
        });
        assert!(
            signed.len() > before,
            "the stale URLs were used: {signed:?}"
        );
    }

    #[test]
    fn a_part_refused_as_expired_again_and_again_waits_between_tries() {
        let mut j = Journey::multipart(false, 1);
        let commands = added(&mut j.queue, 0.0, 1);
        let denied = |command: &Command| match command {
            Command::Part {
                id,
                command: PartCommand::Send { number, try_, .. },
                ..
            } => Some(vec![Event::PartAnswered {
                id: *id,
                number: *number,
                try_: *try_,
                status: 403,
                body: "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
                    .into(),
            }]),
            _ => None,
        };
        let mut fault = denied;
        j.drive(0.0, commands, &mut fault);
        // Sent twice at once (the first refusal may be a mere expiry), then it waits.
        assert_eq!(j.sends[&1], 2);
        let mut now = 0.0;
        while now < 60_000.0 {
            now += 1_000.0;
            let commands = j.queue.update(now, Event::Tick);
            j.drive(now, commands, &mut fault);
        }
        assert!(j.sends[&1] < 12, "{} tries in a minute", j.sends[&1]);
    }

    #[test]
    fn a_refused_part_fails_the_file_and_retry_sends_only_what_is_missing() {
        let mut j = Journey::multipart(true, 1);
        let commands = added(&mut j.queue, 1.0, 1);
        let mut refused_once = false;
        j.drive(2.0, commands, &mut |command| match command {
            Command::Part {
                id,
                command:
                    PartCommand::Send {
                        number: 4, try_, ..
                    },
                ..
            } if !refused_once => {
                refused_once = true;
                Some(vec![Event::PartAnswered {
                    id: *id,
                    number: 4,
                    try_: *try_,
                    status: 400,
                    body: "<Error><Code>BadDigest</Code><Message>x</Message></Error>".into(),
                }])
            }
            _ => None,
        });
        let entry = j.queue.entry(1).unwrap();
        assert_eq!(entry.status, Status::Failed);
        assert_eq!(
            entry.failure.as_ref().unwrap().code,
            FailureCode::Store(StoreCode::BadDigest)
        );
        assert_eq!(entry.sent, 24 * MIB, "parts 1-3 stay stored");
        let commands = j.queue.update(3.0, Event::Retry(1));
        j.drive(3.0, commands, &mut no_fault);
        let entry = j.queue.entry(1).unwrap();
        assert_eq!(entry.status, Status::Done);
        assert_eq!(j.sends, [(1, 1), (2, 1), (3, 1), (4, 2), (5, 1)].into());
        // The part was hashed again (the file may have changed), the same upload completed.
        assert_eq!(j.hashed.iter().filter(|&&n| n == 4).count(), 2);
        assert_eq!(j.count(|c| matches!(c, Command::CreateMultipart { .. })), 1);
    }

    #[test]
    fn a_part_whose_file_can_no_longer_be_read_fails_the_file_at_once_keeping_the_parts_stored() {
        let mut j = Journey::multipart(true, 1);
        let commands = added(&mut j.queue, 1.0, 1);
        let mut unreadable = |command: &Command| match command {
            Command::Part {
                id,
                command:
                    PartCommand::Send {
                        number: 4, try_, ..
                    },
                ..
            } => Some(vec![Event::PartFailed {
                id: *id,
                number: 4,
                try_: *try_,
                cause: TransportCause::Dropped,
            }]),
            // The file read again after the failure: the browser can no longer read it.
            Command::CheckFile { id } => Some(vec![Event::FileUnreadable { id: *id }]),
            _ => None,
        };
        j.drive(2.0, commands, &mut unreadable);
        let entry = j.queue.entry(1).unwrap();
        assert_eq!(entry.status, Status::Failed);
        assert_eq!(
            entry.failure.as_ref().unwrap().code,
            FailureCode::Page(PageCode::FileUnreadable)
        );
        assert_eq!(j.sends[&4], 1, "not sent again");
        // Its retry timer, set before the check answered, changes nothing.
        let attempt = j.queue.entry(1).unwrap().attempt;
        let commands = j.queue.update(4.0, Event::RetryDue { id: 1, attempt });
        assert!(commands.is_empty(), "{commands:?}");
        assert!(
            !j.seen
                .iter()
                .any(|c| matches!(c, Command::AbortMultipart { .. }))
        );
        // The file put back as it was: Retry sends only what is missing, into the same upload.
        let commands = j.queue.update(3.0, Event::Retry(1));
        j.drive(3.0, commands, &mut no_fault);
        assert_eq!(j.queue.entry(1).unwrap().status, Status::Done);
        assert_eq!(j.count(|c| matches!(c, Command::CreateMultipart { .. })), 1);
    }

    #[test]
    fn a_stalled_part_has_the_file_read_again_and_an_unreadable_file_fails_at_once() {
        let mut j = Journey::multipart(false, 1);
        let commands = added(&mut j.queue, 0.0, 1);
        // Every part's request hangs (as Firefox and WebKit let one of a deleted file hang).
        j.drive(0.0, commands, &mut |command| match command {
            Command::Part {
                command: PartCommand::Send { .. },
                ..
            } => Some(vec![]),
            _ => None,
        });
        let commands = j.queue.update(STALL_MS + 1_000.0, Event::Tick);
        assert_eq!(
            commands
                .iter()
                .filter(|c| matches!(c, Command::CheckFile { id: 1 }))
                .count(),
            1,
            "one check for the file, however many parts stalled: {commands:?}"
        );
        let commands = j
            .queue
            .update(STALL_MS + 1_100.0, Event::FileUnreadable { id: 1 });
        assert!(commands.contains(&Command::StopRequests { id: 1 }));
        let entry = j.queue.entry(1).unwrap();
        assert_eq!(entry.status, Status::Failed);
        assert_eq!(
            entry.failure.as_ref().unwrap().code,
            FailureCode::Page(PageCode::FileUnreadable)
        );
    }

    #[test]
    fn parts_failing_for_five_minutes_fail_the_file() {
        let mut j = Journey::multipart(false, 1);
        let commands = added(&mut j.queue, 0.0, 1);
        let mut now = 0.0;
        let mut fail = |command: &Command| match command {
            Command::Part {
                id,
                command: PartCommand::Send { number, try_, .. },
                ..
            } => Some(vec![Event::PartFailed {
                id: *id,
                number: *number,
                try_: *try_,
                cause: TransportCause::Unreachable,
            }]),
            _ => None,
        };
        j.drive(now, commands, &mut fail);
        while j.queue.entry(1).unwrap().status == Status::Uploading && now < 600_000.0 {
            now += 10_000.0;
            let commands = j.queue.update(now, Event::Tick);
            j.drive(now, commands, &mut fail);
        }
        let entry = j.queue.entry(1).unwrap();
        assert_eq!(entry.status, Status::Failed);
        assert!(
            (RETRY_WINDOW_MS..RETRY_WINDOW_MS + 40_000.0).contains(&now),
            "{now}"
        );
        assert_eq!(
            entry.failure.as_ref().unwrap().code,
            FailureCode::Page(PageCode::StoreUnreachable)
        );
    }

    #[test]
    fn a_stalled_part_is_stopped_and_sent_again() {
        let mut j = Journey::multipart(false, 1);
        let commands = added(&mut j.queue, 0.0, 1);
        let mut stalled_once = false;
        j.drive(0.0, commands, &mut |command| match command {
            Command::Part {
                command: PartCommand::Send { number: 1, .. },
                ..
            } if !stalled_once => {
                stalled_once = true;
                Some(vec![])
            }
            _ => None,
        });
        assert_eq!(j.queue.entry(1).unwrap().status, Status::Uploading);
        // Ticks do not stall it while it is young, then it is stopped.
        assert!(j.queue.update(10_000.0, Event::Tick).is_empty());
        let commands = j.queue.update(31_000.0, Event::Tick);
        assert!(commands.contains(&Command::AbortPart { id: 1, number: 1 }));
        j.drive(31_000.0, commands, &mut no_fault);
        let commands = j.queue.update(70_000.0, Event::Tick);
        j.drive(70_000.0, commands, &mut no_fault);
        assert_eq!(j.queue.entry(1).unwrap().status, Status::Done);
        assert_eq!(j.sends[&1], 2);
    }

    #[test]
    fn pause_stops_every_part_and_resume_sends_only_the_rest() {
        let mut j = Journey::multipart(false, 2);
        let commands = added(&mut j.queue, 0.0, 1);
        let mut held = Vec::new();
        // Parts 3 and 4 hang in flight.
        j.drive(0.0, commands, &mut |command| match command {
            Command::Part {
                command: PartCommand::Send { number, .. },
                ..
            } if *number >= 3 => {
                held.push(*number);
                Some(vec![])
            }
            _ => None,
        });
        assert_eq!(held, vec![3, 4]);
        assert!(j.queue.entry(1).unwrap().can_pause());
        let commands = j.queue.update(1.0, Event::Pause(1));
        assert!(commands.contains(&Command::StopRequests { id: 1 }));
        let entry = j.queue.entry(1).unwrap();
        assert_eq!(entry.status, Status::Paused);
        assert_eq!(entry.sent, 16 * MIB);
        // A paused file never stalls, fails or frees its parts.
        assert!(j.queue.update(600_000.0, Event::Tick).is_empty());
        let commands = j.queue.update(600_001.0, Event::Resume(1));
        j.drive(600_001.0, commands, &mut no_fault);
        assert_eq!(j.queue.entry(1).unwrap().status, Status::Done);
        assert_eq!(j.sends, [(1, 1), (2, 1), (3, 2), (4, 2), (5, 1)].into());
    }

    #[test]
    fn an_upload_another_tab_took_over_stops_here_and_is_never_aborted() {
        let mut j = Journey::multipart(false, 2);
        let commands = added(&mut j.queue, 0.0, 1);
        // Parts 3 and 4 hang in flight (the page went into the back-forward cache).
        j.drive(0.0, commands, &mut |command| match command {
            Command::Part {
                command: PartCommand::Send { number, .. },
                ..
            } if *number >= 3 => Some(vec![]),
            _ => None,
        });
        // And another upload listed as unfinished (from before a reload).
        let other = ResumeRecord {
            upload_id: "up-other".into(),
            ..record()
        };
        let commands = j.queue.update(
            1.0,
            Event::Unfinished {
                records: vec![(100, other)],
            },
        );
        j.drive(1.0, commands, &mut no_fault);
        assert_eq!(j.queue.entry(100).unwrap().status, Status::Unfinished);

        // Shown again from the back-forward cache: both uploads' locks are claimed again.
        let mut claims = j.queue.update(2.0, Event::Restored);
        claims.sort_by_key(|c| format!("{c:?}"));
        assert_eq!(
            claims,
            ["up-1", "up-other"].map(|u| Command::Claim {
                upload_id: u.into()
            })
        );
        // Another tab holds them. A lock this tab never held, or an upload it no longer has:
        // nothing changes.
        assert!(
            j.queue
                .update(
                    2.0,
                    Event::HandedOver {
                        upload_id: "up-unknown".into()
                    }
                )
                .is_empty()
        );
        let commands = j.queue.update(
            2.0,
            Event::HandedOver {
                upload_id: "up-1".into(),
            },
        );
        // Its end is the other tab's to tell the embedding site, not this one's.
        assert_eq!(commands, vec![Command::StopRequests { id: 1 }]);
        let entry = j.queue.entry(1).unwrap();
        assert_eq!(entry.status, Status::Refused);
        assert_eq!(
            entry.failure.as_ref().map(|f| f.code.clone()),
            Some(FailureCode::Page(PageCode::OtherTab))
        );
        assert!(!Status::offers_retry(entry));
        // The listed one too; and removing either row leaves S3's upload to the other tab.
        let commands = j.queue.update(
            3.0,
            Event::HandedOver {
                upload_id: "up-other".into(),
            },
        );
        assert!(commands.is_empty());
        assert_eq!(j.queue.entry(100).unwrap().status, Status::Refused);
        for id in [1, 100] {
            let commands = j.queue.update(4.0, Event::Remove(id));
            assert_eq!(commands, vec![Command::Forget { id }]);
        }
        // Nothing of it runs on in this tab.
        assert!(j.queue.update(900_000.0, Event::Tick).is_empty());
    }

    #[test]
    fn cancel_aborts_the_upload_even_one_whose_create_answers_late() {
        let mut j = Journey::multipart(false, 2);
        let commands = added(&mut j.queue, 0.0, 1);
        j.drive(0.0, commands, &mut |command| match command {
            Command::Part {
                command: PartCommand::Send { number: 2, .. },
                ..
            } => Some(vec![]),
            _ => None,
        });
        let commands = j.queue.update(1.0, Event::Cancel(1));
        assert!(commands.contains(&Command::StopRequests { id: 1 }));
        assert!(commands.contains(&Command::AbortMultipart {
            upload_id: "up-1".into(),
            token: "v1.t.s".into()
        }));
        assert_eq!(j.queue.entry(1).unwrap().status, Status::Cancelled);
        // Cancelled while `create` was on its way: the upload it answers is aborted too.
        let commands = j.queue.update(2.0, Event::Retry(1));
        assert!(matches!(
            commands[..],
            [Command::CreateMultipart { attempt: 2, .. }]
        ));
        j.queue.update(3.0, Event::Cancel(1));
        let commands = j.queue.update(
            4.0,
            Event::Created {
                id: 1,
                attempt: 2,
                upload: upload(),
            },
        );
        assert_eq!(
            commands,
            vec![Command::AbortMultipart {
                upload_id: "up-1".into(),
                token: "v1.t.s".into()
            }]
        );
    }

    #[test]
    fn a_lost_complete_answer_ends_done_not_failed() {
        let mut j = Journey::multipart(false, 4);
        let commands = added(&mut j.queue, 0.0, 1);
        let mut completes = 0;
        j.drive(0.0, commands, &mut |command| match command {
            Command::CompleteMultipart { id, attempt, .. } => {
                completes += 1;
                Some(vec![Event::SignFailed {
                    id: *id,
                    attempt: *attempt,
                    error: if completes == 1 {
                        SignError::Unreachable {
                            message: "Failed to fetch".into(),
                        }
                    } else {
                        SignError::Refused {
                            code: ErrorCode::NoSuchUpload,
                            message: "gone".into(),
                        }
                    },
                }])
            }
            _ => None,
        });
        assert_eq!(j.queue.entry(1).unwrap().status, Status::Retrying);
        let attempt = j.queue.entry(1).unwrap().attempt;
        let commands = j.queue.update(5_000.0, Event::RetryDue { id: 1, attempt });
        let mut completes = 1;
        j.drive(5_000.0, commands, &mut |command| match command {
            Command::CompleteMultipart { id, attempt, .. } => {
                completes += 1;
                Some(vec![Event::SignFailed {
                    id: *id,
                    attempt: *attempt,
                    error: SignError::Refused {
                        code: ErrorCode::NoSuchUpload,
                        message: "gone".into(),
                    },
                }])
            }
            _ => None,
        });
        assert_eq!(completes, 2);
        let entry = j.queue.entry(1).unwrap();
        assert_eq!(entry.status, Status::Done);
        assert_eq!(entry.key.as_deref(), Some("uploads/id/big.iso"));
    }

    fn record() -> ResumeRecord {
        let upload = upload();
        ResumeRecord {
            upload_id: upload.upload_id,
            key: upload.key,
            token: upload.token,
            expires_at: upload.expires_at,
            part_size: upload.part_size,
            parts: upload.parts,
            file: big_file(),
        }
    }

    #[test]
    fn after_a_reload_the_same_file_sends_only_the_missing_parts() {
        let mut j = Journey::multipart(true, 2);
        let commands = j.queue.update(
            1.0,
            Event::Unfinished {
                records: vec![(100, record())],
            },
        );
        assert!(matches!(commands[..], [Command::ListParts { id: 100, .. }]));
        j.drive(1.0, commands, &mut no_fault);
        let unfinished = j.queue.entry(100).unwrap();
        assert_eq!(unfinished.status, Status::Unfinished);
        assert_eq!(unfinished.sent, 16 * MIB, "S3 holds parts 1 and 2");
        assert!(!unfinished.status.is_active());
        // Picked again: recognised, not a duplicate, the stored parts checked first.
        let commands = added(&mut j.queue, 2.0, 1);
        j.drive(2.0, commands, &mut no_fault);
        let entry = j.queue.entry(1).unwrap();
        assert_eq!(entry.status, Status::Done);
        assert!(
            j.queue.entry(100).is_none(),
            "the unfinished row became this one"
        );
        assert_eq!(j.sends, [(3, 1), (4, 1), (5, 1)].into());
        assert_eq!(j.hashed[..2], [1, 2]);
        assert_eq!(j.count(|c| matches!(c, Command::CreateMultipart { .. })), 0);
        assert_eq!(j.count(|c| matches!(c, Command::Forget { id: 100 })), 1);
    }

    #[test]
    fn an_unfinished_upload_with_no_part_stored_is_taken_over_whole() {
        // Its tab closed before the first part landed: S3 lists none. Picked again, the file
        // sends every part into that upload, and the unfinished row goes (it is this one now).
        let mut j = Journey::multipart(true, 2);
        let mut nothing_stored = |command: &Command| match command {
            Command::ListParts { id, attempt, .. } => Some(vec![Event::Listed {
                id: *id,
                attempt: *attempt,
                parts: ListedParts { parts: vec![] },
            }]),
            _ => None,
        };
        let commands = j.queue.update(
            1.0,
            Event::Unfinished {
                records: vec![(100, record())],
            },
        );
        j.drive(1.0, commands, &mut nothing_stored);
        assert_eq!(j.queue.entry(100).unwrap().status, Status::Unfinished);
        assert_eq!(j.queue.entry(100).unwrap().sent, 0);
        let commands = added(&mut j.queue, 2.0, 1);
        j.drive(2.0, commands, &mut nothing_stored);
        assert_eq!(j.queue.entry(1).unwrap().status, Status::Done);
        assert!(
            j.queue.entry(100).is_none(),
            "the unfinished row is still listed"
        );
        assert_eq!(j.sends, (1..=5).map(|n| (n, 1)).collect());
        assert_eq!(j.count(|c| matches!(c, Command::CreateMultipart { .. })), 0);
        assert_eq!(j.count(|c| matches!(c, Command::Forget { id: 100 })), 1);
    }

    #[test]
    fn another_file_with_the_same_name_size_and_date_is_not_merged() {
        let mut j = Journey::multipart(true, 2);
        j.other_file = true;
        let commands = j.queue.update(
            1.0,
            Event::Unfinished {
                records: vec![(100, record())],
            },
        );
        j.drive(1.0, commands, &mut no_fault);
        let commands = added(&mut j.queue, 2.0, 1);
        j.drive(2.0, commands, &mut no_fault);
        // Uploaded as a new upload of its own; the unfinished one is still there, untouched.
        assert_eq!(j.queue.entry(1).unwrap().status, Status::Done);
        assert_eq!(j.count(|c| matches!(c, Command::CreateMultipart { .. })), 1);
        assert_eq!(j.queue.entry(100).unwrap().status, Status::Unfinished);
        assert_eq!(j.sends, (1..=5).map(|n| (n, 1)).collect());
        assert_eq!(j.count(|c| matches!(c, Command::AbortMultipart { .. })), 0);
    }

    #[test]
    fn old_or_gone_unfinished_uploads_are_dropped_with_a_word() {
        let mut j = Journey::multipart(true, 2);
        let old = ResumeRecord {
            expires_at: "2020-01-01T00:00:00Z".into(),
            upload_id: "old".into(),
            ..record()
        };
        let commands = j.queue.update(
            1_700_000_000_000.0,
            Event::Unfinished {
                records: vec![(100, old), (101, record())],
            },
        );
        assert!(commands.contains(&Command::ForgetRecord {
            upload_id: "old".into()
        }));
        let entry = j.queue.entry(100).unwrap();
        assert_eq!(entry.status, Status::Failed);
        assert_eq!(
            entry.failure.as_ref().unwrap().code,
            FailureCode::Page(PageCode::ResumeExpired)
        );
        // S3 dropped the other (the lifecycle rule): said, and forgotten.
        let commands = j.queue.update(
            1_700_000_000_001.0,
            Event::SignFailed {
                id: 101,
                attempt: 1,
                error: SignError::Refused {
                    code: ErrorCode::NoSuchUpload,
                    message: "gone".into(),
                },
            },
        );
        assert!(commands.contains(&Command::ForgetRecord {
            upload_id: "up-1".into()
        }));
        let gone = j.queue.entry(101).unwrap();
        assert_eq!(gone.status, Status::Failed);
        // S3 cannot say whether it was completed (its page closing during `complete`) or
        // cleared: the row says both, and keeps the key to look under.
        assert_eq!(
            gone.failure.as_ref().unwrap().code,
            FailureCode::Page(PageCode::ResumeGone)
        );
        assert_eq!(gone.key.as_deref(), Some(upload().key.as_str()));
        // Removing an unfinished upload aborts it in S3.
        let mut j = Journey::multipart(true, 2);
        j.queue.update(
            1.0,
            Event::Unfinished {
                records: vec![(100, record())],
            },
        );
        let commands = j.queue.update(2.0, Event::Remove(100));
        assert!(commands.contains(&Command::AbortMultipart {
            upload_id: "up-1".into(),
            token: "v1.t.s".into()
        }));
    }

    #[test]
    fn big_and_small_files_together_stay_within_the_browsers_six_requests() {
        let mut j = Journey::multipart(false, 4);
        let mut sending = HashSet::new();
        let mut most = 0;
        let mut work: VecDeque<Command> = j
            .queue
            .update(
                0.0,
                Event::Added {
                    earlier: vec![],
                    files: vec![
                        (1, big_file()),
                        (2, big_file_named("b.iso")),
                        (3, small("s1")),
                        (4, small("s2")),
                    ],
                },
            )
            .into();
        let mut signed_forms = Vec::new();
        // Everything is answered at once except the uploads themselves, which stay in flight.
        while let Some(command) = work.pop_front() {
            let events = match &command {
                Command::CreateMultipart { id, attempt, .. } => vec![Event::Created {
                    id: *id,
                    attempt: *attempt,
                    upload: MultipartUpload {
                        upload_id: format!("up-{id}"),
                        ..upload()
                    },
                }],
                Command::Part {
                    id,
                    attempt,
                    command: PartCommand::Sign(request),
                } => vec![parts_signed(
                    *id,
                    *attempt,
                    request,
                    FormFields(vec![]),
                    "2100-01-01T00:00:00Z".into(),
                )],
                Command::Part {
                    id,
                    command: PartCommand::Send { number, .. },
                    ..
                } => {
                    sending.insert((*id, *number));
                    vec![]
                }
                Command::Sign { id, attempt, .. } => {
                    signed_forms.push(*id);
                    vec![Event::Signed {
                        id: *id,
                        attempt: *attempt,
                        response: SignResponse {
                            method: "POST".into(),
                            url: "http://s3".into(),
                            key: format!("uploads/x/{id}"),
                            fields: FormFields(vec![]),
                            expires_at: "2100-01-01T00:00:00Z".into(),
                            token: String::new(),
                        },
                    }]
                }
                Command::Upload { id, .. } => {
                    sending.insert((*id, 0));
                    vec![]
                }
                _ => vec![],
            };
            most = most.max(sending.len());
            for event in events {
                work.extend(j.queue.update(1.0, event));
            }
        }
        assert_eq!(most, MAX_STORAGE_REQUESTS, "{sending:?}");
        // The first big file has its four parts; the rest share what is left.
        assert_eq!(sending.iter().filter(|(id, _)| *id == 1).count(), 4);
    }

    fn big_file_named(name: &str) -> FileInfo {
        FileInfo {
            name: name.into(),
            ..big_file()
        }
    }

    fn small(name: &str) -> FileInfo {
        FileInfo {
            name: name.into(),
            size: MIB,
            content_type: "application/octet-stream".into(),
            last_modified: 1,
        }
    }

    #[test]
    fn small_files_still_go_as_one_post() {
        let mut j = Journey::multipart(true, 2);
        let commands = j.queue.update(
            1.0,
            Event::Added {
                earlier: vec![],
                files: vec![(
                    1,
                    FileInfo {
                        size: 16 * MIB,
                        ..big_file()
                    },
                )],
            },
        );
        // One POST: its MD5 first (part 0, the whole file), then the sign request.
        assert!(matches!(
            commands[..],
            [Command::Part {
                command: PartCommand::Hash {
                    number: WHOLE_FILE,
                    ..
                },
                ..
            }]
        ));
        let commands = j.queue.update(
            2.0,
            Event::PartHashed {
                id: 1,
                number: WHOLE_FILE,
                md5: [3; 16],
            },
        );
        assert!(matches!(commands[..], [Command::Sign { .. }]));
        assert!(!j.queue.entry(1).unwrap().multipart);
    }
}
