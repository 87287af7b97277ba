//! Scheduling: which queued files start when a slot frees (`concurrency` files, at most
//! `MAX_STORAGE_REQUESTS` requests to storage), and which are signed ahead.

use super::*;

impl Queue {
    /// After every event but progress: queued files start while slots are free, big files'
    /// parts use the requests a finished one freed, and ends are told.
    pub(super) fn go_on(&mut self, commands: &mut Vec<Command>) {
        self.start_waiting(commands);
        let uploading: Vec<FileId> = self
            .multiparts
            .keys()
            .copied()
            .filter(|id| {
                self.entry(*id)
                    .is_some_and(|e| e.status == Status::Uploading)
            })
            .collect();
        for id in uploading {
            self.next_steps(id, commands);
        }
        self.tell(commands);
    }

    /// Requests to storage in flight or about to be (files signing or uploading as one POST, and
    /// the parts holding a slot), but for `except`'s.
    pub(super) fn storage_requests(&self, except: Option<FileId>) -> usize {
        let singles = self
            .entries
            .iter()
            .filter(|e| !e.multipart && e.status.is_active() && Some(e.id) != except)
            .count();
        let parts: usize = self
            .multiparts
            .iter()
            .filter(|(id, _)| Some(**id) != except)
            .map(|(_, m)| m.open())
            .sum();
        singles + parts
    }

    /// Starts queued files, in order, while there are free slots (with the form signed ahead
    /// when there is a fresh one), then signs ahead for the files next in line.
    pub(super) fn start_waiting(&mut self, commands: &mut Vec<Command>) {
        // Until the rules are known nothing starts: a file may be one they refuse, or one to send
        // in parts (issue #21: picked the moment the page appeared, before `/rules` answered).
        if self.rules.is_none() {
            return;
        }
        let now_ms = self.now_ms;
        let threshold = self.multipart_threshold();
        let checksums = self.md5s();
        let mut free = self.concurrency.saturating_sub(self.active());
        let mut requests = MAX_STORAGE_REQUESTS.saturating_sub(self.storage_requests(None));
        let mut big = Vec::new();
        for entry in &mut self.entries {
            if free == 0 {
                break;
            }
            if entry.status != Status::Queued {
                continue;
            }
            free -= 1;
            if entry.multipart || entry.file.size > threshold {
                big.push(entry.id);
                continue;
            }
            // No request beyond what the browser runs at once (big files' parts use some).
            if requests == 0 {
                free += 1;
                continue;
            }
            requests -= 1;
            entry.re_signed_after_expiry = false;
            entry.sent = 0;
            entry.last_activity_ms = now_ms;
            entry.status = Status::Signing;
            // Its MD5 first (no form is signed without it); `file_hashed` signs.
            if checksums && !md5_ready(entry, commands) {
                continue;
            }
            match std::mem::replace(&mut entry.ahead, Ahead::No) {
                Ahead::Ready {
                    response,
                    signed_at_ms,
                } if is_fresh(&response, signed_at_ms, now_ms) => {
                    start_upload(entry, response, now_ms, commands);
                }
                // The answer on its way is for this attempt: it arrives as `Signed`.
                Ahead::Asked => {}
                _ => commands.push(sign_command(entry)),
            }
        }
        for id in big {
            self.start_multipart(id, commands);
        }
        let mut ahead = self
            .entries
            .iter()
            .filter(|e| {
                e.status == Status::Queued && matches!(e.ahead, Ahead::Asked | Ahead::Ready { .. })
            })
            .count();
        for entry in &mut self.entries {
            if ahead >= SIGN_AHEAD_PER_SLOT * self.concurrency {
                break;
            }
            if entry.status == Status::Queued
                && entry.ahead == Ahead::No
                && !entry.multipart
                && entry.file.size <= threshold
            {
                // Hashed ahead too, then signed ahead once hashed.
                if checksums && !md5_ready(entry, commands) {
                    ahead += 1;
                    continue;
                }
                entry.ahead = Ahead::Asked;
                commands.push(sign_command(entry));
                ahead += 1;
            }
        }
    }
}
