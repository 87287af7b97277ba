//! The queue's one test harness: a `Journey` is a queue, a clock, and a browser edge that answers
//! what the test does not (whole-file hashes at once in `send`; everything in `drive`, but what a
//! `fault` answers instead), with the files, rules and answers the tests share.

use std::collections::{BTreeMap, VecDeque};

use shared::{ContentTypePattern, ListedPart, SignParts, SignedPart};

use super::*;
use crate::upload::digest;
use crate::upload::multipart::PartCommand;

pub(super) fn rules(max_bytes: u64, types: &[&str]) -> UploadRules {
    UploadRules {
        max_bytes,
        allow_empty: false,
        allowed_content_types: types
            .iter()
            .map(|t| ContentTypePattern::parse(t).unwrap())
            .collect(),
        prefix: "uploads/".into(),
        multipart_threshold_bytes: 64 * 1024 * 1024,
        sign_in: None,
        require_md5: false,
    }
}

/// Rules that refuse nothing and send nothing in parts.
pub(super) fn any_file() -> UploadRules {
    UploadRules {
        max_bytes: u64::MAX,
        allow_empty: true,
        multipart_threshold_bytes: u64::MAX,
        ..rules(0, &["*/*"])
    }
}

pub(super) fn file(name: &str, size: u64, content_type: &str) -> FileInfo {
    FileInfo {
        name: name.into(),
        size,
        content_type: content_type.into(),
        last_modified: 1_700_000_000_000 + size,
    }
}

pub(super) fn signed(key: &str) -> SignResponse {
    SignResponse {
        method: "POST".into(),
        url: "http://127.0.0.1:9000/uploads".into(),
        key: key.into(),
        fields: FormFields(vec![("key".into(), key.into())]),
        // Ten minutes after the tests' clock starts (at 0).
        expires_at: "1970-01-01T00:10:00Z".into(),
        token: format!("token-for-{key}"),
    }
}

pub(super) fn created(key: &str) -> String {
    format!(
        "<PostResponse><Location>/uploads/{key}</Location><Bucket>uploads</Bucket><Key>{key}</Key><ETag>\"abc\"</ETag></PostResponse>"
    )
}

pub(super) fn s3_error(code: &str, message: &str) -> String {
    format!("<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>")
}

/// A queue and a clock.
pub(super) struct Journey {
    pub(super) queue: Queue,
    pub(super) now: f64,
    /// What the queue told the page's host, in order (kept apart from the other commands).
    pub(super) told: Vec<Told>,
    /// What `drive` saw: every command, the sends of each part, the parts signed and hashed.
    pub(super) seen: Vec<Command>,
    pub(super) sends: BTreeMap<u32, u32>,
    pub(super) signed: Vec<u32>,
    pub(super) hashed: Vec<u32>,
    /// `drive` answers part hashes as another file's (a file changed since its parts were sent).
    pub(super) other_file: bool,
}

impl Journey {
    /// A queue whose rules allow any file (none goes up in parts), as the signer's `/rules`
    /// answered at once.
    pub(super) fn new(concurrency: usize) -> Journey {
        let mut journey = Journey::without_rules(concurrency);
        journey.send(Event::RulesLoaded(any_file()));
        journey
    }

    /// A queue whose rules send files over 16 MiB in parts (`big_file`: 5 parts of 8 MiB), four
    /// files and `parts` parts at once, with or without checksums.
    pub(super) fn multipart(checksums: bool, parts: usize) -> Journey {
        let mut journey = Journey {
            queue: Queue::new(4, 7),
            ..Journey::without_rules(4)
        };
        journey.queue.set_checksums(checksums);
        journey.queue.set_part_concurrency(parts);
        journey.queue.update(
            0.0,
            Event::RulesLoaded(UploadRules {
                max_bytes: 5 << 40,
                allow_empty: false,
                allowed_content_types: vec![ContentTypePattern::parse("*/*").unwrap()],
                prefix: "uploads/".into(),
                multipart_threshold_bytes: 16 * MIB,
                sign_in: None,
                require_md5: false,
            }),
        );
        journey
    }

    /// A queue that has not heard the rules yet.
    pub(super) fn without_rules(concurrency: usize) -> Journey {
        Journey {
            queue: Queue::new(concurrency, 42),
            now: 0.0,
            told: Vec::new(),
            seen: Vec::new(),
            sends: BTreeMap::new(),
            signed: Vec::new(),
            hashed: Vec::new(),
            other_file: false,
        }
    }

    pub(super) fn add(&mut self, files: &[FileInfo]) -> Vec<Command> {
        let first = self
            .queue
            .entries()
            .iter()
            .map(|e| e.id + 1)
            .max()
            .unwrap_or(1);
        let files = files
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, f)| (first + i as u32, f))
            .collect();
        self.send(Event::Added {
            files,
            earlier: Vec::new(),
        })
    }

    /// Sends `event`; a file's MD5 asked for is answered at once (as an edge that hashes
    /// instantly), so the commands are what follows it (the sign requests).
    pub(super) fn send(&mut self, event: Event) -> Vec<Command> {
        let mut out = Vec::new();
        let mut pending = std::collections::VecDeque::from([event]);
        while let Some(event) = pending.pop_front() {
            for command in self.queue.update(self.now, event) {
                match command {
                    Command::Part {
                        id,
                        command:
                            PartCommand::Hash {
                                number: WHOLE_FILE, ..
                            },
                        ..
                    } => pending.push_back(Event::PartHashed {
                        id,
                        number: WHOLE_FILE,
                        md5: [7; 16],
                    }),
                    Command::Tell(told) => self.told.push(told),
                    other => out.push(other),
                }
            }
        }
        out
    }

    /// Moves the clock to `now`, then sends `event`.
    pub(super) fn at(&mut self, now: f64, event: Event) -> Vec<Command> {
        self.now = now;
        self.send(event)
    }

    pub(super) fn status(&self, id: FileId) -> Status {
        self.queue.entry(id).unwrap().status
    }

    pub(super) fn attempt(&self, id: FileId) -> u32 {
        self.queue.entry(id).unwrap().attempt
    }

    pub(super) fn code(&self, id: FileId) -> Option<String> {
        self.queue
            .entry(id)
            .unwrap()
            .failure
            .as_ref()
            .map(|f| f.code.to_string())
    }

    /// Signs (unless it is uploading already) and uploads `id`'s current attempt to the end
    /// with S3's answer `status`/`body`.
    pub(super) fn upload(&mut self, id: FileId, status: u16, body: &str) -> Vec<Command> {
        let attempt = self.attempt(id);
        if self.status(id) == Status::Signing {
            let key = format!("uploads/{id}-{attempt}/f");
            let commands = self.send(Event::Signed {
                id,
                attempt,
                response: signed(&key),
            });
            assert!(
                commands
                    .iter()
                    .any(|c| matches!(c, Command::Upload { id: i, .. } if *i == id)),
                "{commands:?}"
            );
        }
        assert_eq!(self.status(id), Status::Uploading);
        let size = self.queue.entry(id).unwrap().file.size;
        self.now += 600.0;
        self.send(Event::Progress {
            id,
            attempt,
            sent: size / 2,
        });
        self.now += 600.0;
        self.send(Event::BodySent { id, attempt });
        assert_eq!(self.status(id), Status::Finalizing);
        self.send(Event::Answered {
            id,
            attempt,
            status,
            body: body.into(),
        })
    }
}

pub(super) fn signs(commands: &[Command]) -> Vec<FileId> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Sign { id, .. } => Some(*id),
            _ => None,
        })
        .collect()
}

pub(super) fn retry_after(commands: &[Command]) -> Option<(FileId, u32, u32)> {
    commands.iter().find_map(|c| match c {
        Command::RetryAfter {
            id,
            attempt,
            delay_ms,
        } => Some((*id, *attempt, *delay_ms)),
        _ => None,
    })
}

pub(super) const MIB: u64 = 1024 * 1024;
/// 5 parts of 8 MiB, the last 4 MiB.
pub(super) const SIZE: u64 = 36 * MIB;

pub(super) fn big_file() -> FileInfo {
    FileInfo {
        name: "big.iso".into(),
        size: SIZE,
        content_type: "application/octet-stream".into(),
        last_modified: 1_700_000_000_000,
    }
}

pub(super) fn upload() -> MultipartUpload {
    MultipartUpload {
        key: "uploads/id/big.iso".into(),
        upload_id: "up-1".into(),
        part_size: 8 * MIB,
        parts: 5,
        token: "v1.t.s".into(),
        expires_at: "2100-01-01T00:00:00Z".into(),
    }
}

/// The MD5 the fake file's part `n` has (`other`: a different file's).
pub(super) fn md5(number: u32, other: bool) -> [u8; 16] {
    [number as u8 + if other { 100 } else { 0 }; 16]
}

/// The signer's answer to `request`: a URL per part, each with `headers`.
pub(super) fn parts_signed(
    id: FileId,
    attempt: u32,
    request: &SignParts,
    headers: FormFields,
    expires_at: String,
) -> Event {
    Event::PartsSigned {
        id,
        attempt,
        parts: SignedParts {
            parts: request
                .parts
                .iter()
                .map(|p| SignedPart {
                    number: p.number,
                    url: format!("http://s3/k?partNumber={}", p.number),
                    headers: headers.clone(),
                })
                .collect(),
            expires_at,
        },
    }
}

impl Journey {
    /// Runs `commands` and everything they lead to, answering each at once (but what `fault`
    /// answers instead) at `now`; returns when nothing is left.
    pub(super) fn drive(
        &mut self,
        now: f64,
        commands: Vec<Command>,
        fault: &mut dyn FnMut(&Command) -> Option<Vec<Event>>,
    ) {
        let mut work: VecDeque<Command> = commands.into();
        while let Some(command) = work.pop_front() {
            self.seen.push(command.clone());
            if let Command::Part {
                command: PartCommand::Send { number, .. },
                ..
            } = &command
            {
                *self.sends.entry(*number).or_default() += 1;
            }
            let events = match fault(&command) {
                Some(events) => events,
                None => self.answer(&command),
            };
            for event in events {
                work.extend(self.queue.update(now, event));
            }
        }
    }

    pub(super) fn answer(&mut self, command: &Command) -> Vec<Event> {
        match command {
            Command::CreateMultipart { id, attempt, .. } => vec![Event::Created {
                id: *id,
                attempt: *attempt,
                upload: upload(),
            }],
            Command::Part {
                id,
                attempt,
                command,
            } => match command {
                PartCommand::Hash { number, .. } => {
                    self.hashed.push(*number);
                    vec![Event::PartHashed {
                        id: *id,
                        number: *number,
                        md5: md5(*number, self.other_file),
                    }]
                }
                PartCommand::Sign(request) => {
                    self.signed.extend(request.parts.iter().map(|p| p.number));
                    vec![parts_signed(
                        *id,
                        *attempt,
                        request,
                        FormFields(vec![]),
                        "2100-01-01T00:00:00Z".into(),
                    )]
                }
                PartCommand::Send {
                    number,
                    try_,
                    length,
                    ..
                } => {
                    vec![
                        Event::PartProgress {
                            id: *id,
                            number: *number,
                            try_: *try_,
                            sent: length / 2,
                        },
                        Event::PartAnswered {
                            id: *id,
                            number: *number,
                            try_: *try_,
                            status: 200,
                            body: String::new(),
                        },
                    ]
                }
            },
            Command::CompleteMultipart { id, attempt, .. } => vec![Event::Completed {
                id: *id,
                attempt: *attempt,
                upload: CompletedUpload {
                    key: "uploads/id/big.iso".into(),
                    etag: "\"e-5\"".into(),
                },
            }],
            Command::ListParts { id, attempt, .. } => vec![Event::Listed {
                id: *id,
                attempt: *attempt,
                parts: ListedParts {
                    parts: (1..=2)
                        .map(|number| ListedPart {
                            number,
                            size: 8 * MIB,
                            etag: format!("\"{}\"", digest::hex(&md5(number, false))),
                        })
                        .collect(),
                },
            }],
            _ => vec![],
        }
    }

    pub(super) fn count(&self, matches: impl Fn(&Command) -> bool) -> usize {
        self.seen.iter().filter(|c| matches(c)).count()
    }
}

pub(super) fn no_fault(_: &Command) -> Option<Vec<Event>> {
    None
}

pub(super) fn added(queue: &mut Queue, now: f64, id: FileId) -> Vec<Command> {
    queue.update(
        now,
        Event::Added {
            earlier: vec![],
            files: vec![(id, big_file())],
        },
    )
}
