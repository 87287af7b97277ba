//! The upload queue as a pure state machine: `Queue::update(now, event) -> commands`.
//!
//! Each file goes `queued -> signing -> uploading -> finalizing -> done | failed | cancelled`, or is
//! `refused` by the rules before any request, or waits in `retrying` before another try. The browser
//! edge runs the commands (sign, upload, abort, set a timer) and reports back with events. Events
//! carry the attempt they belong to, so a late answer to an aborted attempt is ignored, and every
//! event comes with the time it happened (`now`), so no decision uses a clock a hidden tab's
//! throttled timers left a minute behind.
//!
//! Policy: at most `concurrency` files sign or upload at once (the `signing`, `uploading` and
//! `finalizing` ones). While they do, up to `concurrency` of the files still `queued` are signed
//! ahead, so a freed slot starts uploading at once instead of waiting for the signer: with many
//! small files the signer's round trip was half of each file's time. A form signed ahead is used
//! only until a minute before the `expiresAt` the signer gave it (`SIGNED_AHEAD_MARGIN_MS`), else
//! the file is signed again when its turn comes,
//! so no policy expires in the queue; a failed sign-ahead is forgotten and the file is signed in
//! its turn, where failures are reported.
//!
//! Failures: network errors, timeouts and 5xx answers are transient. They are retried with
//! exponential backoff and jitter capped at `MAX_BACKOFF_MS`, at once when the browser says it is
//! online again, until the file has made no progress for `RETRY_WINDOW_MS`; only then is it
//! `failed` (with Retry). S3 refusals (4xx) are final, except a policy that expired, which is
//! signed again and retried once. Every retry sends the signer the file's upload token, so it is
//! signed for the same key: a retry after a lost answer overwrites, never duplicates. Once the
//! whole body is sent (`finalizing`) the file waits for S3's answer (a timeout scaled to its
//! size, not the stall timeout) and cannot be cancelled: S3 may already hold it.
//!
//! `update` hands each event to a named handler, then `go_on` starts what can start. The modules,
//! by job: `protocol` (the `Event`s in, the `Command`s out), `entry` (one file and its `Status`),
//! `schedule` (which files start, which are signed ahead), `single_post` and `multipart_files`
//! (what each answer means on either path), `retry` (the one retry policy), `unfinished`
//! (reloads and other tabs), `summary` (totals, and each end told once); the list's own
//! handlers (add, retry, cancel, remove) are here. One single-POST file's walk: `added`, then
//! `start_waiting` (its turn; `md5_ready` asks for its MD5 first), `signed`, `start_upload`
//! (`Command::Upload`), `progress`, `body_sent`, `answered`.

mod entry;
/// The multipart side of the queue: what each answer of a multipart file's calls and parts means.
mod multipart_files;
mod protocol;
mod retry;
mod schedule;
mod single_post;
mod summary;
mod unfinished;

use std::collections::HashSet;

use crate::upload::vec_map::VecMap;

use shared::{
    CompletedUpload, ErrorCode, FormFields, ListedParts, MultipartUpload, SignRequest,
    SignResponse, SignedParts, UploadRules,
};

pub use super::failure::{Failure, FailureCode, PageCode, StoreCode};
pub use super::file::FileInfo;
use super::multipart::{DEFAULT_PART_CONCURRENCY, Multipart, PartCommand, WHOLE_FILE};
use super::progress::{Speed, parse_utc_ms, percent, use_until_ms};
use super::resume::ResumeRecord;
use super::{digest, s3_xml};
pub use crate::upload::timing::{
    ABORT_AGAIN_MS, BACKOFF_BASE_MS, MAX_BACKOFF_MS, QUIET_THROTTLE_MS, RETRY_WINDOW_MS,
    SIGNED_AHEAD_FRESH_MS, SIGNED_AHEAD_MARGIN_MS, STALL_MS,
};

use entry::Ahead;
pub use entry::{Entry, Status};
pub use protocol::{Command, Event, SignError, Told};
use retry::{Retry, StoreRefusal, sign_failure, storage_refusal, transport_failure};
pub use retry::{TransportCause, backoff_ms, finalize_timeout_ms, next_abort_ms, transport_cause};
use single_post::{is_fresh, md5_ready, sign_command, start_upload};
pub use summary::Summary;

pub type FileId = u32;

/// Files at once: as many as the browser's connections to storage (`MAX_STORAGE_REQUESTS`), as
/// Uppy does (measured with 100 small files: four at once left storage idle a third of the time).
pub const DEFAULT_CONCURRENCY: usize = 6;
/// Requests to storage at once, all files and parts together: browsers open six connections per
/// host (S3 speaks HTTP/1.1), and a request beyond them waits in the browser's own queue, where
/// it makes no progress and would time out (four parts of a big file and four small files).
pub const MAX_STORAGE_REQUESTS: usize = 6;
/// Files signed (and hashed) ahead, per file slot: enough that a freed slot finds its form ready
/// while the next ones are still being hashed and signed, several to a request (measured with
/// 100 small files: with one per slot, uploads waited for forms and storage sat idle half the
/// time).
pub const SIGN_AHEAD_PER_SLOT: usize = 3;
/// What the browser reports for a file it knows no type for.
pub const FALLBACK_CONTENT_TYPE: &str = "application/octet-stream";

#[derive(Debug, Clone)]
pub struct Queue {
    entries: Vec<Entry>,
    /// Where each file is in `entries`: every event finds its file at once (10,000 files).
    /// Rebuilt when files leave the list (`reindex`).
    index: VecMap<FileId, usize>,
    rules: Option<UploadRules>,
    concurrency: usize,
    /// xorshift64 state for backoff jitter (seeded by the edge).
    random: u64,
    /// The time of the latest event (never goes back).
    now_ms: f64,
    /// The parts of the files going up as multipart uploads.
    multiparts: VecMap<FileId, Multipart>,
    /// Parts in flight per multipart file.
    part_concurrency: usize,
    /// Whether parts carry a signed `Content-MD5`.
    checksums: bool,
    /// A file's end was told since the list last settled: the next settling is told too.
    ends_told: bool,
    /// Why the rules are not known yet, while they are not.
    rules_failure: Option<Failure>,
}

impl Queue {
    pub fn new(concurrency: usize, seed: u64) -> Queue {
        Queue {
            entries: Vec::new(),
            index: VecMap::new(),
            rules: None,
            concurrency: concurrency.max(1),
            random: seed | 1,
            now_ms: 0.0,
            multiparts: VecMap::new(),
            part_concurrency: DEFAULT_PART_CONCURRENCY,
            checksums: true,
            ends_told: false,
            rules_failure: None,
        }
    }

    /// Parts in flight per multipart file (`config.json`'s `partConcurrency`).
    pub fn set_part_concurrency(&mut self, parts: usize) {
        self.part_concurrency = parts.max(1);
    }

    /// Whether each part's MD5 is computed and signed (`config.json`'s `checksums`).
    pub fn set_checksums(&mut self, on: bool) {
        self.checksums = on;
    }

    /// Whether files and parts are signed with their MD5s: as `config.json` says, and always
    /// when the signer requires them (its rules' `requireMd5`).
    fn md5s(&self) -> bool {
        self.checksums || self.rules.as_ref().is_some_and(|r| r.require_md5)
    }

    /// Bytes a part has sent in its current try (what the edge's failure probe asks).
    pub fn part_sent(&self, id: FileId, number: u32) -> u64 {
        self.multiparts.get(&id).map_or(0, |m| m.part_sent(number))
    }

    /// Whether none of a failed request's body went out: a part's current try (`part`), or the
    /// file's form POST while it was still sending.
    pub fn nothing_sent(&self, id: FileId, part: Option<u32>) -> bool {
        match part {
            Some(number) => self.part_sent(id, number) == 0,
            None => self
                .entry(id)
                .is_some_and(|e| e.status == Status::Uploading && e.sent == 0),
        }
    }

    /// Changes how many files may sign or upload at once (the page's `config.json` may say).
    /// Files already running keep going; new ones start only while fewer are active.
    pub fn set_concurrency(&mut self, concurrency: usize) {
        self.concurrency = concurrency.max(1);
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The ids of the files `keep` picks, in the list's order (for handlers that change them).
    fn ids_where(&self, keep: impl Fn(&Entry) -> bool) -> Vec<FileId> {
        self.entries
            .iter()
            .filter(|e| keep(e))
            .map(|e| e.id)
            .collect()
    }

    pub fn entry(&self, id: FileId) -> Option<&Entry> {
        self.index.get(&id).and_then(|&at| self.entries.get(at))
    }

    /// After files left `entries`.
    pub(super) fn reindex(&mut self) {
        self.index = self
            .entries
            .iter()
            .enumerate()
            .map(|(at, e)| (e.id, at))
            .collect();
    }

    pub fn rules(&self) -> Option<&UploadRules> {
        self.rules.as_ref()
    }

    pub fn active(&self) -> usize {
        self.entries.iter().filter(|e| e.status.is_active()).count()
    }

    /// Applies one event that happened at `now_ms` (ms since the epoch; only differences count):
    /// the event's handler, then whatever can start now (`go_on`).
    pub fn update(&mut self, now_ms: f64, event: Event) -> Vec<Command> {
        let mut commands = Vec::new();
        self.now_ms = self.now_ms.max(now_ms);
        let now_ms = self.now_ms;
        let c = &mut commands;
        match event {
            // The list
            Event::Added { files, earlier } => self.added(files, earlier, now_ms),
            Event::RulesLoaded(rules) => self.rules_loaded(rules),
            Event::RulesUnavailable(failure) => self.rules_unavailable(failure),
            Event::Cancel(id) => self.cancel_one(id, c),
            Event::CancelAll => self.cancel_all(c),
            Event::Retry(id) => self.retry(id, now_ms),
            Event::RetryAll => self.retry_all(now_ms),
            Event::SignedIn => self.signed_in(now_ms),
            Event::Remove(id) => self.remove(id, c),
            Event::ForgetAll => self.forget_all(c),
            Event::ClearFinished => self.clear_finished(c),
            // Time and the network (retry.rs)
            Event::Tick => self.tick(now_ms, c),
            Event::Online => self.online(c),
            Event::RetryDue { id, attempt } => self.retry_due(id, attempt, c),
            // A single POST (single_post.rs)
            Event::Signed {
                id,
                attempt,
                response,
            } => self.signed(id, attempt, response, now_ms, c),
            Event::SignFailed { id, attempt, error } if self.is_multipart(id) => {
                self.multipart_call_failed(id, attempt, error, c)
            }
            Event::SignFailed { id, attempt, error } => {
                self.sign_failed(id, attempt, error, now_ms, c)
            }
            Event::Progress { id, attempt, sent } => {
                // Progress frees no slot and starts nothing: its file found through the index,
                // the work is the same with 10 files or 10,000 (no scan of the list).
                self.progress(id, attempt, sent, now_ms);
                return commands;
            }
            Event::BodySent { id, attempt } => self.body_sent(id, attempt, now_ms),
            Event::Answered {
                id,
                attempt,
                status,
                body,
            } => self.answered(id, attempt, status, &body, c),
            Event::TransportFailed { id, attempt, cause } => {
                self.transport_failed(id, attempt, cause, c)
            }
            Event::PartHashed {
                id,
                number: WHOLE_FILE,
                md5,
            } => self.file_hashed(id, md5, c),
            Event::HashFailed {
                id,
                number: WHOLE_FILE,
                message,
            } => self.file_unreadable(id, message),
            Event::FileUnreadable { id } => self.file_gone(id, c),
            // A multipart file (multipart_files.rs)
            Event::Created {
                id,
                attempt,
                upload,
            } => self.created(id, attempt, upload, c),
            Event::Listed { id, attempt, parts } => self.listed(id, attempt, parts, c),
            Event::PartHashed { id, number, md5 } => self.part_hashed(id, number, md5, c),
            Event::HashFailed {
                id,
                number,
                message,
            } => self.hash_failed(id, number, message, c),
            Event::PartsSigned { id, attempt, parts } => {
                self.parts_signed(id, attempt, parts, now_ms, c)
            }
            Event::PartProgress {
                id,
                number,
                try_,
                sent,
            } => {
                self.part_progress(id, number, try_, sent);
                return commands;
            }
            Event::PartAnswered {
                id,
                number,
                try_,
                status,
                body,
            } => self.part_answered(id, number, try_, status, &body, c),
            Event::PartFailed {
                id,
                number,
                try_,
                cause,
            } => self.part_failed(id, number, try_, cause, c),
            Event::Completed {
                id,
                attempt,
                upload,
            } => self.completed(id, attempt, upload, c),
            Event::Pause(id) => self.pause(id, c),
            Event::Resume(id) => self.resume(id, now_ms),
            // Other tabs and reloads (unfinished.rs)
            Event::Restored => self.restored(c),
            Event::HandedOver { upload_id } => self.handed_over(upload_id, c),
            Event::Unfinished { records } => self.unfinished(records, c),
        }
        self.go_on(&mut commands);
        commands
    }

    /// The rules could not be loaded (they are asked for again): files wait for them, with why.
    fn rules_unavailable(&mut self, failure: Failure) {
        if self.rules.is_none() {
            for entry in &mut self.entries {
                wait_for_rules(entry, &failure);
            }
            self.rules_failure = Some(failure);
        }
    }

    /// The user's Cancel of one file, if it can be cancelled.
    fn cancel_one(&mut self, id: FileId, commands: &mut Vec<Command>) {
        if self.entry(id).is_some_and(|e| e.status.can_cancel()) {
            self.cancel(id, commands);
        }
    }

    /// Cancel every file that can be cancelled.
    fn cancel_all(&mut self, commands: &mut Vec<Command>) {
        for id in self.ids_where(|e| e.status.can_cancel()) {
            self.cancel(id, commands);
        }
    }

    /// Each failed or cancelled file's own Retry (not the duplicates held back: each of those is
    /// the user's own decision).
    fn retry_all(&mut self, now_ms: f64) {
        for id in self.ids_where(|e| e.status.can_retry()) {
            self.retry(id, now_ms);
        }
    }

    /// The user signed in (again): the files stopped for a sign-in go again.
    fn signed_in(&mut self, now_ms: f64) {
        let stopped = self.ids_where(|e| {
            e.status == Status::Failed && e.failure.as_ref().is_some_and(Failure::is_sign_in)
        });
        for id in stopped {
            self.retry(id, now_ms);
        }
    }

    /// Files picked, dropped or pasted: each listed (a second copy of one already listed is held back as a duplicate), with the upload token kept for one sent before a reload.
    fn added(
        &mut self,
        files: Vec<(FileId, FileInfo)>,
        earlier: Vec<(FileId, String)>,
        now_ms: f64,
    ) {
        // What is in the list already, looked up once per batch (10,000 files picked at
        // once compared pairwise took seconds).
        let mut present: HashSet<FileInfo> = self
            .entries
            .iter()
            .filter(|e| {
                !matches!(
                    e.status,
                    Status::Refused | Status::Cancelled | Status::Unfinished
                )
            })
            .map(|e| e.file.clone())
            .collect();
        for (id, file) in files {
            // A file picked again for an unfinished upload is that upload, not a copy.
            let duplicate = present.contains(&file) && !self.fits_unfinished(&file);
            if !duplicate {
                present.insert(file.clone());
            }
            self.add(id, file, duplicate, now_ms);
            self.adopt(id);
        }
        for (id, token) in earlier {
            if let Some(entry) = entry_at(&mut self.entries, &self.index, id)
                && entry.status == Status::Queued
                && !entry.multipart
            {
                entry.token = Some(token);
            }
        }
    }

    /// The rules arrived: files that waited for them go on, and those they refuse are refused.
    fn rules_loaded(&mut self, rules: UploadRules) {
        self.rules = Some(rules);
        self.rules_failure = None;
        for entry in &mut self.entries {
            if entry.waits_for_rules {
                entry.waits_for_rules = false;
                entry.status = Status::Queued;
                entry.failure = None;
            }
            if entry.status == Status::Queued
                && let Some(failure) = prevalidate(self.rules.as_ref(), &entry.file)
            {
                entry.status = Status::Refused;
                entry.failure = Some(failure);
            }
        }
    }

    /// The user's Retry: the file goes again (a multipart upload keeps its stored parts), unless the rules refuse it.
    fn retry(&mut self, id: FileId, now_ms: f64) {
        let rules = self.rules.clone();
        if let Some(multipart) = self.multiparts.get_mut(&id)
            && self
                .index
                .get(&id)
                .is_some_and(|&at| self.entries[at].status.can_retry())
        {
            // Parts stored stay; the rest are hashed again (the file may have changed).
            multipart.rehash();
        }
        if let Some(entry) =
            entry_at(&mut self.entries, &self.index, id).filter(|e| Status::offers_retry(e))
        {
            entry.attempt += 1;
            entry.streak = 0;
            entry.failing_since_ms = None;
            entry.re_signed_after_expiry = false;
            entry.sent = 0;
            entry.ahead = Ahead::No;
            entry.last_activity_ms = now_ms;
            match prevalidate(rules.as_ref(), &entry.file) {
                Some(failure) => {
                    entry.status = Status::Refused;
                    entry.failure = Some(failure);
                }
                None => {
                    entry.status = Status::Queued;
                    entry.failure = None;
                }
            }
            if let (None, Some(failure)) = (&rules, &self.rules_failure) {
                wait_for_rules(entry, failure);
            }
        }
    }

    /// The user removed the file from the list: its requests stop, and an unfinished multipart upload is aborted in S3.
    fn remove(&mut self, id: FileId, commands: &mut Vec<Command>) {
        if let Some(at) = self.index.get(&id).copied() {
            if self.entries[at].status.is_active() {
                commands.push(Command::StopRequests { id });
            }
            // An upload S3 holds parts of that will not be finished: none left behind.
            if self.entries[at].status != Status::Done {
                self.abort_multipart(id, commands);
            }
            self.multiparts.remove(&id);
            self.entries.remove(at);
            self.reindex();
            commands.push(Command::Forget { id });
        }
    }

    /// Sign-out, or "Forget this browser's uploads": see `Event::ForgetAll`.
    fn forget_all(&mut self, commands: &mut Vec<Command>) {
        for entry in std::mem::take(&mut self.entries) {
            if entry.status.is_active() {
                commands.push(Command::StopRequests { id: entry.id });
            }
            commands.push(Command::Forget { id: entry.id });
        }
        self.multiparts = VecMap::new();
        self.reindex();
        commands.push(Command::ForgetAllRecords);
        commands.push(Command::ForgetTokens);
    }

    /// Finished files leave the list.
    fn clear_finished(&mut self, commands: &mut Vec<Command>) {
        let multiparts = &mut self.multiparts;
        self.entries.retain(|e| {
            let keep = !e.status.is_finished();
            if !keep {
                multiparts.remove(&e.id);
                commands.push(Command::Forget { id: e.id });
            }
            keep
        });
        self.reindex();
    }

    fn add(&mut self, id: FileId, file: FileInfo, duplicate: bool, now_ms: f64) {
        let failure = prevalidate(self.rules.as_ref(), &file)
            .or_else(|| duplicate.then(|| Failure::page(PageCode::Duplicate)));
        self.index.insert(id, self.entries.len());
        self.entries.push(Entry {
            id,
            status: if failure.is_some() {
                Status::Refused
            } else {
                Status::Queued
            },
            failure,
            file,
            attempt: 1,
            key: None,
            token: None,
            sent: 0,
            speed: Speed::default(),
            etag: None,
            location: None,
            streak: 0,
            failing_since_ms: None,
            re_signed_after_expiry: false,
            last_activity_ms: now_ms,
            ahead: Ahead::No,
            multipart: false,
            md5: None,
            hashing: false,
            told: false,
            waits_for_rules: false,
        });
        if let (None, Some(failure)) = (&self.rules, &self.rules_failure)
            && let Some(entry) = self.entries.last_mut()
        {
            wait_for_rules(entry, failure);
        }
    }

    /// The entry, if this event is about its current attempt and it is in one of `states`.
    fn current(&mut self, id: FileId, attempt: u32, states: &[Status]) -> Option<&mut Entry> {
        entry_at(&mut self.entries, &self.index, id)
            .filter(|e| e.attempt == attempt && states.contains(&e.status))
    }
}

/// File `id`'s entry, through the index (a function of the two fields, so the caller may hold
/// other fields of the queue at the same time).
fn entry_at<'a>(
    entries: &'a mut [Entry],
    index: &VecMap<FileId, usize>,
    id: FileId,
) -> Option<&'a mut Entry> {
    index.get(&id).and_then(|&at| entries.get_mut(at))
}

/// What the signer is asked for: the browser's type, or the generic one when it has none.
pub fn sign_request(file: &FileInfo) -> SignRequest {
    SignRequest::new(file.name.clone(), asked_type(file), file.size)
}

/// The type the signer is asked to pin for `file`.
pub fn asked_type(file: &FileInfo) -> &str {
    if file.content_type.trim().is_empty() {
        FALLBACK_CONTENT_TYPE
    } else {
        &file.content_type
    }
}

/// The same check the signer runs, before any request.
/// A queued file waits for the rules, shown as retrying with why they are not known.
fn wait_for_rules(entry: &mut Entry, failure: &Failure) {
    if entry.status == Status::Queued || entry.waits_for_rules {
        entry.status = Status::Retrying;
        entry.failure = Some(failure.clone());
        entry.waits_for_rules = true;
    }
}

fn prevalidate(rules: Option<&UploadRules>, file: &FileInfo) -> Option<Failure> {
    let request = sign_request(file);
    rules?
        .check(&request)
        .err()
        .map(|refusal| Failure::signer(refusal.code, refusal.message))
}

#[cfg(test)]
mod harness;

#[cfg(test)]
mod tests {
    use super::harness::*;
    use super::single_post::EMPTY_MD5;
    use super::*;

    #[test]
    fn a_single_post_file_is_hashed_before_it_is_signed_and_its_md5_pinned() {
        let mut queue = Queue::new(2, 1);
        let rules = UploadRules {
            allow_empty: true,
            ..rules(1000, &["*/*"])
        };
        queue.update(0.0, Event::RulesLoaded(rules));
        let commands = queue.update(
            1.0,
            Event::Added {
                earlier: vec![],
                files: vec![
                    (1, file("a.txt", 100, "text/plain")),
                    (2, file("e.txt", 0, "text/plain")),
                ],
            },
        );
        // a.txt's MD5 is asked for (part 0: the whole file); nothing is signed without it. The
        // empty file's MD5 is known: it is signed at once.
        assert!(
            matches!(
                &commands[..],
                [Command::Part { id: 1, command: PartCommand::Hash { number: WHOLE_FILE, offset: 0, length: 100 }, .. },
                 Command::Sign { id: 2, request, .. }]
                    if request.content_md5.as_deref() == Some(EMPTY_MD5)
            ),
            "{commands:?}"
        );
        assert_eq!(queue.entry(1).unwrap().status, Status::Signing);
        // Asked once, however many events come meanwhile.
        assert!(
            queue
                .update(2.0, Event::Tick)
                .iter()
                .all(|c| !matches!(c, Command::Part { .. }))
        );
        let md5 = [0x11; 16];
        let commands = queue.update(
            3.0,
            Event::PartHashed {
                id: 1,
                number: WHOLE_FILE,
                md5,
            },
        );
        assert!(
            matches!(
                &commands[..],
                [Command::Sign { id: 1, request, .. }] if request.content_md5 == Some(digest::base64(&md5))
            ),
            "{commands:?}"
        );
        // Storage says the bytes are not the hashed ones (the file changed on disk): the file
        // fails, and Retry hashes it again, under a new key (no token).
        queue.update(
            4.0,
            Event::Signed {
                id: 1,
                attempt: 1,
                response: signed("uploads/k/a.txt"),
            },
        );
        queue.update(5.0, Event::BodySent { id: 1, attempt: 1 });
        let bad = "<Error><Code>BadDigest</Code><Message>The Content-MD5 you specified did not match what we received.</Message></Error>";
        queue.update(
            6.0,
            Event::Answered {
                id: 1,
                attempt: 1,
                status: 400,
                body: bad.into(),
            },
        );
        assert_eq!(queue.entry(1).unwrap().status, Status::Failed);
        let commands = queue.update(7.0, Event::Retry(1));
        assert!(
            matches!(
                &commands[..],
                [Command::Part {
                    id: 1,
                    command: PartCommand::Hash {
                        number: WHOLE_FILE,
                        ..
                    },
                    ..
                }]
            ),
            "{commands:?}"
        );
        let commands = queue.update(
            8.0,
            Event::PartHashed {
                id: 1,
                number: WHOLE_FILE,
                md5: [0x22; 16],
            },
        );
        assert!(
            matches!(
                &commands[..],
                [Command::Sign { id: 1, request, .. }]
                    if request.token.is_none() && request.content_md5 == Some(digest::base64(&[0x22; 16]))
            ),
            "{commands:?}"
        );
    }

    #[test]
    fn an_unreadable_file_fails_with_words_and_checksums_can_be_off() {
        let mut queue = Queue::new(2, 1);
        queue.update(0.0, Event::RulesLoaded(rules(1000, &["*/*"])));
        queue.update(
            1.0,
            Event::Added {
                earlier: vec![],
                files: vec![(1, file("gone.txt", 10, "text/plain"))],
            },
        );
        queue.update(
            2.0,
            Event::HashFailed {
                id: 1,
                number: WHOLE_FILE,
                message: "NotFoundError".into(),
            },
        );
        let entry = queue.entry(1).unwrap();
        assert_eq!(entry.status, Status::Failed);
        assert_eq!(
            entry.failure.as_ref().unwrap().code,
            FailureCode::Page(PageCode::FileUnreadable)
        );
        // A hash that arrives after Cancel signs nothing.
        queue.update(
            3.0,
            Event::Added {
                earlier: vec![],
                files: vec![(2, file("b.txt", 10, "text/plain"))],
            },
        );
        queue.update(4.0, Event::Cancel(2));
        assert!(
            queue
                .update(
                    5.0,
                    Event::PartHashed {
                        id: 2,
                        number: WHOLE_FILE,
                        md5: [1; 16]
                    }
                )
                .is_empty()
        );
        // `checksums: false` in config.json: signed at once, without an MD5.
        let mut queue = Queue::new(2, 1);
        queue.set_checksums(false);
        queue.update(0.0, Event::RulesLoaded(rules(1000, &["*/*"])));
        let commands = queue.update(
            1.0,
            Event::Added {
                earlier: vec![],
                files: vec![(1, file("a.txt", 10, "text/plain"))],
            },
        );
        assert!(
            matches!(&commands[..], [Command::Sign { request, .. }] if request.content_md5.is_none())
        );
        // Unless the signer requires MD5s (its rules' `requireMd5`): hashed first all the same.
        let mut queue = Queue::new(2, 1);
        queue.set_checksums(false);
        queue.update(
            0.0,
            Event::RulesLoaded(UploadRules {
                require_md5: true,
                ..rules(1000, &["*/*"])
            }),
        );
        let commands = queue.update(
            1.0,
            Event::Added {
                earlier: vec![],
                files: vec![(1, file("a.txt", 10, "text/plain"))],
            },
        );
        assert!(
            !commands.iter().any(|c| matches!(c, Command::Sign { .. })),
            "{commands:?}"
        );
        let commands = queue.update(
            2.0,
            Event::PartHashed {
                id: 1,
                number: WHOLE_FILE,
                md5: [0x22; 16],
            },
        );
        assert!(
            matches!(&commands[..], [Command::Sign { request, .. }] if request.content_md5 == Some(digest::base64(&[0x22; 16]))),
            "{commands:?}"
        );
    }

    #[test]
    fn signing_in_sends_again_the_files_stopped_for_it_and_no_others() {
        let mut j = Journey::new(2);
        j.add(&[
            file("a.txt", 10, "text/plain"),
            file("b.txt", 10, "text/plain"),
        ]);
        let refuse = |j: &mut Journey, id: FileId, code: ErrorCode| {
            j.send(Event::SignFailed {
                id,
                attempt: 1,
                error: SignError::Refused {
                    code,
                    message: "no".into(),
                },
            })
        };
        refuse(&mut j, 1, ErrorCode::SessionExpired);
        refuse(&mut j, 2, ErrorCode::ContentTypeNotAllowed);
        assert_eq!((j.status(1), j.status(2)), (Status::Failed, Status::Failed));
        let commands = j.send(Event::SignedIn);
        assert_eq!(j.status(1), Status::Signing);
        assert_eq!(j.status(2), Status::Failed);
        assert!(
            commands.iter().any(|c| matches!(
                c,
                Command::Sign {
                    id: 1,
                    attempt: 2,
                    ..
                }
            )),
            "{commands:?}"
        );
    }

    #[test]
    fn the_backoff_doubles_to_thirty_seconds_and_jitter_takes_up_to_half() {
        let full: Vec<u32> = (0..7).map(|streak| backoff_ms(streak, 1.0)).collect();
        assert_eq!(full, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
        assert_eq!(backoff_ms(40, 1.0), 30_000);
        assert_eq!(backoff_ms(0, 0.0), 500);
        assert_eq!(backoff_ms(5, 0.0), 15_000);
    }

    #[test]
    fn transport_failures_are_sorted_by_what_the_page_saw() {
        assert_eq!(transport_cause(false, true), TransportCause::Unreachable);
        assert_eq!(transport_cause(false, false), TransportCause::Unreachable);
        assert_eq!(transport_cause(true, true), TransportCause::Blocked);
        assert_eq!(transport_cause(true, false), TransportCause::Dropped);
        // Nothing sent: a form still sending with no byte out, or a part's try with none.
        let mut j = Journey::new(1);
        j.add(&[file("a.txt", 10, "text/plain")]);
        j.at(
            1.0,
            Event::Signed {
                id: 1,
                attempt: 1,
                response: signed("uploads/a"),
            },
        );
        assert!(j.queue.nothing_sent(1, None));
        j.at(
            2.0,
            Event::Progress {
                id: 1,
                attempt: 1,
                sent: 4,
            },
        );
        assert!(!j.queue.nothing_sent(1, None));
        assert!(
            j.queue.nothing_sent(1, Some(1)),
            "no multipart upload: no part sent"
        );
    }

    #[test]
    fn storage_refusals_are_sorted_by_what_another_try_would_do() {
        let xml = |code: &str| {
            format!("<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>m</Message></Error>")
        };
        assert!(matches!(
            storage_refusal(503, ""),
            StoreRefusal::Transient(_)
        ));
        assert!(matches!(
            storage_refusal(429, ""),
            StoreRefusal::Transient(_)
        ));
        assert!(matches!(
            storage_refusal(400, &xml("RequestTimeout")),
            StoreRefusal::Transient(_)
        ));
        assert!(matches!(
            storage_refusal(403, &xml("AccessDenied")),
            StoreRefusal::Expired(_)
        ));
        assert!(matches!(
            storage_refusal(400, &xml("ExpiredToken")),
            StoreRefusal::Expired(_)
        ));
        match storage_refusal(400, &xml("BadDigest")) {
            StoreRefusal::Final(failure) => {
                assert_eq!(failure.code, FailureCode::Store(StoreCode::BadDigest))
            }
            other => panic!("{other:?}"),
        }
        match storage_refusal(404, "not xml") {
            StoreRefusal::Final(failure) => {
                assert_eq!(failure.code, FailureCode::Store(StoreCode::Http(404)))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn success_journey() {
        let mut j = Journey::new(4);
        j.send(Event::RulesLoaded(rules(1000, &["*/*"])));
        let commands = j.add(&[file("cat.png", 100, "image/png")]);
        assert_eq!(
            commands,
            vec![Command::Sign {
                id: 1,
                attempt: 1,
                // The file's MD5 (the test edge's) goes with it: the policy pins the bytes.
                request: SignRequest {
                    content_md5: Some(digest::base64(&[7; 16])),
                    ..SignRequest::new("cat.png", "image/png", 100)
                }
            }]
        );
        assert_eq!(j.status(1), Status::Signing);
        let commands = j.at(
            0.0,
            Event::Signed {
                id: 1,
                attempt: 1,
                response: signed("uploads/a/cat.png"),
            },
        );
        // Its upload token kept first (a reload re-signs the same key), then the upload.
        assert_eq!(
            commands,
            vec![
                Command::KeepToken {
                    file: j.queue.entry(1).unwrap().file.clone(),
                    token: "token-for-uploads/a/cat.png".into(),
                },
                Command::Upload {
                    id: 1,
                    attempt: 1,
                    url: "http://127.0.0.1:9000/uploads".into(),
                    fields: FormFields(vec![("key".into(), "uploads/a/cat.png".into())]),
                }
            ]
        );
        assert_eq!(
            j.queue.entry(1).unwrap().key.as_deref(),
            Some("uploads/a/cat.png")
        );
        j.at(
            500.0,
            Event::Progress {
                id: 1,
                attempt: 1,
                sent: 40,
            },
        );
        assert_eq!(j.queue.entry(1).unwrap().percent(), 40);
        assert_eq!(j.queue.entry(1).unwrap().speed.bytes_per_second(), 80.0);
        assert_eq!(j.queue.entry(1).unwrap().seconds_left(), Some(0.75));
        j.at(700.0, Event::BodySent { id: 1, attempt: 1 });
        assert_eq!(j.status(1), Status::Finalizing);
        // All bytes sent, but 100% only once S3 said so.
        assert_eq!(j.queue.entry(1).unwrap().percent(), 99);
        assert!(!j.status(1).can_cancel());
        j.send(Event::Answered {
            id: 1,
            attempt: 1,
            status: 201,
            body: created("uploads/a/cat.png"),
        });
        let entry = j.queue.entry(1).unwrap();
        assert_eq!(entry.status, Status::Done);
        assert_eq!(entry.etag.as_deref(), Some("abc"));
        assert_eq!(entry.attempt, 1);
        assert_eq!(j.queue.summary().percent, 100);
    }

    /// Issue #20: the host learns each file's end once, and the list's once nothing is left to
    /// run; a file retried after failing is told again when it ends.
    #[test]
    fn the_host_is_told_each_end_once_and_the_list_settling() {
        let mut j = Journey::new(4);
        j.send(Event::RulesLoaded(rules(1000, &["image/*"])));
        j.add(&[
            file("a.png", 10, "image/png"),
            file("b.png", 10, "image/png"),
            file("notes.txt", 10, "text/plain"),
        ]);
        // Refused before any request: told at once; the others still run.
        assert_eq!(j.told, [Told::Failed(3)]);
        j.upload(1, 201, &created("uploads/1-1/f"));
        assert_eq!(j.told, [Told::Failed(3), Told::Done(1)]);
        j.send(Event::Tick);
        assert_eq!(j.told.len(), 2, "nothing told twice");
        // b fails for good (S3 refuses it), and with that nothing is left to run.
        j.upload(2, 400, &s3_error("EntityTooLarge", "no"));
        assert_eq!(
            j.told[2..],
            [Told::Failed(2), Told::AllDone { done: 1, failed: 2 }]
        );
        // Retried, it runs again: its new end is told, and the list settling again.
        j.send(Event::Retry(2));
        j.upload(2, 201, &created("uploads/2-2/f"));
        assert_eq!(j.status(2), Status::Done);
        assert_eq!(
            j.told[4..],
            [Told::Done(2), Told::AllDone { done: 2, failed: 1 }]
        );
        j.send(Event::Tick);
        assert_eq!(j.told.len(), 6);
    }

    #[test]
    fn refusal_before_any_request() {
        let mut j = Journey::new(4);
        j.send(Event::RulesLoaded(rules(1000, &["image/*"])));
        let commands = j.add(&[
            file("big.png", 1001, "image/png"),
            file("doc.pdf", 10, "application/pdf"),
            file("empty.png", 0, "image/png"),
        ]);
        assert!(signs(&commands).is_empty(), "{commands:?}");
        assert_eq!(j.status(1), Status::Refused);
        assert_eq!(j.code(1).as_deref(), Some("FileTooLarge"));
        assert_eq!(j.code(2).as_deref(), Some("ContentTypeNotAllowed"));
        assert_eq!(j.code(3).as_deref(), Some("EmptyFile"));
        assert!(!j.queue.entry(1).unwrap().status.can_retry());
    }

    #[test]
    fn rules_that_arrive_late_refuse_waiting_files_only() {
        let mut j = Journey::new(1);
        j.add(&[
            file("a.png", 10, "image/png"),
            file("b.pdf", 10, "application/pdf"),
        ]);
        assert_eq!(j.status(1), Status::Signing);
        assert_eq!(j.status(2), Status::Queued);
        j.send(Event::RulesLoaded(rules(1000, &["image/*"])));
        assert_eq!(j.status(1), Status::Signing);
        assert_eq!(j.status(2), Status::Refused);
    }

    /// Issue #21: files picked before the rules arrived (the moment the page appeared) wait for
    /// them: none is hashed or signed; then the rules refuse what they refuse, with no request
    /// for it, and a big file goes up in parts. While the rules cannot be loaded, the waiting
    /// files say why (a file picked meanwhile too).
    #[test]
    fn files_picked_before_the_rules_wait_for_them() {
        const MIB: u64 = 1024 * 1024;
        let mut j = Journey::without_rules(4);
        let commands = j.add(&[
            file("report.pdf", 20 * MIB, "application/pdf"),
            file("page.html", 10, "text/html"),
            file("cat.png", 10, "image/png"),
        ]);
        assert!(commands.is_empty(), "{commands:?}");
        assert!((1..=3).all(|id| j.status(id) == Status::Queued));
        let down = Failure::page_with(PageCode::SignerUnreachable, "connection refused");
        assert!(j.send(Event::RulesUnavailable(down)).is_empty());
        assert!(j.add(&[file("late.png", 10, "image/png")]).is_empty());
        for id in 1..=4 {
            assert_eq!(j.status(id), Status::Retrying);
            assert_eq!(j.code(id).as_deref(), Some("SignerUnreachable"));
        }
        assert!(j.told.is_empty(), "nothing has ended");
        let commands = j.send(Event::RulesLoaded(UploadRules {
            multipart_threshold_bytes: 8 * MIB,
            ..rules(100 * MIB, &["image/*", "application/pdf"])
        }));
        assert_eq!(j.status(2), Status::Refused);
        assert_eq!(j.code(2).as_deref(), Some("ContentTypeNotAllowed"));
        assert!(
            commands
                .iter()
                .any(|c| matches!(c, Command::CreateMultipart { id: 1, .. })),
            "{commands:?}"
        );
        assert_eq!(signs(&commands), [3, 4]);
        assert_eq!(j.told, [Told::Failed(2)]);
    }

    #[test]
    fn network_error_is_retried_with_a_fresh_signature_then_succeeds() {
        let mut j = Journey::new(4);
        j.add(&[file("a.bin", 100, "")]);
        match &j.add(&[])[..] {
            [] => {}
            other => panic!("{other:?}"),
        }
        j.at(
            0.0,
            Event::Signed {
                id: 1,
                attempt: 1,
                response: signed("uploads/k1/a.bin"),
            },
        );
        let commands = j.send(Event::TransportFailed {
            id: 1,
            attempt: 1,
            cause: TransportCause::Dropped,
        });
        assert_eq!(j.status(1), Status::Retrying);
        assert_eq!(j.code(1).as_deref(), Some(PageCode::Network.as_str()));
        let (id, attempt, delay) = retry_after(&commands).unwrap();
        assert_eq!((id, attempt), (1, 1));
        assert!((500..=1000).contains(&delay), "{delay}");
        let commands = j.send(Event::RetryDue { id: 1, attempt: 1 });
        assert_eq!(signs(&commands), vec![1]);
        assert_eq!(j.attempt(1), 2);
        // A late event from the first attempt changes nothing.
        j.send(Event::Answered {
            id: 1,
            attempt: 1,
            status: 201,
            body: created("uploads/k1/a.bin"),
        });
        assert_eq!(j.status(1), Status::Signing);
        j.upload(1, 201, &created("uploads/1-2/f"));
        let entry = j.queue.entry(1).unwrap();
        assert_eq!(entry.status, Status::Done);
        assert_eq!(entry.key.as_deref(), Some("uploads/1-2/f"));
        assert_eq!(entry.failure, None);
    }

    #[test]
    fn transient_failures_are_retried_with_capped_backoff_for_five_minutes_then_fail() {
        let mut j = Journey::new(4);
        j.add(&[file("a.bin", 100, "application/octet-stream")]);
        let mut delays = Vec::new();
        loop {
            let attempt = j.attempt(1);
            assert_eq!(j.status(1), Status::Signing);
            j.send(Event::Signed {
                id: 1,
                attempt,
                response: signed("uploads/k/a.bin"),
            });
            // S3 is down: every try fails before a byte is sent.
            let commands = j.send(Event::Answered {
                id: 1,
                attempt,
                status: 503,
                body: s3_error("ServiceUnavailable", "Please reduce your request rate."),
            });
            let Some((_, due, delay)) = retry_after(&commands) else {
                break;
            };
            assert_eq!(j.status(1), Status::Retrying);
            delays.push(delay);
            j.now += f64::from(delay);
            j.send(Event::RetryDue {
                id: 1,
                attempt: due,
            });
        }
        assert_eq!(j.status(1), Status::Failed);
        assert_eq!(j.code(1).as_deref(), Some("ServiceUnavailable"));
        // Not three quick tries: retried for five minutes, with backoff that grows and is capped.
        assert!(j.now >= RETRY_WINDOW_MS, "{delays:?}");
        assert!(
            (500..=1000).contains(&delays[0]) && (1000..=2000).contains(&delays[1]),
            "{delays:?}"
        );
        assert!(
            delays.iter().all(|&d| f64::from(d) <= MAX_BACKOFF_MS),
            "{delays:?}"
        );
        assert!(delays.len() >= 10 && delays.len() <= 30, "{delays:?}");
        // The user's Retry starts a fresh round of tries.
        let before = j.attempt(1);
        let commands = j.send(Event::Retry(1));
        assert_eq!(signs(&commands), vec![1]);
        assert_eq!(j.attempt(1), before + 1);
        j.upload(1, 201, &created("uploads/k/a.bin"));
        assert_eq!(j.status(1), Status::Done);
    }

    #[test]
    fn a_batch_of_empty_files_ends_at_100_percent() {
        let mut j = Journey::new(4);
        let mut allow = rules(10, &["*/*"]);
        allow.allow_empty = true;
        j.send(Event::RulesLoaded(allow));
        j.add(&[file("a", 0, "text/plain"), file("b", 0, "text/csv")]);
        assert_eq!(j.queue.summary().percent, 0);
        for id in [1, 2] {
            j.upload(id, 201, &created("k"));
        }
        assert_eq!(j.queue.summary().percent, 100);
    }

    #[test]
    fn progress_between_failures_keeps_a_flaky_upload_going() {
        let mut j = Journey::new(4);
        j.add(&[file("a.bin", 1000, "application/octet-stream")]);
        // Twenty failures, ten minutes apart, each after some progress: never failed.
        for _ in 0..20 {
            let attempt = j.attempt(1);
            j.upload(
                1,
                500,
                &s3_error("InternalError", "We encountered an internal error."),
            );
            assert_eq!(j.status(1), Status::Retrying);
            j.now += 600_000.0;
            j.send(Event::RetryDue { id: 1, attempt });
        }
        j.upload(1, 201, &created("uploads/1-1/f"));
        assert_eq!(j.status(1), Status::Done);
    }

    #[test]
    fn throttling_and_slow_connections_are_transient() {
        let mut j = Journey::new(4);
        j.add(&[
            file("a.bin", 10, "text/plain"),
            file("b.bin", 11, "text/plain"),
        ]);
        let commands = j.upload(1, 429, "");
        assert!(retry_after(&commands).is_some());
        assert_eq!(j.code(1).as_deref(), Some("Http429"));
        let commands = j.upload(
            2,
            400,
            &s3_error("RequestTimeout", "Your socket connection to the server was not read from or written to within the timeout period."),
        );
        assert!(retry_after(&commands).is_some());
        assert_eq!(j.status(2), Status::Retrying);
    }

    #[test]
    fn every_retry_sends_the_token_so_the_key_stays_the_same() {
        let mut j = Journey::new(4);
        j.add(&[file("a.bin", 100, "application/octet-stream")]);
        j.send(Event::Signed {
            id: 1,
            attempt: 1,
            response: signed("uploads/first/a.bin"),
        });
        j.send(Event::Progress {
            id: 1,
            attempt: 1,
            sent: 100,
        });
        j.send(Event::BodySent { id: 1, attempt: 1 });
        // The connection drops after the last byte: S3 may have stored the file.
        let commands = j.send(Event::TransportFailed {
            id: 1,
            attempt: 1,
            cause: TransportCause::Dropped,
        });
        let (_, due, delay) = retry_after(&commands).unwrap();
        j.now += f64::from(delay);
        let commands = j.send(Event::RetryDue {
            id: 1,
            attempt: due,
        });
        let request = commands
            .iter()
            .find_map(|c| match c {
                Command::Sign { request, .. } => Some(request.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            request.token.as_deref(),
            Some("token-for-uploads/first/a.bin")
        );
        // A cancelled file retried by the user sends it too.
        j.send(Event::Cancel(1));
        let commands = j.send(Event::Retry(1));
        assert!(commands.iter().any(|c| matches!(
            c,
            Command::Sign { request, .. } if request.token.as_deref() == Some("token-for-uploads/first/a.bin")
        )));
    }

    #[test]
    fn an_expired_token_is_dropped_once_for_a_new_key() {
        let mut j = Journey::new(4);
        j.add(&[file("a.bin", 100, "application/octet-stream")]);
        j.send(Event::Signed {
            id: 1,
            attempt: 1,
            response: signed("uploads/first/a.bin"),
        });
        j.send(Event::TransportFailed {
            id: 1,
            attempt: 1,
            cause: TransportCause::Dropped,
        });
        j.now += 3_600_000.0;
        j.send(Event::RetryDue { id: 1, attempt: 1 });
        let commands = j.send(Event::SignFailed {
            id: 1,
            attempt: 2,
            error: SignError::Refused {
                code: ErrorCode::TokenExpired,
                message: "old".into(),
            },
        });
        assert_eq!(
            commands,
            vec![Command::Sign {
                id: 1,
                attempt: 3,
                request: SignRequest {
                    content_md5: Some(digest::base64(&[7; 16])),
                    ..SignRequest::new("a.bin", "application/octet-stream", 100)
                },
            }]
        );
        assert_eq!(j.status(1), Status::Signing);
        // Without a token, a refusal is final.
        j.send(Event::SignFailed {
            id: 1,
            attempt: 3,
            error: SignError::Refused {
                code: ErrorCode::InvalidToken,
                message: "no".into(),
            },
        });
        assert_eq!(j.status(1), Status::Failed);
    }

    #[test]
    fn progress_is_what_keeps_an_upload_alive_not_the_tick() {
        // A hidden tab: the tick comes once a minute, progress as bytes go.
        let mut j = Journey::new(4);
        j.add(&[file("big.bin", 1_000_000, "application/octet-stream")]);
        j.send(Event::Signed {
            id: 1,
            attempt: 1,
            response: signed("uploads/k/big.bin"),
        });
        for step in 1..=20u64 {
            j.at(
                step as f64 * 20_000.0,
                Event::Progress {
                    id: 1,
                    attempt: 1,
                    sent: step * 50_000,
                },
            );
            if step % 3 == 0 {
                assert!(j.send(Event::Tick).is_empty());
            }
        }
        assert_eq!(j.status(1), Status::Uploading);
        assert_eq!(j.attempt(1), 1);
        // 30 s without progress is a stall, whenever the tick notices it.
        let commands = j.at(j.now + 90_000.0, Event::Tick);
        assert!(commands.contains(&Command::StopRequests { id: 1 }));
        assert_eq!(j.code(1).as_deref(), Some(PageCode::Timeout.as_str()));
    }

    #[test]
    fn waiting_for_s3_after_the_last_byte_has_its_own_timeout() {
        let mut j = Journey::new(4);
        let size = 80 * 1024 * 1024;
        j.add(&[file("big.bin", size, "application/octet-stream")]);
        j.send(Event::Signed {
            id: 1,
            attempt: 1,
            response: signed("uploads/k/big.bin"),
        });
        j.send(Event::BodySent { id: 1, attempt: 1 });
        assert_eq!(j.status(1), Status::Finalizing);
        // Not the 30 s stall timeout.
        assert!(j.at(j.now + STALL_MS * 2.0, Event::Tick).is_empty());
        assert_eq!(j.status(1), Status::Finalizing);
        // Cancel is not offered and does nothing: S3 may be storing the file.
        assert!(j.send(Event::Cancel(1)).is_empty());
        assert_eq!(j.status(1), Status::Finalizing);
        // 60 s + 10 s for 80 MiB: then aborted and retried with the same key.
        let commands = j.at(finalize_timeout_ms(size) + 1.0, Event::Tick);
        assert_eq!(finalize_timeout_ms(size), 70_000.0);
        assert!(commands.contains(&Command::StopRequests { id: 1 }));
        assert_eq!(j.status(1), Status::Retrying);
    }

    #[test]
    fn a_failure_without_an_answer_says_why() {
        let mut j = Journey::new(4);
        j.add(&[
            file("a", 10, "text/plain"),
            file("b", 11, "text/plain"),
            file("c", 12, "text/plain"),
        ]);
        for (id, cause, code) in [
            (1, TransportCause::Dropped, PageCode::Network.as_str()),
            (
                2,
                TransportCause::Unreachable,
                PageCode::StoreUnreachable.as_str(),
            ),
            (3, TransportCause::Blocked, PageCode::CorsBlocked.as_str()),
        ] {
            j.send(Event::Signed {
                id,
                attempt: 1,
                response: signed("k"),
            });
            let commands = j.send(Event::TransportFailed {
                id,
                attempt: 1,
                cause,
            });
            assert!(retry_after(&commands).is_some());
            assert_eq!(j.code(id).as_deref(), Some(code));
        }
    }

    #[test]
    fn a_form_whose_file_can_no_longer_be_read_fails_at_once_and_retry_hashes_it_again() {
        let mut j = Journey::new(4);
        j.add(&[file("a", 10, "text/plain")]);
        j.send(Event::Signed {
            id: 1,
            attempt: 1,
            response: signed("k"),
        });
        // Deleted on disk: the browser reports the form's POST failed as any network error.
        let commands = j.send(Event::TransportFailed {
            id: 1,
            attempt: 1,
            cause: TransportCause::Dropped,
        });
        assert!(
            commands.contains(&Command::CheckFile { id: 1 }),
            "{commands:?}"
        );
        assert_eq!(j.status(1), Status::Retrying);
        // The file read again: it cannot be. No retry then (its timer changes nothing).
        j.send(Event::FileUnreadable { id: 1 });
        assert!(j.send(Event::RetryDue { id: 1, attempt: 1 }).is_empty());
        assert_eq!(j.status(1), Status::Failed);
        assert_eq!(
            j.code(1).as_deref(),
            Some(PageCode::FileUnreadable.as_str())
        );
        // Retry reads the file again (it may have been put back); that read says why if not.
        let entry = j.queue.entry(1).unwrap();
        assert_eq!((&entry.md5, &entry.token), (&None, &None));
    }

    #[test]
    fn a_throttled_signer_is_waited_out_quietly() {
        let mut j = Journey::new(4);
        j.add(&[file("a", 10, "text/plain"), file("b", 11, "text/plain")]);
        let commands = j.send(Event::SignFailed {
            id: 1,
            attempt: 1,
            error: SignError::Throttled {
                retry_after_ms: Some(5_000),
            },
        });
        let (_, _, delay) = retry_after(&commands).unwrap();
        assert!(delay >= 5_000, "{delay}");
        assert_eq!(j.status(1), Status::Retrying);
        // A short wait is not an error to show.
        assert_eq!(j.code(1), None);
        // A long one is, and an unreadable one waits the usual backoff.
        let commands = j.send(Event::SignFailed {
            id: 2,
            attempt: 1,
            error: SignError::Throttled {
                retry_after_ms: Some(60_000),
            },
        });
        assert_eq!(retry_after(&commands).unwrap().2, 60_000);
        assert_eq!(j.code(2).as_deref(), Some(PageCode::Throttled.as_str()));
        j.now += 60_000.0;
        j.send(Event::RetryDue { id: 2, attempt: 1 });
        let commands = j.send(Event::SignFailed {
            id: 2,
            attempt: 2,
            error: SignError::Throttled {
                retry_after_ms: None,
            },
        });
        assert!(retry_after(&commands).unwrap().2 <= 2_000);
    }

    #[test]
    fn signing_out_forgets_every_file_and_stops_what_runs() {
        let mut j = Journey::new(2);
        j.add(&[
            file("done.txt", 10, "text/plain"),
            file("running.txt", 11, "text/plain"),
            file("waiting.txt", 12, "text/plain"),
        ]);
        j.upload(1, 201, &created("uploads/1-1/done.txt"));
        j.send(Event::Signed {
            id: 2,
            attempt: 1,
            response: signed("uploads/2-1/running.txt"),
        });
        j.at(
            1_000.0,
            Event::Progress {
                id: 2,
                attempt: 1,
                sent: 5,
            },
        );
        assert_eq!(j.status(1), Status::Done);
        assert_eq!(j.status(2), Status::Uploading);
        let commands = j.send(Event::ForgetAll);
        assert!(commands.contains(&Command::StopRequests { id: 2 }));
        assert!(!commands.contains(&Command::StopRequests { id: 1 }));
        assert!(commands.contains(&Command::ForgetAllRecords));
        assert!(commands.contains(&Command::ForgetTokens));
        for id in [1, 2, 3] {
            assert!(commands.contains(&Command::Forget { id }), "{id}");
        }
        assert!(
            !commands
                .iter()
                .any(|c| matches!(c, Command::AbortMultipart { .. } | Command::Tell(_)))
        );
        assert!(j.queue.entries().is_empty());
        let summary = j.queue.summary();
        assert!(!summary.can_cancel_any && !summary.can_retry_any);
        // An answer for a forgotten file changes nothing.
        assert!(
            j.send(Event::Answered {
                id: 2,
                attempt: 1,
                status: 201,
                body: String::new(),
            })
            .is_empty()
        );
    }

    #[test]
    fn cancel_all_and_retry_all() {
        let mut j = Journey::new(2);
        j.add(&[
            file("a", 10, "text/plain"),
            file("b", 11, "text/plain"),
            file("c", 12, "text/plain"),
        ]);
        j.send(Event::Signed {
            id: 1,
            attempt: 1,
            response: signed("k1"),
        });
        j.at(
            1_000.0,
            Event::Progress {
                id: 1,
                attempt: 1,
                sent: 5,
            },
        );
        let summary = j.queue.summary();
        assert!(summary.can_cancel_any && !summary.can_retry_any);
        assert!(summary.seconds_left.is_some());
        let commands = j.send(Event::CancelAll);
        assert!(commands.contains(&Command::StopRequests { id: 1 }));
        for id in [1, 2, 3] {
            assert_eq!(j.status(id), Status::Cancelled);
        }
        assert!(j.queue.summary().can_retry_any);
        let commands = j.send(Event::RetryAll);
        // Two slots: two sign now (the first with its token), the third waits (signed ahead).
        assert_eq!(signs(&commands), vec![1, 2, 3]);
        assert_eq!(j.status(1), Status::Signing);
        assert_eq!(j.status(3), Status::Queued);
        assert!(commands.iter().any(|c| matches!(
            c,
            Command::Sign { id: 1, request, .. } if request.token.as_deref() == Some("token-for-k1")
        )));
    }

    #[test]
    fn online_again_retries_at_once() {
        let mut j = Journey::new(4);
        j.add(&[
            file("a.bin", 10, "text/plain"),
            file("b.bin", 11, "text/plain"),
        ]);
        for id in [1, 2] {
            j.send(Event::SignFailed {
                id,
                attempt: 1,
                error: SignError::Unreachable {
                    message: "offline".into(),
                },
            });
            assert_eq!(j.status(id), Status::Retrying);
        }
        let commands = j.send(Event::Online);
        assert_eq!(signs(&commands), vec![1, 2]);
        // The timers that were set for attempt 1 change nothing now.
        assert!(j.send(Event::RetryDue { id: 1, attempt: 1 }).is_empty());
        assert_eq!(j.attempt(1), 2);
    }

    #[test]
    fn the_same_file_twice_is_held_back_until_the_user_says_so() {
        let mut j = Journey::new(4);
        let a = file("a.bin", 10, "text/plain");
        j.add(std::slice::from_ref(&a));
        // The same name and size but another modification time is another file.
        let other = FileInfo {
            last_modified: 1,
            ..a.clone()
        };
        let commands = j.add(&[a.clone(), other]);
        assert_eq!(signs(&commands), vec![3]);
        assert_eq!(j.status(2), Status::Refused);
        assert_eq!(j.code(2).as_deref(), Some(PageCode::Duplicate.as_str()));
        assert!(Status::offers_retry(j.queue.entry(2).unwrap()));
        let commands = j.send(Event::Retry(2));
        assert_eq!(signs(&commands), vec![2]);
        assert_eq!(j.status(2), Status::Signing);
        // A refusal by the rules offers no Retry.
        j.send(Event::RulesLoaded(rules(5, &["*/*"])));
        j.add(&[file("big.bin", 6, "text/plain")]);
        assert!(!Status::offers_retry(j.queue.entry(4).unwrap()));
        assert!(j.send(Event::Retry(4)).is_empty());
    }

    #[test]
    fn s3_refusals_are_final() {
        let mut j = Journey::new(4);
        j.add(&[file("a.bin", 100, "text/plain")]);
        let commands = j.upload(
            1,
            400,
            &s3_error(
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
            ),
        );
        assert_eq!(retry_after(&commands), None);
        assert!(signs(&commands).is_empty());
        assert_eq!(j.status(1), Status::Failed);
        assert_eq!(j.code(1).as_deref(), Some("EntityTooLarge"));
        // AccessDenied may be a stale form: one fresh signature, then final.
        j.add(&[file("b.bin", 100, "text/plain")]);
        let denied = s3_error(
            "AccessDenied",
            "Invalid according to Policy: Policy Condition failed",
        );
        j.upload(2, 403, &denied);
        assert_eq!(j.status(2), Status::Signing);
        j.upload(2, 403, &denied);
        assert_eq!(j.status(2), Status::Failed);
        assert_eq!(j.code(2).as_deref(), Some("AccessDenied"));
    }

    #[test]
    fn an_expired_policy_is_signed_again_once() {
        let mut j = Journey::new(4);
        j.add(&[file("a.bin", 100, "text/plain")]);
        let expired = s3_error(
            "AccessDenied",
            "Invalid according to Policy: Policy expired.",
        );
        let commands = j.upload(1, 403, &expired);
        assert_eq!(signs(&commands), vec![1]);
        assert_eq!(j.status(1), Status::Signing);
        assert_eq!(j.attempt(1), 2);
        j.upload(1, 403, &expired);
        assert_eq!(j.status(1), Status::Failed);
        assert_eq!(j.code(1).as_deref(), Some("AccessDenied"));
        // radosgw says the same with no message, and expired session credentials another code.
        j.add(&[
            file("b.bin", 101, "text/plain"),
            file("c.bin", 102, "text/plain"),
        ]);
        for (id, code) in [(2, "AccessDenied"), (3, "ExpiredToken")] {
            let commands = j.upload(id, 403, &s3_error(code, ""));
            assert_eq!(signs(&commands), vec![id], "{code}");
        }
    }

    #[test]
    fn cancel_mid_upload_aborts_and_frees_the_slot() {
        let mut j = Journey::new(1);
        // One slot, and next.bin signed ahead while big.bin uploads.
        let commands = j.add(&[file("big.bin", 1_000_000, ""), file("next.bin", 10, "")]);
        assert_eq!(signs(&commands), vec![1, 2]);
        j.at(
            0.0,
            Event::Signed {
                id: 1,
                attempt: 1,
                response: signed("uploads/x/big.bin"),
            },
        );
        j.at(
            100.0,
            Event::Progress {
                id: 1,
                attempt: 1,
                sent: 300_000,
            },
        );
        assert_eq!(j.status(2), Status::Queued);
        let commands = j.send(Event::Cancel(1));
        assert_eq!(commands[0], Command::StopRequests { id: 1 });
        // next.bin takes the slot; its form is already asked for, so no second request.
        assert_eq!(signs(&commands), Vec::<FileId>::new());
        assert_eq!(j.status(2), Status::Signing);
        assert_eq!(j.status(1), Status::Cancelled);
        // The aborted request's last events are ignored.
        j.send(Event::TransportFailed {
            id: 1,
            attempt: 1,
            cause: TransportCause::Dropped,
        });
        j.send(Event::Answered {
            id: 1,
            attempt: 1,
            status: 201,
            body: created("x"),
        });
        assert_eq!(j.status(1), Status::Cancelled);
        // Cancel works while queued, signing and retrying too.
        j.add(&[file("q.bin", 10, "")]);
        assert_eq!(j.status(3), Status::Queued);
        j.send(Event::Cancel(3));
        assert_eq!(j.status(3), Status::Cancelled);
        j.send(Event::Cancel(2));
        assert_eq!(j.status(2), Status::Cancelled);
        j.at(
            0.0,
            Event::Signed {
                id: 2,
                attempt: 1,
                response: signed("late"),
            },
        );
        assert_eq!(j.status(2), Status::Cancelled);
        assert_eq!(j.queue.active(), 0);
        // Cancelled files can be retried.
        let commands = j.send(Event::Retry(1));
        assert_eq!(signs(&commands), vec![1]);
        assert_eq!(j.attempt(1), 2);
    }

    #[test]
    fn concurrency_limit_holds_for_100_files() {
        // A browser edge with a quick signer and slow uploads: it answers every sign request,
        // then finishes the oldest upload. Never more than 4 files active, nor 12 forms ahead.
        let mut j = Journey::new(4);
        let files: Vec<FileInfo> = (0..100)
            .map(|i| file(&format!("f{i}.txt"), 10, "text/plain"))
            .collect();
        let mut to_sign: Vec<(FileId, u32)> = Vec::new();
        let mut to_finish: Vec<(FileId, u32)> = Vec::new();
        let run = |commands: Vec<Command>,
                   to_sign: &mut Vec<(FileId, u32)>,
                   to_finish: &mut Vec<(FileId, u32)>| {
            for command in commands {
                match command {
                    Command::Sign { id, attempt, .. } => to_sign.push((id, attempt)),
                    Command::Upload { id, attempt, .. } => to_finish.push((id, attempt)),
                    Command::KeepToken { .. } => {}
                    other => panic!("unexpected {other:?}"),
                }
            }
        };
        let commands = j.add(&files);
        assert_eq!(signs(&commands), (1..=16).collect::<Vec<_>>());
        run(commands, &mut to_sign, &mut to_finish);
        let (mut max_active, mut max_uploads, mut max_asked) = (0, 0, 0);
        let mut uploads_without_waiting = 0;
        while !to_sign.is_empty() || !to_finish.is_empty() {
            j.now += 10.0;
            let commands = if !to_sign.is_empty() {
                let (id, attempt) = to_sign.remove(0);
                j.send(Event::Signed {
                    id,
                    attempt,
                    response: signed(&format!("uploads/{id}")),
                })
            } else {
                let (id, attempt) = to_finish.remove(0);
                let commands = j.send(Event::Answered {
                    id,
                    attempt,
                    status: 201,
                    body: created(&format!("uploads/{id}")),
                });
                uploads_without_waiting += commands
                    .iter()
                    .filter(|c| matches!(c, Command::Upload { .. }))
                    .count();
                commands
            };
            run(commands, &mut to_sign, &mut to_finish);
            max_active = max_active.max(j.queue.active());
            max_uploads = max_uploads.max(to_finish.len());
            max_asked = max_asked.max(to_sign.len());
        }
        assert!(j.queue.entries().iter().all(|e| e.status == Status::Done));
        assert_eq!(max_active, 4);
        assert_eq!(max_uploads, 4);
        assert!(max_asked <= 16, "{max_asked}");
        assert!(
            uploads_without_waiting > 40,
            "most files start with a form signed ahead: {uploads_without_waiting}"
        );
        let keys: std::collections::HashSet<_> = j
            .queue
            .entries()
            .iter()
            .map(|e| e.key.clone().unwrap())
            .collect();
        assert_eq!(keys.len(), 100, "each file kept its own key");
        let summary = j.queue.summary();
        assert_eq!(
            (summary.sent, summary.total, summary.percent),
            (1000, 1000, 100)
        );
        assert_eq!(summary.counts, vec![(Status::Done, 100)]);
    }

    #[test]
    fn a_form_signed_ahead_starts_the_upload_when_a_slot_frees() {
        let mut j = Journey::new(1);
        j.now = 1_000.0;
        let files: Vec<_> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|name| file(name, 10, ""))
            .collect();
        // One slot: a, and three files signed ahead.
        assert_eq!(signs(&j.add(&files)), vec![1, 2, 3, 4]);
        let commands = j.at(
            1_010.0,
            Event::Signed {
                id: 2,
                attempt: 1,
                response: signed("uploads/early/b"),
            },
        );
        assert!(commands.is_empty(), "b waits for the slot");
        assert_eq!(
            (j.status(2), j.queue.entry(2).unwrap().key.clone()),
            (Status::Queued, None)
        );
        j.now = 1_020.0;
        let commands = j.upload(1, 201, &created("uploads/a"));
        assert_eq!(
            commands,
            vec![
                Command::KeepToken {
                    file: j.queue.entry(2).unwrap().file.clone(),
                    token: "token-for-uploads/early/b".into(),
                },
                Command::Upload {
                    id: 2,
                    attempt: 1,
                    url: "http://127.0.0.1:9000/uploads".into(),
                    fields: signed("uploads/early/b").fields,
                },
                sign_command(j.queue.entry(5).unwrap()),
            ]
        );
        assert_eq!(j.status(2), Status::Uploading);
        assert_eq!(
            j.queue.entry(2).unwrap().key.as_deref(),
            Some("uploads/early/b")
        );
    }

    #[test]
    fn a_stale_form_signed_ahead_is_signed_again() {
        let mut j = Journey::new(1);
        j.add(&[file("a", 10, ""), file("b", 10, "")]);
        for (id, key) in [(1, "uploads/a"), (2, "uploads/old/b")] {
            j.at(
                0.0,
                Event::Signed {
                    id,
                    attempt: 1,
                    response: signed(key),
                },
            );
        }
        // A minute before the form's expiry: too late to use it.
        j.now = 600_000.0 - SIGNED_AHEAD_MARGIN_MS;
        j.send(Event::Progress {
            id: 1,
            attempt: 1,
            sent: 5,
        });
        let commands = j.upload(1, 201, &created("uploads/a"));
        assert_eq!(signs(&commands), vec![2]);
        assert_eq!(j.status(2), Status::Signing);
        j.upload(2, 201, &created("uploads/new/b"));
        assert_eq!(
            j.queue.entry(2).unwrap().key.as_deref(),
            Some("uploads/new/b")
        );
    }

    #[test]
    fn a_form_signed_ahead_lives_its_lifetime_on_a_clock_hours_ahead() {
        // The page's clock nine hours ahead of the signer's. Compared as written, a form signed
        // ahead looked stale on arrival and every file was signed twice; counted from its
        // arrival, it is used at its turn, and signed again only once its ten minutes, less the
        // minute kept in hand, have passed on the page's clock.
        let ahead = 9.0 * 3_600_000.0;
        let signed_at_zero = |key: &str| {
            let mut response = signed(key);
            response
                .fields
                .0
                .push(("x-amz-date".into(), "19700101T000000Z".into()));
            response
        };
        let mut j = Journey::new(1);
        j.now = ahead;
        j.add(&[file("a", 10, ""), file("b", 10, ""), file("c", 10, "")]);
        for (id, key) in [(1, "uploads/a"), (2, "uploads/b"), (3, "uploads/c")] {
            j.at(
                ahead,
                Event::Signed {
                    id,
                    attempt: 1,
                    response: signed_at_zero(key),
                },
            );
        }
        let commands = j.upload(1, 201, &created("uploads/a"));
        assert_eq!(signs(&commands), Vec::<FileId>::new());
        assert_eq!(j.status(2), Status::Uploading);
        j.now = ahead + 9.0 * 60_000.0;
        let commands = j.upload(2, 201, &created("uploads/b"));
        assert_eq!(signs(&commands), vec![3]);
    }

    #[test]
    fn a_file_sent_before_a_reload_is_signed_with_its_token_to_keep_its_key() {
        let mut j = Journey::new(1);
        let commands = j.send(Event::Added {
            files: vec![(1, file("a.bin", 10, "")), (2, file("b.bin", 10, ""))],
            earlier: vec![(1, "token-of-a".into())],
        });
        let tokens: Vec<_> = commands
            .iter()
            .filter_map(|c| match c {
                Command::Sign { id, request, .. } => Some((*id, request.token.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(tokens, vec![(1, Some("token-of-a".into())), (2, None)]);
        // A token the signer no longer takes (an hour old, another signer): a new key, once.
        let commands = j.send(Event::SignFailed {
            id: 1,
            attempt: 1,
            error: SignError::Refused {
                code: ErrorCode::TokenExpired,
                message: "old".into(),
            },
        });
        assert!(
            matches!(&commands[..], [Command::Sign { id: 1, attempt: 2, request }] if request.token.is_none()),
            "{commands:?}"
        );
    }

    #[test]
    fn a_failed_sign_ahead_is_forgotten_until_the_files_turn() {
        let mut j = Journey::new(1);
        j.add(&[file("a", 10, ""), file("b", 10, "")]);
        let commands = j.send(Event::SignFailed {
            id: 2,
            attempt: 1,
            error: SignError::Unreachable {
                message: "down".into(),
            },
        });
        assert!(commands.is_empty(), "not asked again at once");
        assert_eq!((j.status(2), j.code(2)), (Status::Queued, None));
        // In its turn it is signed, and a failure then counts as usual.
        let commands = j.upload(1, 201, &created("uploads/a"));
        assert_eq!(signs(&commands), vec![2]);
        j.send(Event::SignFailed {
            id: 2,
            attempt: 1,
            error: SignError::Unreachable {
                message: "down".into(),
            },
        });
        assert_eq!(j.status(2), Status::Retrying);
        assert_eq!(
            j.code(2).as_deref(),
            Some(PageCode::SignerUnreachable.as_str())
        );
    }

    #[test]
    fn a_file_that_waited_long_in_line_does_not_time_out_when_it_starts() {
        let mut j = Journey::new(1);
        j.add(&[file("a", 10, ""), file("b", 10, "")]);
        // a takes ten minutes; b waited all that time, and its form signed ahead expired.
        for (id, key) in [(1, "uploads/a"), (2, "uploads/b")] {
            j.at(
                0.0,
                Event::Signed {
                    id,
                    attempt: 1,
                    response: signed(key),
                },
            );
        }
        for second in 1..=120 {
            j.at(
                f64::from(second) * 5_000.0,
                Event::Progress {
                    id: 1,
                    attempt: 1,
                    sent: 0,
                },
            );
            j.at(f64::from(second) * 5_000.0, Event::Tick {});
        }
        j.now = 600_000.0;
        let commands = j.upload(1, 201, &created("uploads/a"));
        assert_eq!(signs(&commands), vec![2], "b's form from long ago is stale");
        assert!(j.at(602_000.0, Event::Tick).is_empty());
        assert_eq!(j.status(2), Status::Signing);
    }

    #[test]
    fn concurrency_can_change() {
        let mut j = Journey::new(4);
        j.queue.set_concurrency(2);
        let files: Vec<FileInfo> = (0..5)
            .map(|i| file(&format!("f{i}"), 1, "text/plain"))
            .collect();
        // Two slots, and the three others signed ahead (up to three per slot).
        assert_eq!(signs(&j.add(&files)), vec![1, 2, 3, 4, 5]);
        j.queue.set_concurrency(0);
        let commands = j.upload(1, 201, &created("k"));
        assert!(
            commands.is_empty(),
            "still one active; the limit is at least 1"
        );
        assert_eq!(j.status(3), Status::Queued);
        let commands = j.upload(2, 201, &created("k"));
        assert!(
            commands.is_empty(),
            "3 was asked for ahead; 4 still waits on its answer"
        );
        assert_eq!(j.status(3), Status::Signing);
        assert_eq!(j.status(5), Status::Queued);
        // The answer asked for ahead arrives after the file took its slot: it uploads.
        let commands = j.send(Event::Signed {
            id: 3,
            attempt: 1,
            response: signed("uploads/c"),
        });
        assert!(matches!(
            commands[..],
            [Command::KeepToken { .. }, Command::Upload { id: 3, .. }]
        ));
    }

    #[test]
    fn a_stalled_upload_times_out_and_is_retried_unless_its_file_can_no_longer_be_read() {
        let mut j = Journey::new(4);
        j.add(&[file("a.bin", 100, "")]);
        j.at(
            0.0,
            Event::Signed {
                id: 1,
                attempt: 1,
                response: signed("k"),
            },
        );
        j.at(
            1_000.0,
            Event::Progress {
                id: 1,
                attempt: 1,
                sent: 10,
            },
        );
        assert!(j.at(30_000.0, Event::Tick).is_empty());
        let commands = j.at(31_001.0, Event::Tick);
        // The edge reads the file again (a file deleted mid-upload hangs its request in some
        // browsers), and the request stops.
        assert_eq!(
            commands[..2],
            [
                Command::CheckFile { id: 1 },
                Command::StopRequests { id: 1 }
            ]
        );
        assert_eq!(j.status(1), Status::Retrying);
        assert_eq!(j.code(1).as_deref(), Some(PageCode::Timeout.as_str()));
        // A signer that never answers times out the same way, with no file to check.
        j.add(&[file("b.bin", 100, "")]);
        let commands = j.at(0.0 + 31_001.0 + STALL_MS + 1.0, Event::Tick {});
        assert!(
            !commands.contains(&Command::CheckFile { id: 2 }),
            "{commands:?}"
        );
        assert_eq!(j.status(2), Status::Retrying);
        // The first file's check answers: it can no longer be read. It fails at once, and the
        // retry timer set at the stall changes nothing.
        assert_eq!(
            j.send(Event::FileUnreadable { id: 1 }),
            [Command::StopRequests { id: 1 }]
        );
        assert_eq!(j.status(1), Status::Failed);
        assert_eq!(
            j.code(1).as_deref(),
            Some(PageCode::FileUnreadable.as_str())
        );
        assert!(j.send(Event::RetryDue { id: 1, attempt: 1 }).is_empty());
        assert_eq!(j.status(1), Status::Failed);
        // A late answer for a file that ended changes nothing.
        j.send(Event::Cancel(2));
        assert!(j.send(Event::FileUnreadable { id: 2 }).is_empty());
        assert_eq!(j.status(2), Status::Cancelled);
    }

    #[test]
    fn signer_errors() {
        let mut j = Journey::new(4);
        j.add(&[
            file("a.png", 10, "image/png"),
            file("b.png", 10, "image/png"),
        ]);
        j.send(Event::SignFailed {
            id: 1,
            attempt: 1,
            error: SignError::Refused {
                code: ErrorCode::ContentTypeNotAllowed,
                message: "no".into(),
            },
        });
        assert_eq!(j.status(1), Status::Failed);
        assert_eq!(j.code(1).as_deref(), Some("ContentTypeNotAllowed"));
        let commands = j.send(Event::SignFailed {
            id: 2,
            attempt: 1,
            error: SignError::Unreachable {
                message: "offline".into(),
            },
        });
        assert_eq!(j.status(2), Status::Retrying);
        assert_eq!(
            j.code(2).as_deref(),
            Some(PageCode::SignerUnreachable.as_str())
        );
        assert!(retry_after(&commands).is_some());
        for attempt in 2..=3 {
            j.send(Event::RetryDue {
                id: 2,
                attempt: attempt - 1,
            });
            j.send(Event::SignFailed {
                id: 2,
                attempt,
                error: SignError::Failed {
                    status: 502,
                    message: "bad gateway".into(),
                },
            });
        }
        assert_eq!(j.status(2), Status::Retrying);
        j.now = RETRY_WINDOW_MS;
        j.send(Event::RetryDue { id: 2, attempt: 3 });
        j.send(Event::SignFailed {
            id: 2,
            attempt: 4,
            error: SignError::Failed {
                status: 502,
                message: "bad gateway".into(),
            },
        });
        assert_eq!(j.status(2), Status::Failed);
        assert_eq!(j.code(2).as_deref(), Some("Internal"));
    }

    #[test]
    fn remove_and_clear_finished() {
        let mut j = Journey::new(1);
        j.send(Event::RulesLoaded(rules(5, &["*/*"])));
        j.add(&[
            file("ok.txt", 1, "text/plain"),
            file("big.txt", 50, "text/plain"),
            file("wait.txt", 1, "text/plain"),
        ]);
        j.upload(1, 201, &created("k"));
        assert_eq!(j.status(3), Status::Signing);
        let commands = j.send(Event::Remove(3));
        assert!(commands.contains(&Command::Forget { id: 3 }));
        assert!(j.queue.entry(3).is_none());
        let commands = j.send(Event::ClearFinished);
        assert_eq!(
            commands,
            vec![Command::Forget { id: 1 }, Command::Forget { id: 2 }]
        );
        assert!(j.queue.entries().is_empty());
    }

    #[test]
    fn empty_types_are_sent_as_octet_stream() {
        assert_eq!(
            sign_request(&file("x", 1, " ")).content_type,
            FALLBACK_CONTENT_TYPE
        );
        assert_eq!(
            sign_request(&file("x", 1, "image/png")).content_type,
            "image/png"
        );
    }

    #[test]
    fn status_words_are_stable() {
        let words: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            words,
            [
                "queued",
                "signing",
                "uploading",
                "finalizing",
                "retrying",
                "paused",
                "unfinished",
                "done",
                "failed",
                "cancelled",
                "refused"
            ]
        );
    }
}
