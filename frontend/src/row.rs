//! One file of the list as its own component. Yew compares its props before drawing it again, so
//! an event about one file redraws that file only, not the hundred others (measured: the whole
//! list redrawn on every event made 100 small files three times slower).

use shared::human_bytes;
use yew::prelude::*;

use crate::i18n::Lang;
use crate::upload::progress::clock;
use crate::upload::queue::{Entry, FileId, Status};

/// What a row's buttons ask the page to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowAction {
    Cancel,
    Retry,
    Remove,
    CopyKey,
    Pause,
    Resume,
}

#[derive(Properties, PartialEq)]
pub struct RowProps {
    pub entry: Entry,
    pub lang: Lang,
    /// The key was just copied (the button says so for a moment).
    pub copied: bool,
    /// The rules' limit, for the "too large" reason.
    pub max_bytes: Option<u64>,
    /// Made once by the page and shared by every row, so it never makes props differ.
    pub on_action: Callback<(FileId, RowAction)>,
    /// An image's thumbnail (an object URL of the picked file: no bytes in WASM).
    pub thumb: Option<AttrValue>,
}

pub struct FileRow;

impl Component for FileRow {
    type Message = ();
    type Properties = RowProps;

    fn create(_: &Context<Self>) -> Self {
        FileRow
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let RowProps {
            entry,
            lang,
            copied,
            max_bytes,
            on_action,
            thumb,
        } = ctx.props();
        let w = lang.words();
        let id = entry.id;
        let button = |action: RowAction| {
            let on_action = on_action.clone();
            Callback::from(move |_: MouseEvent| on_action.emit((id, action)))
        };
        // A screen reader lists buttons out of context: each says which file it is for (the
        // visible word comes first, so speech input finds it by what is shown).
        let named = |word: &str| format!("{word} {}", entry.file.name);
        let percent = entry.percent();
        let status = entry.status;
        // A multipart file keeps uploading while a part waits to be retried: its reason shows.
        let failure = entry.failure.as_ref().filter(|_| {
            matches!(status, Status::Refused | Status::Failed | Status::Retrying)
                || (entry.multipart && status == Status::Uploading)
        });
        let reason = failure.map(|f| lang.reason(f, &entry.file, *max_bytes));
        let error_code = failure.map(|f| f.code.to_string());
        let speed =
            (status == Status::Uploading && entry.speed.bytes_per_second() > 0.0).then(|| {
                let left = entry
                    .seconds_left()
                    .map(|s| format!(" · {} {}", clock(s), w.left))
                    .unwrap_or_default();
                format!(
                    "{}/s{left}",
                    human_bytes(entry.speed.bytes_per_second() as u64)
                )
            });
        html! {
            <li class={classes!("file", status.as_str())} id={format!("file-{id}")}
                data-file-name={entry.file.name.clone()} data-status={status.as_str()}
                data-attempt={entry.attempt.to_string()} data-key={entry.key.clone()} data-error={error_code}>
                <div class="line">
                    <span class="name">
                        if let Some(src) = thumb {
                            <img class="thumb" src={src.clone()} alt="" loading="lazy" decoding="async" />
                        }
                        { &entry.file.name }
                    </span>
                    <span class="size">{ human_bytes(entry.file.size) }</span>
                    <span class="state">{ lang.status(status) }</span>
                </div>
                <div class="bar" role="progressbar" aria-label={format!("{} {}", w.progress_of, entry.file.name)}
                    aria-valuemin="0" aria-valuemax="100" aria-valuenow={percent.to_string()}>
                    <div class="fill" style={format!("--p:{percent}")}></div>
                </div>
                <div class="line detail">
                    <span class="percent">{ format!("{percent}%") }</span>
                    if let Some(speed) = speed { <span class="speed">{ speed }</span> }
                </div>
                if let (Status::Done, Some(key)) = (status, entry.key.as_ref()) {
                    <div class="key"><span>{ format!("{}: ", w.key) }</span><code>{ key }</code>
                        <button type="button" aria-label={named(if *copied { w.copied } else { w.copy_key })} onclick={button(RowAction::CopyKey)}>
                            { if *copied { w.copied } else { w.copy_key } }
                        </button>
                    </div>
                }
                if let Some(reason) = reason { <p class="reason">{ reason }</p> }
                if status == Status::Unfinished { <p class="reason">{ w.pick_again }</p> }
                <div class="actions">
                    if entry.can_pause() {
                        <button type="button" aria-label={named(w.pause)} onclick={button(RowAction::Pause)}>{ w.pause }</button>
                    }
                    if status == Status::Paused {
                        <button type="button" aria-label={named(w.resume)} onclick={button(RowAction::Resume)}>{ w.resume }</button>
                    }
                    if status.can_cancel() {
                        <button type="button" aria-label={named(w.cancel)} onclick={button(RowAction::Cancel)}>{ w.cancel }</button>
                    }
                    if Status::offers_retry(entry) {
                        <button type="button" aria-label={named(w.retry)} onclick={button(RowAction::Retry)}>{ w.retry }</button>
                    }
                    if !status.is_active() {
                        <button type="button" class="quiet" aria-label={named(w.remove)} onclick={button(RowAction::Remove)}>{ w.remove }</button>
                    }
                </div>
            </li>
        }
    }
}
