//! One big file's multipart upload, pure: which parts to hash, sign and send next, and what each
//! answer means. The queue (`queue.rs`) owns the file's status and retries; this owns its parts.
//!
//! A part goes `Waiting -> Hashing -> Hashed -> Signing -> Ready -> Sending -> Stored`. With
//! checksums on, each part's MD5 is computed (streamed from the file, `browser/hash.rs`) before
//! it is signed, so the URL pins its bytes (a signed `Content-MD5`: S3 refuses other bytes);
//! without, `Waiting` parts go straight to `Hashed`. Hashing runs at most one part ahead of the
//! uploads per slot, so it overlaps them. A failed part waits (`Backoff`) and goes again alone,
//! with a fresh URL. A resumed upload first checks the parts S3 holds (`Verify`): each is hashed
//! and compared with S3's ETag (a part's MD5), and nothing is sent until every one matched.

use shared::{
    FormFields, ListedPart, MultipartUpload, PartPlan, PartToSign, SignParts, SignedParts,
};

use super::digest;
use super::progress::use_until_ms;
pub use crate::upload::timing::URL_MARGIN_MS;

/// Parts in flight per file unless `config.json` says otherwise.
pub const DEFAULT_PART_CONCURRENCY: usize = 4;
/// Parts hashed and signed ahead of those sending, per slot.
const AHEAD_PER_SLOT: usize = 2;

#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Waiting,
    Hashing,
    /// Ready to be signed; `md5` in base64 when checksums are on.
    Hashed {
        md5: Option<String>,
    },
    Signing {
        md5: Option<String>,
    },
    Ready {
        md5: Option<String>,
        url: String,
        headers: FormFields,
        /// On the page's clock (`use_until_ms`), with `URL_MARGIN_MS` taken off.
        use_until_ms: f64,
    },
    Sending {
        md5: Option<String>,
        try_: u32,
        sent: u64,
        last_ms: f64,
    },
    /// Failed; signed again and sent at `at_ms`.
    Backoff {
        md5: Option<String>,
        at_ms: f64,
    },
    Stored,
    /// Resuming: S3 holds this part with `etag`; the file's part is hashed to check it.
    Verify {
        etag: String,
        hashing: bool,
    },
}

/// Where the upload stands as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `create` is next (or in flight).
    Create,
    /// `list` is next (resuming, or after `complete` found parts missing).
    List,
    Parts,
    Complete,
}

/// The part number that stands for a single-POST file as a whole (its MD5 is asked for and
/// answered as this part's); a multipart upload's parts are 1 to N.
pub const WHOLE_FILE: u32 = 0;

/// What the queue asks of the edge for a multipart file (beside the file-level commands).
#[derive(Debug, Clone, PartialEq)]
pub enum PartCommand {
    Hash {
        number: u32,
        offset: u64,
        length: u64,
    },
    Sign(SignParts),
    Send {
        number: u32,
        try_: u32,
        url: String,
        headers: FormFields,
        offset: u64,
        length: u64,
    },
}

/// What a part's answer or hash meant for the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing for the file to do.
    Nothing,
    /// The part made progress or was stored.
    Progress,
    /// A checked part's MD5 differs from what S3 holds: this is another file.
    NotTheSameFile,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Multipart {
    /// `None` until `create` answers.
    pub upload: Option<MultipartUpload>,
    pub phase: Phase,
    plan: Option<PartPlan>,
    parts: Vec<Part>,
    /// Bytes of the parts stored (sent and answered, or listed and checked).
    stored: u64,
    /// Bytes of the parts sending now.
    sending: u64,
    checksums: bool,
    /// A `sign-parts` call is in flight; a part is being hashed.
    signing: bool,
    hashing: bool,
    next_try: u32,
    /// How many times `complete` was sent (after a lost answer, S3 may have completed it).
    pub completes: u32,
    /// `complete` found parts missing and the parts were listed again (once per attempt).
    pub relisted: bool,
    /// The first part that may not be stored yet (parts before it all are).
    cursor: usize,
    /// Parts sent at least once and not stored yet: each holds one of the slots until it is
    /// stored, also while it waits to be retried or is signed again (during an outage the parts
    /// already tried wait, rather than new ones failing too: what is lost is at most the parts in
    /// flight).
    started: Vec<bool>,
    open: usize,
    /// For a resumed upload: the unfinished entry it came from, removed once the parts match.
    pub resume_of: Option<u32>,
}

impl Multipart {
    /// A new upload: `create` is next.
    pub fn new(checksums: bool) -> Multipart {
        Multipart {
            upload: None,
            phase: Phase::Create,
            plan: None,
            parts: Vec::new(),
            stored: 0,
            sending: 0,
            checksums,
            signing: false,
            hashing: false,
            next_try: 1,
            completes: 0,
            relisted: false,
            cursor: 0,
            started: Vec::new(),
            open: 0,
            resume_of: None,
        }
    }

    /// An upload created before (a resume record): the parts S3 holds are listed next.
    pub fn resumed(upload: MultipartUpload, size: u64, checksums: bool) -> Option<Multipart> {
        let mut multipart = Multipart::new(checksums);
        multipart.created(upload, size).then_some(())?;
        multipart.phase = Phase::List;
        Some(multipart)
    }

    /// `create` answered with the signer's plan; false when it is not a plan S3 accepts for
    /// `size` (`PartPlan::is_valid`: the page cuts the file by the same numbers).
    pub fn created(&mut self, upload: MultipartUpload, size: u64) -> bool {
        let plan = PartPlan {
            size,
            part_size: upload.part_size,
            parts: upload.parts,
        };
        if !plan.is_valid() {
            return false;
        }
        self.plan = Some(plan);
        self.parts = vec![Part::Waiting; upload.parts as usize];
        self.started = vec![false; upload.parts as usize];
        self.open = 0;
        self.upload = Some(upload);
        self.phase = Phase::Parts;
        self.stored = 0;
        self.sending = 0;
        self.cursor = 0;
        true
    }

    pub fn token(&self) -> Option<&str> {
        self.upload.as_ref().map(|u| u.token.as_str())
    }

    /// Bytes stored plus bytes of the parts sending now.
    pub fn sent(&self) -> u64 {
        self.stored + self.sending
    }

    pub fn all_stored(&self) -> bool {
        !self.parts.is_empty() && self.parts.iter().all(|p| *p == Part::Stored)
    }

    /// Whether a part is being checked against S3's copy (nothing is sent meanwhile).
    pub fn verifying(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Verify { .. }))
    }

    /// Bytes a part has sent in its current try (0 when it is not sending).
    pub fn part_sent(&self, number: u32) -> u64 {
        match self.part_ref(number) {
            Some(Part::Sending { sent, .. }) => *sent,
            _ => 0,
        }
    }

    fn numbered(&self) -> impl Iterator<Item = (u32, &Part)> {
        self.parts
            .iter()
            .enumerate()
            .map(|(i, p)| (i as u32 + 1, p))
    }

    fn part_ref(&self, number: u32) -> Option<&Part> {
        self.parts.get((number as usize).checked_sub(1)?)
    }

    fn part_mut(&mut self, number: u32) -> Option<&mut Part> {
        self.parts.get_mut((number as usize).checked_sub(1)?)
    }

    fn range(&self, number: u32) -> Option<(u64, u64)> {
        self.plan?.part(number)
    }

    /// Everything in flight stops (pause, failure, cancel): parts sending or being signed go back
    /// to `Hashed` (their MD5 is kept), and the bytes in flight no longer count.
    pub fn stop(&mut self) {
        for part in &mut self.parts {
            if let Part::Sending { md5, .. }
            | Part::Signing { md5 }
            | Part::Ready { md5, .. }
            | Part::Backoff { md5, .. } = part
            {
                *part = Part::Hashed { md5: md5.take() };
            }
        }
        self.sending = 0;
        self.signing = false;
        // Nothing holds a slot while stopped (paused, failed): the slots go to other files.
        self.started.iter_mut().for_each(|s| *s = false);
        self.open = 0;
    }

    /// Parts holding a slot: sent at least once and not stored yet.
    pub fn open(&self) -> usize {
        self.open
    }

    /// For a Retry after the file failed: parts not stored are hashed again (the file may have
    /// changed: a `BadDigest` said so).
    pub fn rehash(&mut self) {
        self.stop();
        for part in &mut self.parts {
            if matches!(part, Part::Hashed { .. }) {
                *part = Part::Waiting;
            }
        }
    }

    /// What S3 holds (from `list`): each part at its planned size is checked (resuming) or
    /// trusted (after `complete` found some missing); the rest are sent.
    pub fn listed(&mut self, listed: &[ListedPart], check: bool) {
        self.stop();
        self.stored = 0;
        self.started.iter_mut().for_each(|s| *s = false);
        self.open = 0;
        for (i, part) in self.parts.iter_mut().enumerate() {
            let number = i as u32 + 1;
            let planned = self.plan.and_then(|p| p.part(number)).map(|(_, len)| len);
            let held = listed
                .iter()
                .find(|l| l.number == number && Some(l.size) == planned);
            *part = match held {
                Some(held) if check && is_md5_etag(&held.etag) => Part::Verify {
                    etag: held.etag.trim_matches('"').to_ascii_lowercase(),
                    hashing: false,
                },
                Some(held) => {
                    self.stored += held.size;
                    Part::Stored
                }
                // Not held: sent, with the MD5 already computed if there is one.
                None => match std::mem::replace(part, Part::Waiting) {
                    Part::Hashed { md5 } => Part::Hashed { md5 },
                    _ => Part::Waiting,
                },
            };
        }
        self.cursor = 0;
        self.phase = Phase::Parts;
    }

    /// Bytes S3 holds by a listing (before they are checked): what an unfinished upload shows.
    pub fn held_bytes(listed: &[ListedPart]) -> u64 {
        listed.iter().map(|p| p.size).sum()
    }

    /// A part's MD5 is ready.
    pub fn hashed(&mut self, number: u32, md5: [u8; 16]) -> Outcome {
        self.hashing = false;
        let length = self.range(number).map_or(0, |(_, len)| len);
        let Some(part) = self.part_mut(number) else {
            return Outcome::Nothing;
        };
        match part {
            Part::Hashing => {
                *part = Part::Hashed {
                    md5: Some(digest::base64(&md5)),
                };
                Outcome::Nothing
            }
            Part::Verify {
                etag,
                hashing: true,
            } => {
                if *etag == digest::hex(&md5) {
                    *part = Part::Stored;
                    self.stored += length;
                    Outcome::Progress
                } else {
                    Outcome::NotTheSameFile
                }
            }
            _ => Outcome::Nothing,
        }
    }

    /// `sign-parts` answered: the parts still waiting for a URL get theirs.
    /// `now_ms`: when the answer arrived.
    pub fn signed(&mut self, signed: SignedParts, now_ms: f64) {
        self.signing = false;
        // Every part of one answer is signed at the same moment (its `x-amz-date` header).
        let signed_at = signed
            .parts
            .first()
            .and_then(|p| p.headers.get("x-amz-date"));
        let use_until_ms =
            use_until_ms(&signed.expires_at, signed_at, now_ms, URL_MARGIN_MS).unwrap_or(f64::MAX);
        for signed_part in signed.parts {
            if let Some(part) = self.part_mut(signed_part.number)
                && let Part::Signing { md5 } = part
            {
                *part = Part::Ready {
                    md5: md5.take(),
                    url: signed_part.url,
                    headers: signed_part.headers,
                    use_until_ms,
                };
            }
        }
    }

    /// `sign-parts` failed: the parts are signed again at `at_ms`.
    pub fn sign_failed(&mut self, at_ms: f64) {
        self.signing = false;
        for part in &mut self.parts {
            if let Part::Signing { md5 } = part {
                *part = Part::Backoff {
                    md5: md5.take(),
                    at_ms,
                };
            }
        }
    }

    /// A hash could not be read: the part is hashed again later.
    pub fn hash_failed(&mut self, number: u32) {
        self.hashing = false;
        if let Some(part) = self.part_mut(number) {
            match part {
                Part::Hashing => *part = Part::Waiting,
                Part::Verify { hashing, .. } => *hashing = false,
                _ => {}
            }
        }
    }

    /// Progress of a part's current try; whether it counted.
    pub fn progress(&mut self, number: u32, try_: u32, sent: u64, now_ms: f64) -> bool {
        let length = self.range(number).map_or(0, |(_, len)| len);
        let Some(Part::Sending {
            try_: current,
            sent: so_far,
            last_ms,
            ..
        }) = self.part_mut(number)
        else {
            return false;
        };
        if *current != try_ {
            return false;
        }
        let sent = sent.min(length);
        let grew = sent > *so_far;
        let delta = sent.saturating_sub(*so_far);
        *so_far = (*so_far).max(sent);
        *last_ms = now_ms;
        self.sending += delta;
        grew
    }

    /// Whether `try_` is the part's current try.
    pub fn is_current(&self, number: u32, try_: u32) -> bool {
        matches!(self.part_ref(number), Some(Part::Sending { try_: t, .. }) if *t == try_)
    }

    /// S3 stored the part.
    pub fn stored_part(&mut self, number: u32) {
        let length = self.range(number).map_or(0, |(_, len)| len);
        let index = (number as usize).wrapping_sub(1);
        if let Some(part) = self.parts.get_mut(index)
            && let Part::Sending { sent, .. } = part
        {
            self.sending = self.sending.saturating_sub(*sent);
            *part = Part::Stored;
            self.stored += length;
            if self.started.get(index) == Some(&true) {
                self.started[index] = false;
                self.open -= 1;
            }
        }
    }

    /// The part's try failed: it waits until `at_ms` (0: signed again at once). Its bytes in
    /// flight no longer count.
    pub fn part_failed(&mut self, number: u32, at_ms: f64) {
        let index = (number as usize).wrapping_sub(1);
        if let Some(part) = self.parts.get_mut(index)
            && let Part::Sending { md5, sent, .. } = part
        {
            self.sending = self.sending.saturating_sub(*sent);
            *part = Part::Backoff {
                md5: md5.take(),
                at_ms,
            };
        }
    }

    /// Parts waiting after a failure go at once (the browser is online again).
    pub fn release_all(&mut self) {
        for part in &mut self.parts {
            if let Part::Backoff { at_ms, .. } = part {
                *at_ms = 0.0;
            }
        }
    }

    /// One waiting part goes at once.
    pub fn release(&mut self, number: u32) {
        if let Some(Part::Backoff { at_ms, .. }) = self.part_mut(number) {
            *at_ms = 0.0;
        }
    }

    /// Parts sending with no progress since `before_ms`.
    pub fn stalled(&self, before_ms: f64) -> Vec<u32> {
        self.numbered()
            .filter(|(_, p)| matches!(p, Part::Sending { last_ms, .. } if *last_ms < before_ms))
            .map(|(n, _)| n)
            .collect()
    }

    /// The next steps while the parts go up: release parts whose wait is over, check stored
    /// parts first (resuming), send parts with fresh URLs while fewer than `slots` are in flight,
    /// hash and sign ahead. `slots` may be 0 (other files use every request the browser runs at
    /// once): then only the parts already holding a slot go.
    pub fn next_steps(&mut self, slots: usize, now_ms: f64, out: &mut Vec<PartCommand>) {
        while self.parts.get(self.cursor) == Some(&Part::Stored) {
            self.cursor += 1;
        }
        for part in &mut self.parts[self.cursor..] {
            if let Part::Backoff { md5, at_ms } = part
                && *at_ms <= now_ms
            {
                *part = Part::Hashed { md5: md5.take() };
            }
        }
        if self.verifying() {
            let next = self
                .numbered()
                .find(|(_, p)| matches!(p, Part::Verify { hashing: false, .. }))
                .map(|(n, _)| n);
            if !self.hashing
                && let Some(number) = next
                && let Some((offset, length)) = self.range(number)
            {
                if let Some(Part::Verify { hashing, .. }) = self.part_mut(number) {
                    *hashing = true;
                }
                self.hashing = true;
                out.push(PartCommand::Hash {
                    number,
                    offset,
                    length,
                });
            }
            return;
        }
        let mut in_flight = self.open;
        let mut ahead = 0;
        let mut to_sign = Vec::new();
        // A part waiting to be signed holds a slot already (a retry): sign now.
        let mut urgent = false;
        // Parts signed and waiting for a slot.
        let mut ready_waiting = 0;
        let cursor = self.cursor;
        let plan = self.plan;
        for (i, part) in self.parts.iter_mut().enumerate().skip(cursor) {
            let number = i as u32 + 1;
            let Some((offset, length)) = plan.and_then(|p| p.part(number)) else {
                break;
            };
            match part {
                Part::Ready {
                    md5,
                    url,
                    headers,
                    use_until_ms,
                } => {
                    if *use_until_ms <= now_ms {
                        *part = Part::Hashed { md5: md5.take() };
                    } else if self.started[i] || in_flight < slots {
                        if !self.started[i] {
                            self.started[i] = true;
                            self.open += 1;
                            in_flight += 1;
                        }
                        let try_ = self.next_try;
                        self.next_try += 1;
                        out.push(PartCommand::Send {
                            number,
                            try_,
                            url: std::mem::take(url),
                            headers: std::mem::take(headers),
                            offset,
                            length,
                        });
                        *part = Part::Sending {
                            md5: md5.take(),
                            try_,
                            sent: 0,
                            last_ms: now_ms,
                        };
                        continue;
                    } else {
                        ahead += 1;
                        ready_waiting += 1;
                    }
                }
                Part::Waiting => {
                    // Later parts wait too: nothing more to do in this pass.
                    if ahead >= slots * AHEAD_PER_SLOT || (self.checksums && self.hashing) {
                        break;
                    }
                    if !self.checksums {
                        *part = Part::Hashed { md5: None };
                    } else {
                        self.hashing = true;
                        *part = Part::Hashing;
                        out.push(PartCommand::Hash {
                            number,
                            offset,
                            length,
                        });
                        ahead += 1;
                        continue;
                    }
                }
                Part::Hashing | Part::Signing { .. } => ahead += 1,
                _ => {}
            }
            if let Part::Hashed { md5 } = part
                && !self.signing
            {
                urgent |= self.started[i];
                to_sign.push(PartToSign {
                    number,
                    md5: md5.clone(),
                });
                *part = Part::Signing { md5: md5.take() };
                ahead += 1;
            }
            if ahead >= slots * AHEAD_PER_SLOT && in_flight >= slots {
                break;
            }
        }
        // With checksums parts are hashed one by one: signing each as it is hashed cost a request
        // per part. Hashed parts wait while at least a part per slot is signed and waiting to go,
        // then go together; at once when fewer are (a slot would soon have nothing to send), or
        // when one of them is a retry holding a slot.
        let batch = !self.checksums || urgent || ready_waiting < slots;
        if !batch {
            for part in &to_sign {
                if let Some(part) = self.part_mut(part.number)
                    && let Part::Signing { md5 } = part
                {
                    *part = Part::Hashed { md5: md5.take() };
                }
            }
            return;
        }
        if !to_sign.is_empty()
            && let Some(token) = self.token().map(str::to_string)
        {
            self.signing = true;
            out.push(PartCommand::Sign(SignParts {
                token,
                parts: to_sign,
            }));
        }
    }
}

/// Whether S3's ETag for a part is its MD5 (32 hex digits, quoted): it is unless the bucket
/// encrypts with KMS or customer keys, whose part ETags then cannot be checked.
fn is_md5_etag(etag: &str) -> bool {
    let etag = etag.trim_matches('"');
    etag.len() == 32 && etag.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use shared::{MAX_PARTS_PER_SIGN, SignedPart};

    use super::*;

    const MIB: u64 = 1024 * 1024;

    /// A 300-part upload at the highest part concurrency `config.json` allows (16), parts stored
    /// in the order they were sent, with checksums and without.
    #[test]
    fn every_sign_request_fits_the_signers_limit_and_names_each_part_once() {
        for checksums in [true, false] {
            let parts = 300;
            let size = parts * 8 * MIB;
            let mut multipart = Multipart::new(checksums);
            assert!(multipart.created(upload(parts as u32), size));
            let (mut biggest, mut signed_parts, mut rounds) = (0, BTreeSet::new(), 0);
            let mut sending = Vec::new();
            while !multipart.all_stored() {
                rounds += 1;
                assert!(rounds < 10_000, "no progress");
                let mut out = Vec::new();
                multipart.next_steps(16, 0.0, &mut out);
                for command in out {
                    match command {
                        PartCommand::Hash { number, .. } => {
                            multipart.hashed(number, [number as u8; 16]);
                        }
                        PartCommand::Sign(request) => {
                            let numbers: BTreeSet<u32> =
                                request.parts.iter().map(|p| p.number).collect();
                            assert_eq!(numbers.len(), request.parts.len(), "a part twice");
                            assert!(request.parts.len() <= MAX_PARTS_PER_SIGN);
                            biggest = biggest.max(request.parts.len());
                            signed_parts.extend(numbers);
                            multipart.signed(
                                answer(&request, "20991231T000000Z", "2100-01-01T00:00:00Z"),
                                0.0,
                            );
                        }
                        PartCommand::Send { number, .. } => sending.push(number),
                    }
                }
                // The oldest part in flight lands.
                if !sending.is_empty() {
                    multipart.stored_part(sending.remove(0));
                }
            }
            assert_eq!(signed_parts.len(), parts as usize, "every part signed");
            // Well under the limit: two ahead per slot, 16 slots.
            assert!(biggest <= 48, "{biggest} parts in one request");
        }
    }

    /// A 1 GiB file (128 parts) with checksums, hashing faster than the parts upload (60 ms a
    /// part against 320 ms a part at four at once, a sign answer in 10 ms), events in time order:
    /// every part is sent once, no later than when each part was signed alone, in 49 requests
    /// instead of 128.
    #[test]
    fn hashed_parts_are_signed_in_batches_without_keeping_a_slot_waiting() {
        let parts = 128u32;
        let mut multipart = Multipart::new(true);
        assert!(multipart.created(upload(parts), u64::from(parts) * 8 * MIB));
        // (when, what): 0 hashed, 1 signed, 2 stored.
        let mut events: Vec<(f64, u8, u32, Option<SignParts>)> = Vec::new();
        let (mut now, mut signs, mut sends) = (0.0, 0, BTreeSet::new());
        while !multipart.all_stored() {
            let mut out = Vec::new();
            multipart.next_steps(4, now, &mut out);
            for command in out {
                match command {
                    PartCommand::Hash { number, .. } => events.push((now + 60.0, 0, number, None)),
                    PartCommand::Sign(request) => {
                        signs += 1;
                        events.push((now + 10.0, 1, 0, Some(request)));
                    }
                    PartCommand::Send { number, .. } => {
                        assert!(sends.insert(number), "part {number} sent twice");
                        events.push((now + 320.0, 2, number, None));
                    }
                }
            }
            events.sort_by(|a, b| b.0.total_cmp(&a.0));
            let (at, kind, number, request) = events.pop().expect("something is under way");
            now = at;
            match (kind, request) {
                (0, _) => {
                    multipart.hashed(number, [number as u8; 16]);
                }
                (1, Some(request)) => multipart.signed(
                    answer(&request, "20991231T000000Z", "2100-01-01T00:00:00Z"),
                    now,
                ),
                _ => multipart.stored_part(number),
            }
        }
        assert_eq!(sends.len(), parts as usize);
        // As fast as signing each part alone (measured with that rule: 10,490 ms, 128 requests).
        assert!(now <= 10_490.0, "{now} ms: slots waited for signatures");
        assert!(signs <= 50, "{signs} sign requests for {parts} parts");
    }

    fn upload(parts: u32) -> MultipartUpload {
        MultipartUpload {
            key: "uploads/id/big.iso".into(),
            upload_id: "up".into(),
            part_size: 8 * MIB,
            parts,
            token: "v2.k.t.s".into(),
            expires_at: "2100-01-01T00:00:00Z".into(),
        }
    }

    /// Signs what a `Sign` asks for, with URLs valid from `date` until `expires_at`.
    fn answer(request: &SignParts, date: &str, expires_at: &str) -> SignedParts {
        SignedParts {
            parts: request
                .parts
                .iter()
                .map(|p| SignedPart {
                    number: p.number,
                    url: format!("http://s3/{}", p.number),
                    headers: FormFields(vec![("x-amz-date".into(), date.into())]),
                })
                .collect(),
            expires_at: expires_at.into(),
        }
    }

    /// One pass of `next_steps` with the hashes and signatures answered at once; the parts sent.
    fn pass(multipart: &mut Multipart, slots: usize, now_ms: f64, date: &str) -> Vec<(u32, u32)> {
        let mut sent = Vec::new();
        for _ in 0..50 {
            let mut out = Vec::new();
            multipart.next_steps(slots, now_ms, &mut out);
            if out.is_empty() {
                break;
            }
            for command in out {
                match command {
                    PartCommand::Hash { number, .. } => {
                        multipart.hashed(number, [number as u8; 16]);
                    }
                    PartCommand::Sign(request) => {
                        multipart.signed(answer(&request, date, "2100-01-01T00:00:00Z"), now_ms)
                    }
                    PartCommand::Send { number, try_, .. } => sent.push((number, try_)),
                }
            }
        }
        sent
    }

    #[test]
    fn a_failed_part_keeps_its_slot_waits_and_goes_again_with_a_new_try() {
        let mut multipart = Multipart::new(false);
        assert!(multipart.created(upload(10), 80 * MIB));
        let sent = pass(&mut multipart, 3, 0.0, "20991231T000000Z");
        assert_eq!(sent.iter().map(|s| s.0).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(multipart.open(), 3);
        // Part 2 fails: it waits until 5 s, holding its slot, so nothing new goes meanwhile.
        multipart.part_failed(2, 5_000.0);
        assert!(pass(&mut multipart, 3, 1_000.0, "20991231T000000Z").is_empty());
        let again = pass(&mut multipart, 3, 5_000.0, "20991231T000000Z");
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].0, 2);
        assert!(
            again[0].1 > sent[1].1,
            "a new try: {again:?} after {sent:?}"
        );
        // An answer to the old try no longer counts.
        assert!(!multipart.is_current(2, sent[1].1));
        assert!(!multipart.progress(2, sent[1].1, 100, 5_100.0));
        assert!(multipart.progress(2, again[0].1, 100, 5_100.0));
        // Stored parts free their slots for the next ones, in order.
        multipart.stored_part(1);
        multipart.stored_part(3);
        let next = pass(&mut multipart, 3, 6_000.0, "20991231T000000Z");
        assert_eq!(next.iter().map(|s| s.0).collect::<Vec<_>>(), [4, 5]);
        assert_eq!(multipart.sent(), 16 * MIB + 100);
    }

    #[test]
    fn a_part_url_about_to_expire_is_signed_again_before_it_is_sent() {
        let mut multipart = Multipart::new(false);
        assert!(multipart.created(upload(2), 16 * MIB));
        // URLs that live 30 s: used for half of it (the margin is at most half the lifetime),
        // so a part that starts 16 s after they arrived gets new ones first.
        let mut out = Vec::new();
        multipart.next_steps(2, 0.0, &mut out);
        let Some(PartCommand::Sign(request)) = out.pop() else {
            panic!("{out:?}");
        };
        multipart.signed(
            answer(&request, "20991231T235930Z", "2100-01-01T00:00:00Z"),
            0.0,
        );
        let mut out = Vec::new();
        multipart.next_steps(2, 16_000.0, &mut out);
        assert!(
            matches!(&out[..], [PartCommand::Sign(again)] if again.parts.len() == 2),
            "{out:?}"
        );
        // Signed again for a day: sent.
        let PartCommand::Sign(again) = &out[0] else {
            unreachable!()
        };
        multipart.signed(
            answer(again, "20991231T000000Z", "2100-01-01T00:00:00Z"),
            2.0,
        );
        let mut out = Vec::new();
        multipart.next_steps(2, 3.0, &mut out);
        assert_eq!(
            out.iter()
                .filter(|c| matches!(c, PartCommand::Send { .. }))
                .count(),
            2
        );
    }

    #[test]
    fn resuming_checks_each_held_part_against_the_file_before_trusting_it() {
        let held = |number: u32, md5: [u8; 16]| ListedPart {
            number,
            size: 8 * MIB,
            etag: format!("\"{}\"", digest::hex(&md5)),
        };
        // Parts 1 and 2 held with the file's MD5s: stored once hashed; part 3 is sent.
        let mut multipart = Multipart::resumed(upload(3), 24 * MIB, true).unwrap();
        assert_eq!(multipart.phase, Phase::List);
        multipart.listed(&[held(1, [1; 16]), held(2, [2; 16])], true);
        assert!(multipart.verifying());
        let sent = pass(&mut multipart, 4, 0.0, "20991231T000000Z");
        assert_eq!(sent.iter().map(|s| s.0).collect::<Vec<_>>(), [3]);
        assert_eq!(multipart.sent(), 16 * MIB);
        // Another file of the same name and size: its first part's MD5 differs.
        let mut other = Multipart::resumed(upload(3), 24 * MIB, true).unwrap();
        other.listed(&[held(1, [9; 16])], true);
        let mut out = Vec::new();
        other.next_steps(4, 0.0, &mut out);
        assert!(
            matches!(out[..], [PartCommand::Hash { number: 1, .. }]),
            "{out:?}"
        );
        assert_eq!(other.hashed(1, [1; 16]), Outcome::NotTheSameFile);
        // A part of another size, or an ETag that is no MD5 (KMS), is not trusted as it is.
        let mut odd = Multipart::resumed(upload(3), 24 * MIB, true).unwrap();
        odd.listed(
            &[ListedPart {
                number: 1,
                size: MIB,
                etag: "\"x\"".into(),
            }],
            true,
        );
        assert_eq!(odd.sent(), 0);
        assert!(!is_md5_etag("\"abc\""));
        assert!(is_md5_etag("\"0123456789abcdef0123456789ABCDEF\""));
    }
}
