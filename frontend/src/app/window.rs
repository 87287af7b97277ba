//! Page-wide listeners and the remembered language.

use gloo::events::{EventListener, EventListenerOptions};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{ClipboardEvent, DragEvent};
use yew::prelude::*;

use super::{App, Msg};
use crate::browser::files;
use crate::i18n::Lang;
use crate::upload::queue::Event;

/// Listeners on the document and the window, for as long as the page lives:
/// - paste: files pasted anywhere on the page are added;
/// - scroll, resize: the windowed list draws the rows in view;
/// - online: files waiting to retry go at once;
/// - pageshow from the back-forward cache: the uploads' locks Safari let go of are claimed again;
/// - beforeunload: the browser asks before leaving while uploads run;
/// - dragover/drop outside the drop zone: a file dropped a little off target is added instead of
///   replacing the page with the file.
pub(super) fn window_listeners(ctx: &Context<App>) -> Vec<EventListener> {
    let mut listeners = Vec::new();
    let Some(window) = web_sys::window() else {
        return listeners;
    };
    if let Some(document) = window.document() {
        let link = ctx.link().clone();
        listeners.push(EventListener::new(&document, "paste", move |event| {
            let files = event
                .dyn_ref::<ClipboardEvent>()
                .and_then(ClipboardEvent::clipboard_data)
                .map(|data| files::from_list(data.files()))
                .unwrap_or_default();
            if !files.is_empty() {
                link.send_message(Msg::Picked(files));
            }
        }));
    }
    for name in ["scroll", "resize"] {
        let link = ctx.link().clone();
        listeners.push(EventListener::new(&window, name, move |_| {
            link.send_message(Msg::Scrolled)
        }));
    }
    // A sign-in finished in the popup or in this tab, failed, or another tab signed in or out.
    let link = ctx.link().clone();
    listeners.push(EventListener::new(&window, "storage", move |event| {
        let key = event
            .dyn_ref::<web_sys::StorageEvent>()
            .and_then(web_sys::StorageEvent::key);
        if key.is_none_or(|k| k == crate::browser::auth::SESSION_KEY) {
            link.send_message(Msg::AuthChanged);
        }
    }));
    let link = ctx.link().clone();
    listeners.push(EventListener::new(
        &window,
        crate::browser::auth::EVENT,
        move |_| link.send_message(Msg::AuthChanged),
    ));
    let link = ctx.link().clone();
    listeners.push(EventListener::new(&window, "online", move |_| {
        link.send_message(Msg::Queue(Event::Online))
    }));
    let link = ctx.link().clone();
    listeners.push(EventListener::new(&window, "pageshow", move |event| {
        // `PageTransitionEvent.persisted`, read as a plain property (no binding for one field).
        let restored = js_sys::Reflect::get(event, &"persisted".into()).ok();
        if restored.is_some_and(|p| p.is_truthy()) {
            link.send_message(Msg::Queue(Event::Restored));
        }
    }));
    let link = ctx.link().clone();
    listeners.push(EventListener::new_with_options(
        &window,
        "beforeunload",
        EventListenerOptions::enable_prevent_default(),
        move |event| {
            if link.get_component().is_some_and(|app| app.busy()) {
                event.prevent_default();
                if let Some(event) = event.dyn_ref::<web_sys::BeforeUnloadEvent>() {
                    event.set_return_value("");
                }
            }
        },
    ));
    listeners.push(EventListener::new_with_options(
        &window,
        "dragover",
        EventListenerOptions::enable_prevent_default(),
        |event| event.prevent_default(),
    ));
    let link = ctx.link().clone();
    listeners.push(EventListener::new_with_options(
        &window,
        "drop",
        EventListenerOptions::enable_prevent_default(),
        move |event| {
            event.prevent_default();
            if let Some(data) = event
                .dyn_ref::<DragEvent>()
                .and_then(DragEvent::data_transfer)
            {
                take_dropped(&link, &data);
            }
        },
    ));
    listeners
}

const LANG_KEY: &str = "uploader-lang";

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub(super) fn stored_lang() -> Option<Lang> {
    Lang::from_stored(&local_storage()?.get_item(LANG_KEY).ok()??)
}

pub(super) fn store_lang(lang: Lang) {
    if let Some(storage) = local_storage() {
        let _ = storage.set_item(LANG_KEY, lang.words().lang_code);
    }
}

/// `<html lang>` follows the page's language, so screen readers speak it in the right voice.
pub(super) fn set_document_lang(lang: Lang) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("lang", lang.words().lang_code);
    }
}

/// Adds what a drop carries: its files at once, the files of its folders once walked.
pub(super) fn take_dropped(link: &yew::html::Scope<App>, data: &web_sys::DataTransfer) {
    let (plain, folders) = files::take_drop(data);
    link.send_message(Msg::Picked(plain));
    if !folders.is_empty() {
        // Folders are read after the event; their files arrive as a second batch.
        let link = link.clone();
        spawn_local(
            async move { link.send_message(Msg::Picked(files::walk_folders(folders).await)) },
        );
    }
}
