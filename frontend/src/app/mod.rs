//! The page: one Yew component. Every change is a `Msg`; queue events go through `Queue::update`,
//! and the commands that come back are run by `effects.rs`, the one place that wires the browser
//! edges (`browser::signer`, `browser::xhr`, `browser::files`) to the pure core. `window.rs`
//! holds the page-wide listeners (paste, online, leaving, drops beside the zone) and the
//! remembered language; `summary.rs` the parts of the view around the list.

pub mod effects;
mod summary;
mod view;
mod window;

use view::WINDOW_AFTER_ROWS;
use window::{set_document_lang, store_lang, stored_lang, window_listeners};

use crate::upload::vec_map::VecMap;

use gloo::events::EventListener;
use gloo::render::{AnimationFrame, request_animation_frame};
use gloo::timers::callback::{Interval, Timeout};
use shared::UploadRules;
use wasm_bindgen_futures::spawn_local;
use web_sys::{File, HtmlInputElement};
use yew::prelude::*;

use crate::browser::json::PageConfig;
use crate::browser::xhr;
use crate::browser::{auth, files, records, sent, signer};
use crate::i18n::Lang;
use crate::row::RowAction;
use crate::upload::queue::backoff_ms;
use crate::upload::queue::{
    Command, DEFAULT_CONCURRENCY, Event, Failure, FileId, FileInfo, PageCode, Queue, Status,
    transport_cause,
};
use crate::upload::resume::ResumeRecord;
use crate::upload::timing::DRAW_INTERVAL_MS;

pub enum Msg {
    LoadConfig,
    /// A sign request ended (its files' events came before this); the files to sign again one
    /// by one, if any.
    SignsSettled(u32, Vec<crate::upload::sign_batch::SignJob>),
    Configured(Result<PageConfig, String>),
    Rules(Result<UploadRules, String>),
    FetchRules,
    Picked(Vec<files::Picked>),
    Queue(Event),
    /// A request to storage ended without a readable answer: find out why before telling the
    /// queue.
    XhrFailed {
        id: FileId,
        request: StorageRequest,
        url: String,
    },
    /// The resume records IndexedDB holds (at start).
    Unfinished(Vec<ResumeRecord>),
    Frame,
    /// The page scrolled or resized: the windowed list may need other rows.
    Scrolled,
    DrawDue,
    Drag(bool),
    OpenPicker,
    OpenFolderPicker,
    ToggleLang,
    Copy(FileId),
    Copied(Option<FileId>),
    /// The stored sign-in may have changed (at start, after the popup, in another tab).
    AuthChanged,
    SignIn,
    SignOut,
    /// Anonymous: forget this browser's uploads (a shared browser's next person).
    Forget,
}

/// Which request to storage failed: a file's form POST (its `attempt`) or a part's PUT (its
/// number and that part's own try).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageRequest {
    Form { attempt: u32 },
    Part { number: u32, try_: u32 },
}

pub struct App {
    lang: Lang,
    queue: Queue,
    /// The browser's handles for the files in the list (never their bytes).
    files: VecMap<FileId, File>,
    next_id: FileId,
    signer_url: Option<String>,
    config_error: Option<String>,
    rules_error: Option<String>,
    /// Sign commands that arrived before `config.json` did.
    waiting_for_config: Vec<Command>,
    /// Files waiting to be signed, sent several to a request.
    signs: crate::upload::sign_batch::SignBatcher,
    /// In-flight requests by file, with their attempt; dropping one aborts it.
    uploads: VecMap<FileId, (u32, xhr::Upload)>,
    /// In-flight parts by file and part number, with their try.
    parts: VecMap<(FileId, u32), (u32, xhr::Upload)>,
    retry_timers: VecMap<FileId, Timeout>,
    /// Loading `config.json` (before it is loaded) or the rules again, and the next wait.
    load_timer: Option<Timeout>,
    /// Loads tried again since the last success: the wait is the queue's backoff for it.
    load_retries: u32,
    _ticker: Interval,
    /// Paste, online, beforeunload and the window's own drag and drop.
    _listeners: Vec<EventListener>,
    frame: Option<AnimationFrame>,
    /// Waits out the rest of `DRAW_INTERVAL_MS` before asking for a frame.
    draw_timer: Option<Timeout>,
    last_draw_ms: f64,
    dragging: bool,
    copied: Option<FileId>,
    copied_timer: Option<Timeout>,
    input: NodeRef,
    /// The list, measured for windowing.
    list: NodeRef,
    /// The rows drawn when the list is windowed: `first..last`.
    window_rows: (usize, usize),
    folder_input: NodeRef,
    /// The last file that finished or failed, said once by screen readers (a polite live region
    /// of its own: the summary changes ten times a second and is not announced).
    announcement: String,
    /// One callback for every row's buttons (a new one per render would redraw every row).
    row_actions: Callback<(FileId, RowAction)>,
    /// Thumbnails of picked images (object URLs, revoked when the file is forgotten).
    thumbs: VecMap<FileId, AttrValue>,
    /// The row whose button was just used: if that button is gone after the redraw (Cancel
    /// becomes Retry, a removed row), focus goes to this row's first button, not to the page.
    refocus: Option<FileId>,
    /// `config.json`'s sign-in provider (issuer, client id), when the signer wants signed-in users.
    auth: Option<(String, String)>,
    /// The stored sign-in, expired or not.
    session: Option<auth::Session>,
    sign_in_error: Option<String>,
    /// The signer answered 401 to the stored sign-in.
    session_refused: bool,
}

pub(super) fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// An object URL for a picked image the browser can draw (not SVG: it could run as a page), to
/// show as its thumbnail; the browser decodes it only when the row is in view.
fn thumbnail(file: &File) -> Option<AttrValue> {
    let kind = file.type_();
    let drawable = kind.starts_with("image/") && kind != "image/svg+xml";
    drawable
        .then(|| web_sys::Url::create_object_url_with_blob(file).ok())
        .flatten()
        .map(AttrValue::from)
}

/// Focus on row `id`'s first button, if the focus was lost (its button went away in the redraw).
fn refocus(id: FileId) {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let lost = document
        .active_element()
        .is_none_or(|e| e.tag_name().eq_ignore_ascii_case("body"));
    if !lost {
        return;
    }
    let button = document
        .get_element_by_id(&format!("file-{id}"))
        .and_then(|row| row.query_selector(".actions button").ok().flatten())
        .and_then(|b| b.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(button) = button {
        let _ = button.focus();
    }
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        ctx.link().send_message(Msg::LoadConfig);
        sent::prune(now_ms());
        {
            // Unfinished multipart uploads from before (a reload, a crash, a closed tab), not
            // those another tab of the page is running or listing; those listed here are this
            // tab's from now on (to resume or remove).
            let link = ctx.link().clone();
            spawn_local(async move {
                if let Ok(all) = records::load_all().await {
                    let mut found = Vec::new();
                    for record in all {
                        if records::claim(&record.upload_id).await {
                            found.push(record);
                        }
                    }
                    if !found.is_empty() {
                        link.send_message(Msg::Unfinished(found));
                    }
                }
            });
        }
        let link = ctx.link().clone();
        let ticker = Interval::new(1_000, move || link.send_message(Msg::Queue(Event::Tick)));
        let listeners = window_listeners(ctx);
        // The language the user chose last time, else the browser's.
        let lang = stored_lang().unwrap_or_else(|| {
            web_sys::window()
                .and_then(|w| w.navigator().language())
                .map_or(Lang::En, |tag| Lang::from_tag(&tag))
        });
        set_document_lang(lang);
        App {
            lang,
            queue: Queue::new(
                DEFAULT_CONCURRENCY,
                (now_ms() as u64) ^ 0x9e37_79b9_7f4a_7c15,
            ),
            files: VecMap::new(),
            next_id: 1,
            signer_url: None,
            config_error: None,
            rules_error: None,
            waiting_for_config: Vec::new(),
            signs: crate::upload::sign_batch::SignBatcher::default(),
            uploads: VecMap::new(),
            parts: VecMap::new(),
            retry_timers: VecMap::new(),
            load_timer: None,
            load_retries: 0,
            _ticker: ticker,
            _listeners: listeners,
            frame: None,
            draw_timer: None,
            last_draw_ms: 0.0,
            dragging: false,
            copied: None,
            copied_timer: None,
            input: NodeRef::default(),
            list: NodeRef::default(),
            window_rows: (0, 60),
            folder_input: NodeRef::default(),
            announcement: String::new(),
            thumbs: VecMap::new(),
            refocus: None,
            auth: None,
            session: auth::session(),
            sign_in_error: None,
            session_refused: false,
            row_actions: ctx.link().callback(|(id, action)| match action {
                RowAction::Cancel => Msg::Queue(Event::Cancel(id)),
                RowAction::Retry => Msg::Queue(Event::Retry(id)),
                RowAction::Remove => Msg::Queue(Event::Remove(id)),
                RowAction::CopyKey => Msg::Copy(id),
                RowAction::Pause => Msg::Queue(Event::Pause(id)),
                RowAction::Resume => Msg::Queue(Event::Resume(id)),
            }),
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::LoadConfig => {
                self.load_timer = None;
                let link = ctx.link().clone();
                spawn_local(async move {
                    link.send_message(Msg::Configured(signer::load_config().await))
                });
                return false;
            }
            Msg::Configured(Ok(config)) => {
                if let Some(concurrency) = config.concurrency {
                    self.queue.set_concurrency(concurrency);
                }
                if let Some(parts) = config.part_concurrency {
                    self.queue.set_part_concurrency(parts);
                }
                if let Some(checksums) = config.checksums {
                    self.queue.set_checksums(checksums);
                }
                self.signer_url = Some(config.signer_url);
                self.auth = config.auth;
                self.config_error = None;
                self.load_retries = 0;
                ctx.link().send_message(Msg::FetchRules);
                let waiting = std::mem::take(&mut self.waiting_for_config);
                self.run(ctx, waiting);
            }
            Msg::Configured(Err(error)) => {
                // Said on the page, and tried again with backoff; files wait meanwhile for the
                // rules, which come after it, and say why.
                let failure = Failure::page_with(PageCode::SignerUnreachable, error.clone());
                self.config_error = Some(error);
                self.apply(ctx, Event::RulesUnavailable(failure));
                self.retry_load(ctx, Msg::LoadConfig);
            }
            Msg::FetchRules => {
                self.load_timer = None;
                if let Some(url) = self.signer_url.clone() {
                    let link = ctx.link().clone();
                    spawn_local(async move {
                        link.send_message(Msg::Rules(signer::fetch_rules(&url).await))
                    });
                }
                return false;
            }
            Msg::Rules(Ok(rules)) => {
                // The signer names its sign-in provider (config.json may name one instead).
                if self.auth.is_none()
                    && let Some(sign_in) = &rules.sign_in
                {
                    self.auth = Some((sign_in.issuer.clone(), sign_in.client_id.clone()));
                }
                self.rules_error = None;
                self.load_retries = 0;
                self.apply(ctx, Event::RulesLoaded(rules));
            }
            Msg::Rules(Err(error)) => {
                let failure = Failure::page_with(PageCode::SignerUnreachable, error.clone());
                self.rules_error = Some(error);
                self.apply(ctx, Event::RulesUnavailable(failure));
                self.retry_load(ctx, Msg::FetchRules);
            }
            Msg::Picked(picked) => {
                if picked.is_empty() {
                    return false;
                }
                let mut added = Vec::with_capacity(picked.len());
                let with_thumbs = self.queue.entries().len() + picked.len() <= WINDOW_AFTER_ROWS;
                for files::Picked { file, name } in picked {
                    let id = self.next_id;
                    self.next_id += 1;
                    if with_thumbs && let Some(url) = thumbnail(&file) {
                        self.thumbs.insert(id, url);
                    }
                    added.push((
                        id,
                        FileInfo {
                            name,
                            size: file.size() as u64,
                            content_type: file.type_(),
                            last_modified: file.last_modified() as u64,
                        },
                    ));
                    self.files.insert(id, file);
                }
                if self.rules_error.is_some() && self.signer_url.is_some() {
                    // The user is waiting now: ask at once.
                    self.load_timer = None;
                    self.load_retries = 0;
                    ctx.link().send_message(Msg::FetchRules);
                }
                // Files this browser sent before keep their keys (a reload, a closed tab).
                let earlier = sent::earlier(&added, now_ms());
                self.apply(
                    ctx,
                    Event::Added {
                        files: added,
                        earlier,
                    },
                );
            }
            Msg::AuthChanged => {
                self.session = auth::session();
                self.sign_in_error = auth::error();
                self.session_refused = false;
                if self.signed_in() {
                    self.apply(ctx, Event::SignedIn);
                }
            }
            Msg::SignIn => {
                if let Some((issuer, client)) = &self.auth {
                    auth::sign_in(issuer, client);
                }
                return false;
            }
            Msg::SignOut => {
                auth::sign_out();
                self.session = None;
                // What the page kept for this user goes too (a shared browser's next person).
                self.apply(ctx, Event::ForgetAll);
            }
            Msg::Forget => {
                self.apply(ctx, Event::ForgetAll);
                self.announcement = self.lang.words().forgotten.to_string();
            }
            Msg::Unfinished(found) => {
                let mut records = Vec::with_capacity(found.len());
                for record in found {
                    records.push((self.next_id, record));
                    self.next_id += 1;
                }
                self.apply(ctx, Event::Unfinished { records });
            }
            Msg::Queue(event) => {
                let finished = match &event {
                    Event::Answered { id, attempt, .. }
                    | Event::TransportFailed { id, attempt, .. } => Some((*id, *attempt)),
                    _ => None,
                };
                if let Some((id, attempt)) = finished
                    && self.uploads.get(&id).is_some_and(|(a, _)| *a == attempt)
                {
                    self.uploads.remove(&id);
                }
                if let Event::PartAnswered {
                    id, number, try_, ..
                }
                | Event::PartFailed {
                    id, number, try_, ..
                } = &event
                    && self
                        .parts
                        .get(&(*id, *number))
                        .is_some_and(|(t, _)| t == try_)
                {
                    self.parts.remove(&(*id, *number));
                }
                let tick = matches!(event, Event::Tick);
                let about = match &event {
                    Event::Answered { id, .. }
                    | Event::TransportFailed { id, .. }
                    | Event::SignFailed { id, .. }
                    | Event::Completed { id, .. }
                    | Event::PartAnswered { id, .. }
                    | Event::PartFailed { id, .. }
                    | Event::HashFailed { id, .. } => Some(*id),
                    _ => None,
                };
                self.refocus = match &event {
                    Event::Cancel(id) | Event::Retry(id) | Event::Pause(id) | Event::Resume(id) => {
                        Some(*id)
                    }
                    // The row goes: its neighbour takes the focus.
                    Event::Remove(id) => {
                        let entries = self.queue.entries();
                        let at = entries.iter().position(|e| e.id == *id);
                        at.and_then(|at| {
                            entries
                                .get(at + 1)
                                .or(at.checked_sub(1).and_then(|p| entries.get(p)))
                        })
                        .map(|e| e.id)
                    }
                    _ => self.refocus,
                };
                // What the user just did shows at once; what the uploads report, on the next draw.
                let by_user = matches!(
                    event,
                    Event::Cancel(_)
                        | Event::Retry(_)
                        | Event::Remove(_)
                        | Event::ClearFinished
                        | Event::CancelAll
                        | Event::RetryAll
                        | Event::Pause(_)
                        | Event::Resume(_)
                );
                // Every event reaches the queue as it happens (progress too, also in a hidden
                // tab where no animation frame runs); only drawing waits for a frame.
                let commands = self.queue.update(now_ms(), event);
                if tick && commands.is_empty() {
                    return false;
                }
                let mut ended = false;
                if let Some(entry) = about.and_then(|id| self.queue.entry(id)) {
                    let w = self.lang.words();
                    ended = matches!(entry.status, Status::Done | Status::Failed);
                    match entry.status {
                        Status::Done => {
                            self.announcement = format!("{} {}", entry.file.name, w.uploaded);
                        }
                        Status::Failed => {
                            // The signer refused the sign-in it was sent: it has ended, whatever
                            // the token's own expiry says.
                            if entry.failure.as_ref().is_some_and(Failure::is_sign_in) {
                                self.session_refused = self.session.is_some();
                            }
                            let reason = entry
                                .failure
                                .as_ref()
                                .map(|f| self.lang.reason(f, &entry.file, None))
                                .unwrap_or_default();
                            self.announcement =
                                format!("{} {}: {reason}", entry.file.name, w.failed);
                        }
                        _ => {}
                    }
                }
                self.run(ctx, commands);
                if by_user {
                    return true;
                }
                // The last file ended: nothing else will come to draw with it, so the page shows
                // the end at once rather than up to `DRAW_INTERVAL_MS` later.
                if ended && !self.busy() {
                    self.draw_timer = None;
                    self.request_frame(ctx);
                } else {
                    self.draw_soon(ctx);
                }
                return false;
            }
            Msg::XhrFailed { id, request, url } => {
                // What the queue knows now: whether any of the body went out.
                let part = match request {
                    StorageRequest::Part { number, .. } => Some(number),
                    StorageRequest::Form { .. } => None,
                };
                let nothing_sent = self.queue.nothing_sent(id, part);
                let link = ctx.link().clone();
                spawn_local(async move {
                    let cause = transport_cause(xhr::reachable(&url).await, nothing_sent);
                    let event = match request {
                        StorageRequest::Part { number, try_ } => Event::PartFailed {
                            id,
                            number,
                            try_,
                            cause,
                        },
                        StorageRequest::Form { attempt } => {
                            Event::TransportFailed { id, attempt, cause }
                        }
                    };
                    link.send_message(Msg::Queue(event));
                });
                return false;
            }
            Msg::SignsSettled(request, again) => {
                self.signs_settled(ctx, request, again);
                return false;
            }
            Msg::DrawDue => {
                self.draw_timer = None;
                self.request_frame(ctx);
                return false;
            }
            Msg::Scrolled => {
                if self.queue.entries().len() <= WINDOW_AFTER_ROWS {
                    return false;
                }
                let rows = self.rows_in_view();
                if rows == self.window_rows {
                    return false;
                }
                self.window_rows = rows;
            }
            Msg::Frame => {
                self.frame = None;
                self.last_draw_ms = now_ms();
            }
            Msg::Drag(over) => {
                if self.dragging == over {
                    return false;
                }
                self.dragging = over;
            }
            Msg::OpenPicker => {
                if let Some(input) = self.input.cast::<HtmlInputElement>() {
                    input.click();
                }
                return false;
            }
            Msg::OpenFolderPicker => {
                if let Some(input) = self.folder_input.cast::<HtmlInputElement>() {
                    input.click();
                }
                return false;
            }
            Msg::ToggleLang => {
                self.lang = self.lang.other();
                set_document_lang(self.lang);
                store_lang(self.lang);
            }
            Msg::Copy(id) => {
                let key = self.queue.entry(id).and_then(|e| e.key.clone());
                let clipboard = web_sys::window().map(|w| w.navigator().clipboard());
                if let (Some(key), Some(clipboard)) = (key, clipboard) {
                    let link = ctx.link().clone();
                    let promise = clipboard.write_text(&key);
                    spawn_local(async move {
                        if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                            link.send_message(Msg::Copied(Some(id)));
                        }
                    });
                }
                return false;
            }
            Msg::Copied(id) => {
                self.copied = id;
                if id.is_some() {
                    let link = ctx.link().clone();
                    self.copied_timer = Some(Timeout::new(2_000, move || {
                        link.send_message(Msg::Copied(None))
                    }));
                }
            }
        }
        true
    }

    fn rendered(&mut self, ctx: &Context<Self>, _first_render: bool) {
        if let Some(id) = self.refocus.take() {
            refocus(id);
        }
        // The list's place may have moved (rows added, the banner gone): check the window.
        if self.queue.entries().len() > WINDOW_AFTER_ROWS && self.rows_in_view() != self.window_rows
        {
            ctx.link().send_message(Msg::Scrolled);
        }
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        self.page(ctx)
    }
}

impl App {
    /// Queue events and progress arrive as separate browser tasks, a few per file: the page is
    /// drawn for all of them together, on an animation frame at least `DRAW_INTERVAL_MS` after
    /// the last draw (100 small files: a few dozen draws instead of one per event). A hidden tab
    /// draws nothing until it is shown again; its uploads go on, since commands run as events
    /// arrive.
    fn draw_soon(&mut self, ctx: &Context<Self>) {
        if self.frame.is_some() || self.draw_timer.is_some() {
            return;
        }
        let wait = DRAW_INTERVAL_MS - (now_ms() - self.last_draw_ms);
        if wait <= 0.0 {
            self.request_frame(ctx);
        } else {
            let link = ctx.link().clone();
            self.draw_timer = Some(Timeout::new(wait.ceil() as u32, move || {
                link.send_message(Msg::DrawDue)
            }));
        }
    }

    fn request_frame(&mut self, ctx: &Context<Self>) {
        if self.frame.is_none() {
            let link = ctx.link().clone();
            self.frame = Some(request_animation_frame(move |_| {
                link.send_message(Msg::Frame)
            }));
        }
    }

    fn apply(&mut self, ctx: &Context<Self>, event: Event) {
        let commands = self.queue.update(now_ms(), event);
        self.run(ctx, commands);
    }

    /// Sends `msg` again after the retry policy's wait (`backoff_ms` at its fullest: 1 s, 2 s, 4 s
    /// and so on up to 30 s; one page, so no jitter).
    fn retry_load(&mut self, ctx: &Context<Self>, msg: Msg) {
        let link = ctx.link().clone();
        let wait = backoff_ms(self.load_retries, 1.0);
        self.load_timer = Some(Timeout::new(wait, move || link.send_message(msg)));
        self.load_retries += 1;
    }

    /// Whether the stored sign-in is good now (a minute to spare).
    fn signed_in(&self) -> bool {
        !self.session_refused
            && self
                .session
                .as_ref()
                .is_some_and(|s| s.expires == 0 || s.expires as f64 * 1000.0 > now_ms() + 60_000.0)
    }

    /// Whether leaving the page now would stop uploads.
    fn busy(&self) -> bool {
        self.queue
            .entries()
            .iter()
            .any(|e| e.status.is_active() || matches!(e.status, Status::Queued | Status::Retrying))
    }
}
