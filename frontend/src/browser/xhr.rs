//! The only module that owns `XMLHttpRequest`: a form POST of a whole file to S3, or a `PUT` of one
//! part (`Blob.slice` of the file), with upload progress. The file goes to the request as the
//! browser's `File` or `Blob`, so its bytes never enter WASM memory (the browser streams them from
//! disk). Dropping an [`Upload`] aborts it.

use shared::FormFields;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, File, FormData, ProgressEvent, RequestInit, RequestMode, XmlHttpRequest};

use crate::upload::form::{FILE_FIELD, FormPart};

fn describe(e: wasm_bindgen::JsValue) -> String {
    e.as_string()
        .unwrap_or_else(|| "XMLHttpRequest failed".into())
}

/// What happens to an upload, in order: progress…, body sent, then one of answered or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XhrEvent {
    Progress(u64),
    BodySent,
    Answered {
        status: u16,
        body: String,
    },
    /// No answer: network error, connection reset, or a CORS refusal.
    Failed,
}

type Callbacks = Vec<Closure<dyn FnMut(ProgressEvent)>>;

/// A request in flight. Keeps its callbacks alive; aborts the request when dropped.
pub struct Upload {
    xhr: XmlHttpRequest,
    _callbacks: Callbacks,
}

impl Drop for Upload {
    fn drop(&mut self) {
        // DONE is 4: aborting a finished request is a no-op, but skip it anyway.
        if self.xhr.ready_state() != 4 {
            self.xhr.set_onabort(None);
            let _ = self.xhr.abort();
        }
    }
}

/// Starts `POST url` with `parts` (fields in order, then the file) and reports to `report`.
/// `file_size` is the size the page read when the file was added: asking the `File` again costs
/// a round trip to the browser process (measured: about 1 ms per call on 100 small files).
pub fn start(
    url: &str,
    parts: &[FormPart],
    file: &File,
    file_size: u64,
    report: impl Fn(XhrEvent) + 'static,
) -> Result<Upload, String> {
    let form = FormData::new().map_err(describe)?;
    for part in parts {
        match part {
            FormPart::Field { name, value } => {
                form.append_with_str(name, value).map_err(describe)?
            }
            FormPart::File => form
                .append_with_blob_and_filename(FILE_FIELD, file, &file.name())
                .map_err(describe)?,
        }
    }
    let xhr = XmlHttpRequest::new().map_err(describe)?;
    xhr.open("POST", url).map_err(describe)?;
    // `loaded` counts the whole multipart body; the fields and boundaries before the file are
    // `total - file size` bytes, so the file's own progress is what is left after them.
    let progress = move |event: &ProgressEvent| {
        let overhead = (event.total() as u64).saturating_sub(file_size);
        (event.loaded() as u64).saturating_sub(overhead)
    };
    let callbacks = wire(&xhr, report, progress)?;
    xhr.send_with_opt_form_data(Some(&form)).map_err(describe)?;
    Ok(Upload {
        xhr,
        _callbacks: callbacks,
    })
}

/// Starts `PUT url` of `body` (one part) with the signed `headers` (the browser sets
/// `Content-Length` from the body itself) and reports to `report`.
pub fn put(
    url: &str,
    headers: &FormFields,
    body: &Blob,
    report: impl Fn(XhrEvent) + 'static,
) -> Result<Upload, String> {
    let xhr = XmlHttpRequest::new().map_err(describe)?;
    xhr.open("PUT", url).map_err(describe)?;
    for (name, value) in headers.iter() {
        if !name.eq_ignore_ascii_case("content-length") {
            xhr.set_request_header(name, value).map_err(describe)?;
        }
    }
    let callbacks = wire(&xhr, report, |event: &ProgressEvent| event.loaded() as u64)?;
    xhr.send_with_opt_blob(Some(body)).map_err(describe)?;
    Ok(Upload {
        xhr,
        _callbacks: callbacks,
    })
}

/// The request's callbacks, reporting progress (as `progress` reads it), the body sent, the
/// answer or the failure.
fn wire(
    xhr: &XmlHttpRequest,
    report: impl Fn(XhrEvent) + 'static,
    progress: impl Fn(&ProgressEvent) -> u64 + 'static,
) -> Result<Callbacks, String> {
    let upload = xhr.upload().map_err(describe)?;
    let report = std::rc::Rc::new(report);
    let mut callbacks: Callbacks = Vec::new();
    let on_progress = {
        let report = report.clone();
        Closure::new(move |event: ProgressEvent| report(XhrEvent::Progress(progress(&event))))
    };
    upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    callbacks.push(on_progress);

    let on_body_sent = {
        let report = report.clone();
        Closure::new(move |_: ProgressEvent| report(XhrEvent::BodySent))
    };
    upload.set_onload(Some(on_body_sent.as_ref().unchecked_ref()));
    callbacks.push(on_body_sent);

    let on_load = {
        let report = report.clone();
        let xhr = xhr.clone();
        Closure::new(move |_: ProgressEvent| {
            let body = xhr.response_text().ok().flatten().unwrap_or_default();
            report(XhrEvent::Answered {
                status: xhr.status().unwrap_or(0),
                body,
            });
        })
    };
    xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
    callbacks.push(on_load);

    let on_error = {
        let report = report.clone();
        Closure::new(move |_: ProgressEvent| report(XhrEvent::Failed))
    };
    xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    xhr.set_ontimeout(Some(on_error.as_ref().unchecked_ref()));
    // An abort we did not ask for (ours clear this handler first) must not leave the file hanging.
    xhr.set_onabort(Some(on_error.as_ref().unchecked_ref()));
    callbacks.push(on_error);
    Ok(callbacks)
}

/// Whether anything answers at `url`, whatever it says: a `no-cors` request resolves (with an
/// opaque answer) whenever a server answers, and fails only when none does. It tells a storage
/// that cannot be reached from one that refuses this page's origin (CORS), which an
/// `XMLHttpRequest` reports alike.
pub async fn reachable(url: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_mode(RequestMode::NoCors);
    init.set_cache(web_sys::RequestCache::NoStore);
    JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .is_ok()
}
