//! Runs the queue's commands against the browser: signer calls (`browser::signer`), uploads and
//! parts (`browser::xhr`), part checksums (`browser::hash`), resume records
//! (`browser::records`), aborts and retry timers, and what the page tells its host
//! (`browser::host`).

use gloo::timers::callback::Timeout;
use shared::{ErrorCode, SignResponse};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use super::{App, Msg, StorageRequest};
use crate::browser::xhr::{self, XhrEvent};
use crate::browser::{hash, host, json, records, sent, signer, sleep};
use crate::upload::form::form_parts;
use crate::upload::multipart::{PartCommand, WHOLE_FILE};
use crate::upload::queue::{
    Command, Event, FileId, SignError, Told, TransportCause, asked_type, next_abort_ms,
};
use crate::upload::resume::ResumeRecord;
use crate::upload::sign_batch::SignJob;

/// Reads a signer's answer into the event for the queue (the file and attempt it is for first).
pub type ReadAnswer = fn(FileId, u32, &str) -> Option<Event>;

impl App {
    /// Runs the queue's commands against the browser.
    pub(super) fn run(&mut self, ctx: &Context<Self>, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::Upload {
                    id,
                    attempt,
                    url,
                    fields,
                } => {
                    let (Some(file), Some(entry)) = (self.files.get(&id), self.queue.entry(id))
                    else {
                        continue;
                    };
                    let size = entry.file.size;
                    let link = ctx.link().clone();
                    let url_for_probe = url.clone();
                    let report = move |event: XhrEvent| match event {
                        XhrEvent::Progress(sent) => {
                            link.send_message(Msg::Queue(Event::Progress { id, attempt, sent }))
                        }
                        XhrEvent::BodySent => {
                            link.send_message(Msg::Queue(Event::BodySent { id, attempt }))
                        }
                        XhrEvent::Answered { status, body } => {
                            link.send_message(Msg::Queue(Event::Answered {
                                id,
                                attempt,
                                status,
                                body,
                            }))
                        }
                        XhrEvent::Failed => link.send_message(Msg::XhrFailed {
                            id,
                            request: StorageRequest::Form { attempt },
                            url: url_for_probe.clone(),
                        }),
                    };
                    match xhr::start(&url, &form_parts(&fields), file, size, report) {
                        Ok(upload) => {
                            self.uploads.insert(id, (attempt, upload));
                        }
                        Err(_) => ctx.link().send_message(Msg::Queue(Event::TransportFailed {
                            id,
                            attempt,
                            cause: TransportCause::Dropped,
                        })),
                    }
                }
                Command::Part {
                    id,
                    attempt,
                    command,
                } => self.run_part(ctx, id, attempt, command),
                Command::StopRequests { id } => {
                    self.uploads.remove(&id);
                    self.parts.retain(|(file, _), _| *file != id);
                }
                Command::AbortPart { id, number } => {
                    self.parts.remove(&(id, number));
                }
                Command::CheckFile { id } => {
                    if let Some(file) = self.files.get(&id).cloned() {
                        let link = ctx.link().clone();
                        spawn_local(async move {
                            if !hash::readable(&file).await {
                                let event = Event::FileUnreadable { id };
                                link.send_message(Msg::Queue(event));
                            }
                        });
                    }
                }
                Command::RetryAfter {
                    id,
                    attempt,
                    delay_ms,
                } => {
                    let link = ctx.link().clone();
                    let timer = Timeout::new(delay_ms, move || {
                        link.send_message(Msg::Queue(Event::RetryDue { id, attempt }))
                    });
                    self.retry_timers.insert(id, timer);
                }
                Command::Forget { id } => {
                    if let Some(url) = self.thumbs.remove(&id) {
                        let _ = web_sys::Url::revoke_object_url(&url);
                    }
                    self.files.remove(&id);
                    self.uploads.remove(&id);
                    self.parts.retain(|(file, _), _| *file != id);
                    self.retry_timers.remove(&id);
                    self.signs.forget(id);
                }
                Command::Remember(record) => claim(ctx, record.upload_id.clone(), Some(record)),
                Command::Claim { upload_id } => claim(ctx, upload_id, None),
                Command::ForgetRecord { upload_id } => forget_records(Some(upload_id)),
                Command::ForgetAllRecords => forget_records(None),
                Command::KeepToken { file, token } => {
                    sent::remember(&file, &token, super::now_ms())
                }
                Command::ForgetTokens => sent::forget_all(),
                Command::Tell(told) => self.tell(told),
                command => self.call_signer(ctx, command),
            }
        }
        self.flush_signs(ctx);
    }

    /// Says a file's end, or the list's, to the page's host (`browser/host.rs`).
    fn tell(&self, told: Told) {
        let id = match told {
            Told::AllDone { done, failed } => return host::all_done(done, failed),
            Told::Done(id) | Told::Failed(id) => id,
        };
        let Some(entry) = self.queue.entry(id) else {
            return;
        };
        let file = &entry.file;
        let content_type = asked_type(file);
        match told {
            Told::Done(_) => host::done(
                &file.name,
                file.size,
                content_type,
                entry.key.as_deref().unwrap_or_default(),
            ),
            _ => {
                let reason = entry.failure.as_ref().map(|f| f.code.to_string());
                host::failed(
                    &file.name,
                    file.size,
                    content_type,
                    &reason.unwrap_or_default(),
                );
            }
        }
    }

    /// The commands that call the signer: run now, held until `config.json` is loaded, or
    /// failed at once when it cannot be.
    fn call_signer(&mut self, ctx: &Context<Self>, command: Command) {
        let url = match (&self.signer_url, &self.config_error) {
            (Some(url), _) => url.clone(),
            (None, Some(error)) => {
                let error = SignError::Unreachable {
                    message: error.clone(),
                };
                if let Some((id, attempt)) = signer_call_of(&command) {
                    ctx.link()
                        .send_message(Msg::Queue(Event::SignFailed { id, attempt, error }));
                }
                return;
            }
            (None, None) => {
                self.waiting_for_config.push(command);
                return;
            }
        };
        if let Command::AbortMultipart { upload_id, token } = command {
            spawn_local(async move {
                // As often as the retry policy says (`next_abort_ms`), then the record goes.
                let body = json::token_body(&token);
                let (mut tried, mut answered) = (0, 0);
                loop {
                    tried += 1;
                    if signer::post(&url, "/multipart/abort", &body).await.is_ok() {
                        answered += 1;
                    }
                    match next_abort_ms(tried, answered) {
                        Some(wait) => sleep(wait as i32).await,
                        None => break,
                    }
                }
                let _ = records::remove(Some(&upload_id)).await;
            });
            return;
        }
        if let Command::Sign {
            id,
            attempt,
            request,
        } = command
        {
            // Sent with the others waiting, when a sign request is free (`flush_signs`).
            self.signs.push((id, attempt, request));
            return;
        }
        let Some((id, attempt)) = signer_call_of(&command) else {
            return;
        };
        // One request, its answer read into the event for the queue.
        let Some(SignerCall { path, body, read }) = signer_call(command) else {
            return;
        };
        ask(ctx, url, path, body, Asked::File { id, attempt, read });
    }

    /// Sends the files waiting to be signed, several to a request (`POST /sign/batch`), while
    /// fewer than `sign_batch::SIGN_REQUESTS_AT_ONCE` sign requests are out: files that arrive meanwhile
    /// wait for the next one, so with many small files a few requests sign them all (each
    /// request costs the page's main thread about a millisecond, and the signer an invocation).
    pub(super) fn flush_signs(&mut self, ctx: &Context<Self>) {
        // Called after every event's commands, progress included: nothing to do costs nothing.
        if self.signs.is_idle() {
            return;
        }
        let Some(url) = self.signer_url.clone() else {
            return;
        };
        for (request, files) in self.signs.take(super::now_ms()) {
            let (path, body) = match files.as_slice() {
                [(_, _, request)] => ("/sign", json::sign_request(request)),
                _ => (
                    "/sign/batch",
                    json::sign_batch(files.iter().map(|(_, _, request)| request)),
                ),
            };
            ask(ctx, url.clone(), path, body, Asked::Signs(request, files));
        }
    }

    /// A sign request ended; `again` are its files to sign one by one (the signer has no
    /// `/sign/batch`: one from before it).
    pub(super) fn signs_settled(&mut self, ctx: &Context<Self>, request: u32, again: Vec<SignJob>) {
        self.signs.settled(request, again);
        self.flush_signs(ctx);
    }

    fn run_part(&mut self, ctx: &Context<Self>, id: FileId, attempt: u32, command: PartCommand) {
        let Some(file) = self.files.get(&id).cloned() else {
            return;
        };
        let link = ctx.link().clone();
        match command {
            PartCommand::Hash {
                number,
                offset,
                length,
            } => spawn_local(async move {
                // Part 0 is a whole file sent in one POST.
                let event = match hash::md5_of(
                    &file,
                    offset,
                    length,
                    number == WHOLE_FILE,
                    hash::Reader::Lent,
                )
                .await
                {
                    Ok(md5) => Event::PartHashed { id, number, md5 },
                    Err(message) => Event::HashFailed {
                        id,
                        number,
                        message,
                    },
                };
                link.send_message(Msg::Queue(event));
            }),
            PartCommand::Sign(request) => {
                self.call_signer(
                    ctx,
                    Command::Part {
                        id,
                        attempt,
                        command: PartCommand::Sign(request),
                    },
                );
            }
            PartCommand::Send {
                number,
                try_,
                url,
                headers,
                offset,
                length,
            } => {
                let body = file.slice_with_f64_and_f64(offset as f64, (offset + length) as f64);
                let url_for_probe = url.clone();
                let report = move |event: XhrEvent| match event {
                    XhrEvent::Progress(sent) => {
                        link.send_message(Msg::Queue(Event::PartProgress {
                            id,
                            number,
                            try_,
                            sent,
                        }))
                    }
                    XhrEvent::BodySent => {}
                    XhrEvent::Answered { status, body } => {
                        link.send_message(Msg::Queue(Event::PartAnswered {
                            id,
                            number,
                            try_,
                            status,
                            body,
                        }))
                    }
                    XhrEvent::Failed => link.send_message(Msg::XhrFailed {
                        id,
                        request: StorageRequest::Part { number, try_ },
                        url: url_for_probe.clone(),
                    }),
                };
                match body.and_then(|body| {
                    xhr::put(&url, &headers, &body, report).map_err(wasm_bindgen::JsValue::from)
                }) {
                    Ok(upload) => {
                        self.parts.insert((id, number), (try_, upload));
                    }
                    Err(_) => ctx.link().send_message(Msg::Queue(Event::PartFailed {
                        id,
                        number,
                        try_,
                        cause: TransportCause::Dropped,
                    })),
                }
            }
        }
    }
}

/// What a request to the signer was for: one file's call (its answer read by `read`), or files
/// to sign.
enum Asked {
    File {
        id: FileId,
        attempt: u32,
        read: ReadAnswer,
    },
    /// A sign request (its number in `Signs::out`) and its files.
    Signs(u32, Vec<SignJob>),
}

/// `POST signer + path`, its answer told to the page as `settle` reads it. Every signer call
/// goes through this one async block: each costs the page's wasm a state machine of its own.
fn ask(ctx: &Context<App>, url: String, path: &'static str, body: String, asked: Asked) {
    let link = ctx.link().clone();
    spawn_local(async move {
        let answer = signer::post(&url, path, &body).await;
        link.send_message_batch(settle(asked, answer));
    });
}

/// The messages an answer makes: the queue's events for its files; for a sign request, then
/// `SignsSettled` (with the files to sign one by one when the signer has no `/sign/batch`).
fn settle(asked: Asked, answer: Result<(u16, String), SignError>) -> Vec<Msg> {
    let unexpected = |status| SignError::Failed {
        status,
        message: "unexpected answer from the signer".into(),
    };
    let (request, files) = match asked {
        Asked::File { id, attempt, read } => {
            let event = match answer {
                Ok((status, text)) => read(id, attempt, &text).unwrap_or(Event::SignFailed {
                    id,
                    attempt,
                    error: unexpected(status),
                }),
                Err(error) => Event::SignFailed { id, attempt, error },
            };
            return vec![Msg::Queue(event)];
        }
        Asked::Signs(request, files) => (request, files),
    };
    let one = files.len() == 1;
    let answers: Vec<Result<SignResponse, SignError>> = match answer {
        Ok((status, text)) if one => {
            vec![json::sign_response(&text).ok_or_else(|| unexpected(status))]
        }
        Ok((status, text)) => match json::signed_batch(&text) {
            Some(results) if results.len() == files.len() => results
                .into_iter()
                .map(|result| {
                    result.map_err(|(code, message)| SignError::Refused { code, message })
                })
                .collect(),
            _ => files.iter().map(|_| Err(unexpected(status))).collect(),
        },
        Err(
            SignError::Refused {
                code: ErrorCode::NotFound | ErrorCode::MethodNotAllowed,
                ..
            }
            | SignError::Failed {
                status: 404 | 405, ..
            },
        ) if !one => return vec![Msg::SignsSettled(request, files)],
        Err(error) => files.iter().map(|_| Err(error.clone())).collect(),
    };
    let mut messages: Vec<Msg> = files
        .iter()
        .zip(answers)
        .map(|(&(id, attempt, _), answer)| {
            Msg::Queue(match answer {
                Ok(response) => Event::Signed {
                    id,
                    attempt,
                    response,
                },
                Err(error) => Event::SignFailed { id, attempt, error },
            })
        })
        .collect();
    messages.push(Msg::SignsSettled(request, Vec::new()));
    messages
}

/// The file and attempt a signer call is for (to report its failure).
/// One multipart call to the signer: where it goes, its JSON body, and how its answer becomes
/// the queue's event.
pub struct SignerCall {
    pub path: &'static str,
    pub body: String,
    pub read: ReadAnswer,
}

/// The request a multipart command makes of the signer (`create`, `list`, `complete`,
/// `sign-parts`); `None` for any other command. Pure: the browser tests check each path, body
/// and reader against `shared`'s types (`frontend/tests/browser.rs`).
pub fn signer_call(command: Command) -> Option<SignerCall> {
    let (path, body, read): (&'static str, String, ReadAnswer) = match command {
        Command::CreateMultipart { request, .. } => (
            "/multipart/create",
            json::sign_request(&request),
            |id, attempt, text| {
                let upload = json::multipart_upload(text)?;
                Some(Event::Created {
                    id,
                    attempt,
                    upload,
                })
            },
        ),
        Command::ListParts { token, .. } => (
            "/multipart/list",
            json::token_body(&token),
            |id, attempt, text| {
                let parts = json::listed_parts(text)?;
                Some(Event::Listed { id, attempt, parts })
            },
        ),
        Command::CompleteMultipart { token, .. } => (
            "/multipart/complete",
            json::token_body(&token),
            |id, attempt, text| {
                let upload = json::completed_upload(text)?;
                Some(Event::Completed {
                    id,
                    attempt,
                    upload,
                })
            },
        ),
        Command::Part {
            command: PartCommand::Sign(request),
            ..
        } => (
            "/multipart/sign-parts",
            json::sign_parts(&request),
            |id, attempt, text| {
                let parts = json::signed_parts(text)?;
                Some(Event::PartsSigned { id, attempt, parts })
            },
        ),
        _ => return None,
    };
    Some(SignerCall { path, body, read })
}

fn signer_call_of(command: &Command) -> Option<(FileId, u32)> {
    match command {
        Command::Sign { id, attempt, .. }
        | Command::CreateMultipart { id, attempt, .. }
        | Command::ListParts { id, attempt, .. }
        | Command::CompleteMultipart { id, attempt, .. }
        | Command::Part { id, attempt, .. } => Some((*id, *attempt)),
        _ => None,
    }
}

/// Claims the upload's lock for this tab, then stores its record, if any. Claimed before the
/// record is stored: no other tab sees it unowned. A lock another tab holds (it took it while
/// this page was in the back-forward cache) hands the upload over to that tab.
fn claim(ctx: &Context<App>, upload_id: String, record: Option<ResumeRecord>) {
    let link = ctx.link().clone();
    spawn_local(async move {
        if !records::claim(&upload_id).await {
            link.send_message(Msg::Queue(Event::HandedOver { upload_id }));
        } else if let Some(record) = record {
            // Without IndexedDB (a private window may refuse it) uploads go on; only resuming
            // after a reload is lost.
            let _ = records::save(&record).await;
        }
    });
}

/// Forgets one upload's resume record, or every record (`None`). One future for both: each
/// async block is a state machine of its own in the page's wasm.
fn forget_records(upload_id: Option<String>) {
    spawn_local(async move {
        let _ = records::remove(upload_id.as_deref()).await;
    });
}
