//! Totals across the list (`Summary`), and `tell`: what the page tells its host (`Told`), each
//! file's end once and the list's when nothing is left to run.

use super::*;

/// Totals across the list.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub sent: u64,
    pub total: u64,
    pub percent: u8,
    pub counts: Vec<(Status, usize)>,
    /// Sum of the speeds of the files uploading now.
    pub bytes_per_second: f64,
    /// Time to send what is left at that speed, while something uploads.
    pub seconds_left: Option<f64>,
    /// Whether "Cancel all" / "Retry all" would do anything.
    pub can_cancel_any: bool,
    pub can_retry_any: bool,
}

impl Queue {
    pub fn summary(&self) -> Summary {
        let counted = |e: &&Entry| {
            !matches!(
                e.status,
                Status::Refused | Status::Cancelled | Status::Failed | Status::Unfinished
            )
        };
        let total: u64 = self
            .entries
            .iter()
            .filter(counted)
            .map(|e| e.file.size)
            .sum();
        let sent: u64 = self
            .entries
            .iter()
            .filter(counted)
            .map(|e| {
                if e.status == Status::Done {
                    e.file.size
                } else {
                    e.sent
                }
            })
            .sum();
        let all_done = self
            .entries
            .iter()
            .filter(counted)
            .all(|e| e.status == Status::Done);
        let counts = Status::ALL
            .iter()
            .map(|&s| (s, self.entries.iter().filter(|e| e.status == s).count()))
            .filter(|&(_, n)| n > 0)
            .collect();
        let bytes_per_second = self
            .entries
            .iter()
            .filter(|e| e.status == Status::Uploading)
            .map(|e| e.speed.bytes_per_second())
            .sum();
        let seconds_left =
            (bytes_per_second > 0.0).then(|| total.saturating_sub(sent) as f64 / bytes_per_second);
        Summary {
            seconds_left,
            can_cancel_any: self.entries.iter().any(|e| e.status.can_cancel()),
            can_retry_any: self.entries.iter().any(|e| e.status.can_retry()),
            sent,
            total,
            // A batch of 0-byte files is done at 100% too.
            percent: if all_done && self.entries.iter().any(|e| counted(&e)) {
                100
            } else {
                percent(sent, total)
            },
            counts,
            bytes_per_second,
        }
    }

    /// Each file's end told once (done; failed or refused), and the list's once nothing is left
    /// to run after some file ended. A file that runs again (Retry) is told again when it ends.
    /// One pass over the list, as `start_waiting` makes; progress events never get here.
    pub(super) fn tell(&mut self, commands: &mut Vec<Command>) {
        let (mut running, mut done, mut failed) = (false, 0, 0);
        for entry in &mut self.entries {
            let told = match entry.status {
                Status::Done => {
                    done += 1;
                    Told::Done(entry.id)
                }
                // Another tab took it over: that tab tells its end.
                Status::Refused
                    if entry
                        .failure
                        .as_ref()
                        .is_some_and(|f| f.code == FailureCode::Page(PageCode::OtherTab)) =>
                {
                    continue;
                }
                Status::Failed | Status::Refused => {
                    failed += 1;
                    Told::Failed(entry.id)
                }
                status => {
                    running |= !matches!(status, Status::Cancelled | Status::Unfinished);
                    entry.told = false;
                    continue;
                }
            };
            if !entry.told {
                entry.told = true;
                self.ends_told = true;
                commands.push(Command::Tell(told));
            }
        }
        if self.ends_told && !running {
            self.ends_told = false;
            commands.push(Command::Tell(Told::AllDone { done, failed }));
        }
    }
}
