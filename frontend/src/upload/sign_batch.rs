//! How the page groups its sign requests, pure: files wait here until one of the
//! `SIGN_REQUESTS_AT_ONCE` requests is free, then go up to `SIGN_BATCH_FILES` to a
//! `/sign/batch` request (one alone goes to `/sign`; all go one by one once a signer without
//! `/sign/batch` answered a batch 404 or 405). A request unanswered for `SIGN_ANSWER_MS` stops
//! holding its place: a signer that never answers must not hold back every file (the queue's
//! stall timeout signs its files again). The edge (`app/effects.rs`) sends what this hands it.

use shared::SignRequest;

use super::queue::FileId;
use super::timing::SIGN_ANSWER_MS;

/// Sign requests out at once: one in flight while the next batch gathers files (two, so a
/// slow answer does not hold every file back).
pub const SIGN_REQUESTS_AT_ONCE: usize = 2;
/// Files in one batch: half the signer's 32 (`shared::MAX_BATCH_FILES`), and a body far under
/// its 128 KiB even with long names and upload tokens.
pub const SIGN_BATCH_FILES: usize = 16;
const _: () = assert!(SIGN_BATCH_FILES <= shared::MAX_BATCH_FILES);

/// One file to sign: its id, the attempt and what the signer is asked.
pub type SignJob = (FileId, u32, SignRequest);

/// The files waiting to be signed, and the sign requests out.
#[derive(Debug, Default)]
pub struct SignBatcher {
    waiting: Vec<SignJob>,
    /// The sign requests out: their number and when they were sent.
    out: Vec<(u32, f64)>,
    next: u32,
    /// The signer answered a batch 404 or 405 (it has no `/sign/batch`): one file per request.
    one_by_one: bool,
}

impl SignBatcher {
    /// A file to sign, sent with the others waiting when a request is free (`take`).
    pub fn push(&mut self, job: SignJob) {
        self.waiting.push(job);
    }

    /// The file is no longer in the list: it is not signed.
    pub fn forget(&mut self, id: FileId) {
        self.waiting.retain(|(file, _, _)| *file != id);
    }

    pub fn is_idle(&self) -> bool {
        self.waiting.is_empty()
    }

    /// The requests to send now (their number and files), as many as there are free places at
    /// `now_ms`.
    pub fn take(&mut self, now_ms: f64) -> Vec<(u32, Vec<SignJob>)> {
        self.out
            .retain(|&(_, started)| now_ms - started < SIGN_ANSWER_MS);
        let mut requests = Vec::new();
        while self.out.len() < SIGN_REQUESTS_AT_ONCE && !self.waiting.is_empty() {
            let take = if self.one_by_one {
                1
            } else {
                SIGN_BATCH_FILES.min(self.waiting.len())
            };
            let rest = self.waiting.split_off(take);
            let files = std::mem::replace(&mut self.waiting, rest);
            let request = self.next;
            self.next = request.wrapping_add(1);
            self.out.push((request, now_ms));
            requests.push((request, files));
        }
        requests
    }

    /// Request `request` ended; `again` are its files to sign one by one (the signer has no
    /// `/sign/batch`), ahead of the others waiting.
    pub fn settled(&mut self, request: u32, again: Vec<SignJob>) {
        self.out.retain(|&(out, _)| out != request);
        if !again.is_empty() {
            self.one_by_one = true;
            let mut again = again;
            again.append(&mut self.waiting);
            self.waiting = again;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: FileId) -> SignJob {
        (
            id,
            1,
            SignRequest {
                filename: format!("f{id}"),
                content_type: "text/plain".into(),
                size: 1,
                token: None,
                content_md5: None,
            },
        )
    }

    fn ids(files: &[SignJob]) -> Vec<FileId> {
        files.iter().map(|(id, _, _)| *id).collect()
    }

    #[test]
    fn files_go_sixteen_to_a_request_two_requests_at_once() {
        let mut batcher = SignBatcher::default();
        for id in 1..=40 {
            batcher.push(job(id));
        }
        let sent = batcher.take(0.0);
        assert_eq!(sent.len(), 2);
        assert_eq!(ids(&sent[0].1), (1..=16).collect::<Vec<_>>());
        assert_eq!(ids(&sent[1].1), (17..=32).collect::<Vec<_>>());
        // Both places taken: the rest wait, until one answers.
        assert!(batcher.take(100.0).is_empty());
        batcher.settled(sent[0].0, Vec::new());
        let next = batcher.take(200.0);
        assert_eq!(ids(&next[0].1), (33..=40).collect::<Vec<_>>());
        assert!(batcher.is_idle());
    }

    #[test]
    fn an_unanswered_request_frees_its_place_and_forgotten_files_are_not_signed() {
        let mut batcher = SignBatcher::default();
        for id in 1..=40 {
            batcher.push(job(id));
        }
        batcher.take(0.0);
        batcher.forget(33);
        for id in 41..=60 {
            batcher.push(job(id));
        }
        assert!(batcher.take(SIGN_ANSWER_MS - 1.0).is_empty());
        let late = batcher.take(SIGN_ANSWER_MS);
        assert_eq!(late.len(), 2, "both places free again");
        assert_eq!(ids(&late[0].1), (34..=49).collect::<Vec<_>>());
        assert_eq!(ids(&late[1].1), (50..=60).collect::<Vec<_>>());
    }

    #[test]
    fn a_signer_without_batches_gets_one_file_a_request_from_then_on() {
        let mut batcher = SignBatcher::default();
        for id in 1..=20 {
            batcher.push(job(id));
        }
        let sent = batcher.take(0.0);
        // The batch was answered 404: its files go again first, one by one.
        batcher.settled(sent[0].0, sent[0].1.clone());
        let one = batcher.take(1.0);
        assert_eq!(one.len(), 1);
        assert_eq!(ids(&one[0].1), [1]);
        batcher.settled(one[0].0, Vec::new());
        batcher.settled(sent[1].0, Vec::new());
        let next = batcher.take(2.0);
        assert_eq!(
            next.iter().map(|(_, f)| ids(f)).collect::<Vec<_>>(),
            [[2], [3]]
        );
    }
}
