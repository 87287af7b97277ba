//! Runs the queue's commands against the browser: signing (`browser::signer`), uploads
//! (`browser::xhr`), aborts and retry timers.

use gloo::timers::callback::Timeout;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use super::{App, Msg};
use crate::browser::signer;
use crate::browser::xhr::{self, XhrEvent};
use crate::upload::form::form_parts;
use crate::upload::queue::{Command, Event, SignError, TransportCause};

impl App {
    /// Runs the queue's commands against the browser.
    pub(super) fn run(&mut self, ctx: &Context<Self>, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::Sign {
                    id,
                    attempt,
                    request,
                } => match (&self.signer_url, &self.config_error) {
                    (Some(url), _) => {
                        let url = url.clone();
                        let link = ctx.link().clone();
                        spawn_local(async move {
                            let event = match signer::sign(&url, &request).await {
                                Ok(response) => Event::Signed {
                                    id,
                                    attempt,
                                    response,
                                },
                                Err(error) => Event::SignFailed { id, attempt, error },
                            };
                            link.send_message(Msg::Queue(event));
                        });
                    }
                    (None, Some(error)) => {
                        let error = SignError::Unreachable {
                            message: error.clone(),
                        };
                        ctx.link().send_message(Msg::Queue(Event::SignFailed {
                            id,
                            attempt,
                            error,
                        }));
                    }
                    (None, None) => self.waiting_for_config.push(Command::Sign {
                        id,
                        attempt,
                        request,
                    }),
                },
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
                Command::Abort { id } => {
                    self.uploads.remove(&id);
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
                    self.files.remove(&id);
                    self.uploads.remove(&id);
                    self.retry_timers.remove(&id);
                }
            }
        }
    }
}
