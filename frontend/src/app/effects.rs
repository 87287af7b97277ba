//! Runs the queue's commands against the browser: signer calls (`browser::signer`), uploads and
//! parts (`browser::xhr`), part checksums (`browser::hash`), resume records
//! (`browser::records`), aborts and retry timers.

use gloo::timers::callback::Timeout;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use super::{App, Msg};
use crate::browser::xhr::{self, XhrEvent};
use crate::browser::{hash, json, records, signer};
use crate::upload::form::form_parts;
use crate::upload::multipart::PartCommand;
use crate::upload::queue::{Command, Event, FileId, SignError, TransportCause};

/// Reads a signer's answer into the event for the queue (the file and attempt it is for first).
type ReadAnswer = fn(FileId, u32, &str) -> Option<Event>;

/// An abort is sent this many times at most (a part that was still arriving when the first one
/// landed may leave a part behind: S3 asks for a second abort then).
const ABORT_TRIES: u32 = 3;

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
                            attempt,
                            part: None,
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
                Command::Abort { id } => {
                    self.uploads.remove(&id);
                    self.parts.retain(|(file, _), _| *file != id);
                }
                Command::AbortPart { id, number } => {
                    self.parts.remove(&(id, number));
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
                }
                Command::Remember(record) => spawn_local(async move {
                    // Without IndexedDB (a private window may refuse it) uploads go on; only
                    // resuming after a reload is lost.
                    let _ = records::save(&record).await;
                }),
                Command::ForgetRecord { upload_id } => spawn_local(async move {
                    let _ = records::remove(&upload_id).await;
                }),
                command => self.call_signer(ctx, command),
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
        let link = ctx.link().clone();
        if let Command::AbortMultipart { upload_id, token } = command {
            spawn_local(async move {
                // Twice when it works (the second after a moment, for a part that was still
                // arriving when the first landed), up to `ABORT_TRIES` times when it does not.
                let body = json::token_body(&token);
                let mut aborted = 0;
                for tried in 1..=ABORT_TRIES {
                    if signer::post(&url, "/multipart/abort", &body).await.is_ok() {
                        aborted += 1;
                        if aborted == 2 {
                            break;
                        }
                    }
                    sleep(1_000 * tried as i32).await;
                }
                let _ = records::remove(&upload_id).await;
            });
            return;
        }
        let Some((id, attempt)) = signer_call_of(&command) else {
            return;
        };
        // One request, its answer read into the event for the queue.
        let (path, body, read): (&str, String, ReadAnswer) = match command {
            Command::Sign { request, .. } => (
                "/sign",
                json::sign_request(&request),
                |id, attempt, text| {
                    let response = json::sign_response(text)?;
                    Some(Event::Signed {
                        id,
                        attempt,
                        response,
                    })
                },
            ),
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
            _ => return,
        };
        spawn_local(async move {
            let event = match signer::post(&url, path, &body).await {
                Ok((status, text)) => read(id, attempt, &text).unwrap_or(Event::SignFailed {
                    id,
                    attempt,
                    error: SignError::Failed {
                        status,
                        message: "unexpected answer from the signer".into(),
                    },
                }),
                Err(error) => Event::SignFailed { id, attempt, error },
            };
            link.send_message(Msg::Queue(event));
        });
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
                let event = match hash::md5_of(&file, offset, length).await {
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
                        attempt: try_,
                        part: Some(number),
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

/// Waits `ms` (a `setTimeout` as a future).
async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// The file and attempt a signer call is for (to report its failure).
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
