//! The page's markup: the header, the drop zone and pickers, the sign-in bar, and the list of
//! files (windowed above `WINDOW_AFTER_ROWS` rows). `summary.rs` draws the parts around the list.

use web_sys::{DragEvent, HtmlInputElement};
use yew::prelude::*;

use super::window::take_dropped;
use super::{App, Msg};
use crate::browser::{auth, files};
use crate::row::FileRow;

/// Above this many files, only the rows in view (and a few around them) are in the page: a list
/// of 10,000 rows took seconds to draw and made every redraw long. Below it, every row stays (the
/// tests read them all).
pub(super) const WINDOW_AFTER_ROWS: usize = 300;
/// A row's height in the windowed list (its CSS pins it: `.files.windowed .file`).
pub(super) const ROW_PX: f64 = 36.0;
/// Rows drawn above and below the view, so a scroll shows rows already there.
pub(super) const OVERSCAN_ROWS: usize = 20;

type Event_ = yew::events::Event;

impl App {
    /// The whole page: header, banner, sign-in, drop zone and pickers, summary, list.
    pub(super) fn page(&self, ctx: &Context<Self>) -> Html {
        let w = self.lang.words();
        let link = ctx.link();
        let on_change = link.callback(|e: Event_| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let picked = files::from_list(input.files());
            input.set_value("");
            Msg::Picked(picked)
        });
        let on_drop = {
            let link = link.clone();
            Callback::from(move |e: DragEvent| {
                e.prevent_default();
                // The window's drop listener must not add these files a second time.
                e.stop_propagation();
                link.send_message(Msg::Drag(false));
                if let Some(data) = e.data_transfer() {
                    take_dropped(&link, &data);
                }
            })
        };
        let on_drag_over = link.callback(|e: DragEvent| {
            e.prevent_default();
            Msg::Drag(true)
        });
        let on_drag_leave = link.callback(|_: DragEvent| Msg::Drag(false));

        html! {
            <main class="uploader" lang={w.lang_code}>
                <header class="top">
                    <h1>{ w.title }</h1>
                    <button type="button" class="lang" onclick={link.callback(|_| Msg::ToggleLang)}>
                        <span lang={self.lang.other().words().lang_code}>{ w.other_language }</span>
                        <span class="visually-hidden">{ format!(" ({})", w.switch_language) }</span>
                    </button>
                </header>
                { self.banner() }
                { self.sign_in_bar(ctx) }
                // The zone takes drops and clicks anywhere in it; keyboard and screen reader users
                // get a real button, described by the hint and the limits.
                <div class={classes!("dropzone", self.dragging.then_some("dragging"))}
                    onclick={link.callback(|_| Msg::OpenPicker)}
                    ondragenter={on_drag_over.clone()} ondragover={on_drag_over}
                    ondragleave={on_drag_leave} ondrop={on_drop}>
                    <p class="hint" id="drop-hint">{ w.drop_hint }</p>
                    <p class="limits" id="drop-limits">{ self.limits() }</p>
                    <button type="button" class="choose" aria-describedby="drop-hint drop-limits">{ w.choose }</button>
                </div>
                <p class="pickers">
                    <button type="button" class="quiet" onclick={link.callback(|_| Msg::OpenFolderPicker)}>{ w.choose_folder }</button>
                </p>
                <input ref={self.input.clone()} type="file" multiple=true class="visually-hidden"
                    tabindex="-1" aria-label={w.choose} accept={self.accept()} onchange={on_change.clone()} />
                <input ref={self.folder_input.clone()} type="file" webkitdirectory=true class="visually-hidden"
                    tabindex="-1" aria-label={w.choose_folder} onchange={on_change} />
                <p class="visually-hidden" role="status" aria-live="polite">{ &self.announcement }</p>
                { self.summary(ctx) }
                { self.file_list(w.files) }
            </main>
        }
    }

    /// The list of files: every row, or above `WINDOW_AFTER_ROWS` only the rows in view, with
    /// padding for the rows above and below so the page scrolls as if all were there.
    fn file_list(&self, label: &'static str) -> Html {
        let entries = self.queue.entries();
        let row = |entry: &crate::upload::queue::Entry| {
            html! {
                <FileRow key={entry.id} entry={entry.clone()} lang={self.lang}
                    thumb={self.thumbs.get(&entry.id).filter(|_| entries.len() <= WINDOW_AFTER_ROWS).cloned()}
                    copied={self.copied == Some(entry.id)}
                    max_bytes={self.queue.rules().map(|r| r.max_bytes)}
                    on_action={self.row_actions.clone()} />
            }
        };
        if entries.len() <= WINDOW_AFTER_ROWS {
            return html! {
                <ul class="files" aria-label={label} ref={self.list.clone()}>
                    { for entries.iter().map(row) }
                </ul>
            };
        }
        let last = self.window_rows.1.min(entries.len());
        let first = self.window_rows.0.min(last);
        // Whole pixels, as integers: formatting an f64 would bring float formatting into the page
        // (KBs of wasm).
        let px = ROW_PX as usize;
        let style = format!(
            "padding-top:{}px;padding-bottom:{}px",
            first * px,
            (entries.len() - last) * px
        );
        html! {
            <ul class="files windowed" aria-label={label} ref={self.list.clone()} {style}>
                { for entries[first..last].iter().map(row) }
            </ul>
        }
    }

    /// The rows of the windowed list that are in view, with `OVERSCAN_ROWS` around them.
    pub(super) fn rows_in_view(&self) -> (usize, usize) {
        let Some(list) = self.list.cast::<web_sys::Element>() else {
            return self.window_rows;
        };
        let top = list.get_bounding_client_rect().top();
        let height = web_sys::window()
            .and_then(|w| w.inner_height().ok())
            .and_then(|h| h.as_f64())
            .unwrap_or(800.0);
        let first = ((-top) / ROW_PX).floor().max(0.0) as usize;
        let last = ((height - top) / ROW_PX).ceil().max(0.0) as usize;
        (
            first.saturating_sub(OVERSCAN_ROWS),
            (last + OVERSCAN_ROWS).min(self.queue.entries().len()),
        )
    }

    /// Who is signed in, or a button to sign in (only when `config.json` names a provider and the
    /// embedding site does not hand the page tokens itself).
    fn sign_in_bar(&self, ctx: &Context<Self>) -> Html {
        if self.auth.is_none() || auth::has_hook() {
            return Html::default();
        }
        let w = self.lang.words();
        let signed_in = self.signed_in();
        // One paragraph: who is signed in, or why to sign in (again), and the one button.
        let mut text = match &self.session {
            Some(session) if signed_in => format!("{} {}", w.signed_in_as, session.name),
            Some(_) => w.session_ended.to_string(),
            None => w.sign_in_needed.to_string(),
        };
        if let Some(error) = &self.sign_in_error {
            text = format!("{} {error} {text}", w.sign_in_failed);
        }
        let alert = !signed_in && (self.session.is_some() || self.sign_in_error.is_some());
        let label = if signed_in { w.sign_out } else { w.sign_in };
        let onclick = ctx
            .link()
            .callback(move |_| if signed_in { Msg::SignOut } else { Msg::SignIn });
        html! {
            <p class={if alert { "signin banner warning" } else { "signin" }} role={alert.then_some("alert")}>
                { text }{ " " }<button type="button" {onclick}>{ label }</button>
            </p>
        }
    }
}
