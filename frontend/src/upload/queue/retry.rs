//! The retry policy, one for both paths (a single POST and a multipart file's parts): what a
//! failure means (`StoreRefusal`, `TransportCause`), the backoff (`backoff_ms`: doubling to
//! `MAX_BACKOFF_MS`, with jitter), and `next_retry`, which decides when a file or a part goes
//! again or gives up after `RETRY_WINDOW_MS` without progress.

use super::*;

/// What the retry policy (`Queue::next_retry`) decided for a file after a failure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Retry {
    /// It goes again at this time (a timer is set).
    At(f64),
    /// It has made no progress for `RETRY_WINDOW_MS`: it fails.
    GiveUp,
    /// It is no longer in the list.
    Gone,
}

/// The wait before retry number `streak + 1`: `BACKOFF_BASE_MS` doubled per retry up to
/// `MAX_BACKOFF_MS`, then between half and all of it (`jitter` in 0..1), so files that failed
/// together do not all come back at once. (`config.json` and the rules, loaded again, wait the
/// whole of it.)
pub fn backoff_ms(streak: u32, jitter: f64) -> u32 {
    let base = (BACKOFF_BASE_MS * f64::from(1u32 << streak.min(10))).min(MAX_BACKOFF_MS);
    (base * (0.5 + 0.5 * jitter)) as u32
}
/// How long S3 may take to answer once the whole body is sent: a minute, plus a second for every
/// 8 MiB (the store checks and writes what it received).
pub fn finalize_timeout_ms(size: u64) -> f64 {
    60_000.0 + (size / (8 * 1024 * 1024)) as f64 * 1_000.0
}
/// Why a request to storage ended without an answer the page can read, as far as the browser
/// lets the edge tell (it probes the storage URL after the failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportCause {
    /// The connection dropped during the request (storage was reachable).
    Dropped,
    /// Nothing answers at storage's address.
    Unreachable,
    /// Storage answers, yet nothing of the request went through: the CORS preflight was refused.
    Blocked,
}

/// Why a request to storage failed, from what the page can see: whether storage answers at all
/// (probed after the failure) and whether any of the request went out (`Queue::nothing_sent`):
/// nothing at storage's address is unreachable; reachable with nothing sent is a refused CORS
/// preflight; anything else a dropped connection. (A file changed or deleted on disk fails its
/// request alike: every failed or stalled request has the edge read the file again,
/// `Command::CheckFile`.)
pub fn transport_cause(reachable: bool, nothing_sent: bool) -> TransportCause {
    match (reachable, nothing_sent) {
        (false, _) => TransportCause::Unreachable,
        (true, true) => TransportCause::Blocked,
        (true, false) => TransportCause::Dropped,
    }
}

/// What a refusal from storage means for the request, with the failure to show.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum StoreRefusal {
    /// Worth another try: 5xx, 429, S3's `RequestTimeout` (the connection was too slow).
    Transient(Failure),
    /// The request was only late (its signature or policy expired): sign it again.
    Expired(Failure),
    /// Another try would be refused the same way.
    Final(Failure),
}

/// What S3's refusal (`status`, `body`) says.
pub(super) fn storage_refusal(status: u16, body: &str) -> StoreRefusal {
    let error = s3_xml::parse_error(body);
    let transient = status >= 500
        || status == 429
        || error.as_ref().is_some_and(|e| e.code == "RequestTimeout");
    let expired = error.as_ref().is_some_and(s3_xml::means_sign_again);
    let failure = match error {
        Some(error) => Failure::store(&error.code, error.message),
        None => Failure {
            code: FailureCode::Store(StoreCode::Http(status)),
            detail: String::new(),
        },
    };
    if transient {
        StoreRefusal::Transient(failure)
    } else if expired {
        StoreRefusal::Expired(failure)
    } else {
        StoreRefusal::Final(failure)
    }
}

pub(super) fn transport_failure(cause: TransportCause) -> Failure {
    match cause {
        TransportCause::Dropped => Failure::page(PageCode::Network),
        TransportCause::Unreachable => Failure::page(PageCode::StoreUnreachable),
        TransportCause::Blocked => Failure::page(PageCode::CorsBlocked),
    }
}

/// What a signer call's failure shows, and the least wait before another try it asked for
/// (a refusal is final for a single POST; `multipart_call_failed` sorts its own).
pub(super) fn sign_failure(error: SignError) -> (Failure, u32) {
    match error {
        SignError::Refused { code, message } => (Failure::signer(code, message), 0),
        SignError::Failed { status, message } => (
            Failure::signer(ErrorCode::Internal, format!("{status}: {message}")),
            0,
        ),
        SignError::Throttled { retry_after_ms } => (
            Failure::page(PageCode::Throttled),
            retry_after_ms.unwrap_or(0),
        ),
        SignError::Unreachable { message } => {
            (Failure::page_with(PageCode::SignerUnreachable, message), 0)
        }
    }
}

/// Aborts of one multipart upload sent at most.
pub const ABORT_TRIES: u32 = 3;

/// After `tried` aborts of a multipart upload, `answered` of them answered: the wait before
/// another, or `None` when no more goes. Twice when it works, the second after a moment (a part
/// that was still arriving when the first landed leaves a part behind, and S3 asks for a second
/// abort then); up to `ABORT_TRIES` when it does not, each wait longer.
pub fn next_abort_ms(tried: u32, answered: u32) -> Option<u32> {
    (answered < 2 && tried < ABORT_TRIES).then_some(ABORT_AGAIN_MS * tried)
}

impl Queue {
    /// Periodic: a file that showed no sign of life for `STALL_MS` (or, once its body is sent,
    /// for `finalize_timeout_ms`) is stopped and retried; so are stalled parts.
    pub(super) fn tick(&mut self, now_ms: f64, commands: &mut Vec<Command>) {
        let stalled = self.ids_where(|e| {
            let quiet = now_ms - e.last_activity_ms;
            match e.status {
                // A multipart upload's parts have stall clocks of their own.
                Status::Uploading if e.multipart => false,
                Status::Signing | Status::Uploading => quiet > STALL_MS,
                Status::Finalizing => quiet > finalize_timeout_ms(e.file.size),
                _ => false,
            }
        });
        for id in stalled {
            if self
                .entry(id)
                .is_some_and(|e| e.status == Status::Uploading)
            {
                commands.push(Command::CheckFile { id });
            }
            commands.push(Command::StopRequests { id });
            self.retry_or_fail(id, Failure::page(PageCode::Timeout), commands);
        }
        self.parts_tick(commands);
    }

    /// The browser is online again: whatever waits to retry goes at once.
    pub(super) fn online(&mut self, commands: &mut Vec<Command>) {
        for multipart in self.multiparts.values_mut() {
            multipart.release_all();
        }
        self.parts_tick(commands);
        for entry in &mut self.entries {
            if entry.status == Status::Retrying {
                entry.status = Status::Queued;
                entry.attempt += 1;
                entry.ahead = Ahead::No;
            }
        }
    }

    /// A retry timer fired: the file goes again (a part's wait is over, for a multipart one).
    pub(super) fn retry_due(&mut self, id: FileId, attempt: u32, commands: &mut Vec<Command>) {
        if let Some(entry) = self.current(id, attempt, &[Status::Retrying]) {
            entry.status = Status::Queued;
            entry.attempt += 1;
            entry.ahead = Ahead::No;
        } else {
            self.next_steps(id, commands);
        }
    }

    pub(super) fn fail(&mut self, id: FileId, failure: Failure) {
        if let Some(entry) = entry_at(&mut self.entries, &self.index, id) {
            entry.status = Status::Failed;
            entry.failure = Some(failure);
        }
    }

    /// The browser can no longer read the file (changed, moved or deleted on disk since it was
    /// picked: `FileUnreadable`, the answer to a `CheckFile` after a request failed or stalled):
    /// the file fails at once with why, its requests stopped, rather than be tried again for
    /// minutes as a network failure. A multipart upload's stored parts stay for a Retry, which
    /// reads the file again (a single POST's under a new key: the token states the old MD5).
    pub(super) fn file_gone(&mut self, id: FileId, commands: &mut Vec<Command>) {
        let failure = Failure::page(PageCode::FileUnreadable);
        let Some(entry) = entry_at(&mut self.entries, &self.index, id) else {
            return;
        };
        if entry.multipart {
            if entry.status == Status::Uploading {
                self.fail_multipart(id, failure, commands);
            }
        } else if matches!(
            entry.status,
            Status::Uploading | Status::Finalizing | Status::Retrying
        ) {
            entry.md5 = None;
            entry.token = None;
            commands.push(Command::StopRequests { id });
            self.fail(id, failure);
        }
    }

    /// A transient failure: wait and try again (signing again, with the token: same key), unless
    /// the file has made no progress for `RETRY_WINDOW_MS`.
    pub(super) fn retry_or_fail(
        &mut self,
        id: FileId,
        failure: Failure,
        commands: &mut Vec<Command>,
    ) {
        self.retry_after_at_least(id, failure, 0, commands);
    }

    /// The same, waiting at least `min_delay_ms` (a throttled answer's `Retry-After`); a short
    /// such wait (up to `QUIET_THROTTLE_MS`) is no error to show: being asked to wait a moment
    /// is not a failure.
    pub(super) fn retry_after_at_least(
        &mut self,
        id: FileId,
        failure: Failure,
        min_delay_ms: u32,
        commands: &mut Vec<Command>,
    ) {
        let retry = self.next_retry(id, min_delay_ms, commands);
        let Some(entry) = entry_at(&mut self.entries, &self.index, id) else {
            return;
        };
        match retry {
            Retry::GiveUp => {
                entry.status = Status::Failed;
                entry.failure = Some(failure);
            }
            Retry::At(_) => {
                entry.status = Status::Retrying;
                entry.failure =
                    (min_delay_ms == 0 || min_delay_ms > QUIET_THROTTLE_MS).then_some(failure);
            }
            Retry::Gone => {}
        }
    }

    /// The retry policy, one for both paths: after a failure, the file goes again after the
    /// backoff (`backoff_ms`, at least `min_delay_ms`), with a timer for it (`Command::RetryAfter`)
    /// and its streak counted, unless it has made no progress for `RETRY_WINDOW_MS`: then it gives
    /// up, and the caller fails it its own way.
    pub(super) fn next_retry(
        &mut self,
        id: FileId,
        min_delay_ms: u32,
        commands: &mut Vec<Command>,
    ) -> Retry {
        let jitter = self.next_unit();
        let now_ms = self.now_ms;
        let Some(entry) = entry_at(&mut self.entries, &self.index, id) else {
            return Retry::Gone;
        };
        let since = *entry.failing_since_ms.get_or_insert(now_ms);
        if now_ms - since >= RETRY_WINDOW_MS {
            return Retry::GiveUp;
        }
        let delay_ms = backoff_ms(entry.streak, jitter).max(min_delay_ms);
        entry.streak += 1;
        commands.push(Command::RetryAfter {
            id,
            attempt: entry.attempt,
            delay_ms,
        });
        Retry::At(now_ms + f64::from(delay_ms))
    }

    /// A number in [0, 1) from xorshift64.
    pub(super) fn next_unit(&mut self) -> f64 {
        let mut x = self.random;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.random = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_abort_goes_twice_when_answered_and_at_most_three_times() {
        // Answered: once more after a second, then no more.
        assert_eq!(next_abort_ms(1, 1), Some(1_000));
        assert_eq!(next_abort_ms(2, 2), None);
        // Unanswered: again after one second, then two, then given up.
        assert_eq!(next_abort_ms(1, 0), Some(1_000));
        assert_eq!(next_abort_ms(2, 0), Some(2_000));
        assert_eq!(next_abort_ms(3, 0), None);
        // One answer of three tries is all it gets.
        assert_eq!(next_abort_ms(2, 1), Some(2_000));
        assert_eq!(next_abort_ms(3, 1), None);
    }
}
