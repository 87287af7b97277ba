//! The only module that talks to IndexedDB: the resume records of multipart uploads
//! (`upload::resume::ResumeRecord`), one object per upload in the store `uploads` of the database
//! `uploader`, keyed by S3's upload id.
//!
//! A tab holds a Web Lock named after each upload it records or lists as unfinished (`claim`),
//! until it closes: the browser lets go of a closed or crashed tab's locks. A page starting up
//! lists only the records whose lock it gets: the others are running or listed in another tab,
//! and offering them here too (with a Remove that aborts the upload) would let a second tab of
//! the page end the first one's upload. Browsers without Web Locks list every record, as before.
//! Safari lets go of a tab's locks when the tab enters the back-forward cache (and rejects the
//! lock requests): a page shown again from it claims them again (`Event::Restored`).
//!
//! IndexedDB may be missing or refuse (a private window, storage turned off, a full disk): every
//! call then fails with a sentence and the page goes on without resume. Records are plain objects
//! with camelCase fields, built with `Reflect` as in `json.rs` (no serde in the page); one that
//! cannot be read back whole is skipped.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    IdbDatabase, IdbObjectStore, IdbObjectStoreParameters, IdbRequest, IdbTransactionMode,
};

use super::json;
use crate::upload::queue::FileInfo;
use crate::upload::resume::ResumeRecord;

const DATABASE: &str = "uploader";
const STORE: &str = "uploads";

/// Every record stored (those from other tabs too); unreadable ones are left out.
pub async fn load_all() -> Result<Vec<ResumeRecord>, String> {
    let all = run(IdbTransactionMode::Readonly, |store| store.get_all()).await?;
    Ok(Array::from(&all)
        .iter()
        .filter_map(|v| record(&v))
        .collect())
}

/// Stores `record`, replacing any with the same upload id.
pub async fn save(record: &ResumeRecord) -> Result<(), String> {
    let value = object(record);
    run(IdbTransactionMode::Readwrite, |store| store.put(&value))
        .await
        .map(drop)
}

/// Forgets the record of `upload_id` (nothing to do when there is none), or with `None` every
/// record (the user signed out: the next person on this browser must not resume, complete or
/// abort their uploads).
pub async fn remove(upload_id: Option<&str>) -> Result<(), String> {
    let key = upload_id.map(JsValue::from_str);
    run(IdbTransactionMode::Readwrite, |store| match &key {
        Some(key) => store.delete(key),
        None => store.clear(),
    })
    .await
    .map(drop)
}

/// Takes the lock of `upload_id` for this tab, held until the tab closes; whether this tab has it
/// now (false: another tab holds it). Taking and checking are one step, so two tabs starting at
/// the same moment cannot both list one upload. True where the browser has no Web Locks.
pub async fn claim(upload_id: &str) -> bool {
    let Some((locks, request)) = locks("request") else {
        return true;
    };
    let mut answer = None;
    let granted = Promise::new(&mut |resolve, _| answer = Some(resolve));
    let Some(answer) = answer else {
        return true;
    };
    // Called at once with the lock, or with null when another tab holds it. The lock is held
    // until the returned promise settles: one that never does.
    let settled = answer.clone();
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        let got = !lock.is_null();
        let _ = answer.call1(&JsValue::NULL, &got.into());
        if got {
            Promise::new(&mut |_, _| {}).into()
        } else {
            JsValue::UNDEFINED
        }
    });
    let options = Object::new();
    let _ = Reflect::set(&options, &"ifAvailable".into(), &true.into());
    let Ok(requested) = request.call3(&locks, &lock_name(upload_id).into(), &options, &callback)
    else {
        return true;
    };
    // Rejected when the browser lets go of the lock (Safari's back-forward cache): not an error
    // of the page's, so no unhandled rejection.
    // (Handled by `answer`: resolving a promise already resolved does nothing.)
    if let Ok(catch) = Reflect::get(&requested, &"catch".into())
        && let Ok(catch) = catch.dyn_into::<Function>()
    {
        let _ = catch.call1(&requested, &settled);
    }
    JsFuture::from(granted)
        .await
        .ok()
        .and_then(|got| got.as_bool())
        .unwrap_or(true)
}

fn lock_name(upload_id: &str) -> String {
    format!("uploader:{upload_id}")
}

/// `navigator.locks` and its method `name`, where the browser has them.
fn locks(name: &str) -> Option<(JsValue, Function)> {
    let navigator = web_sys::window()?.navigator();
    let locks = Reflect::get(&navigator, &"locks".into()).ok()?;
    let method = Reflect::get(&locks, &name.into()).ok()?.dyn_into().ok()?;
    Some((locks, method))
}

/// Opens the database, makes one request in a transaction of its own and waits until that
/// transaction has committed (a write is then stored, not only queued): the request's result.
async fn run(
    mode: IdbTransactionMode,
    request: impl FnOnce(&IdbObjectStore) -> Result<IdbRequest, JsValue>,
) -> Result<JsValue, String> {
    let db = open().await?;
    let transaction = db.transaction_with_str_and_mode(STORE, mode);
    // Closing waits for the transaction. No connection outlives a call, so none can block the
    // upgrade a later version of the page may need.
    db.close();
    let transaction = transaction.map_err(describe)?;
    let store = transaction.object_store(STORE).map_err(describe)?;
    let request = request(&store).map_err(describe)?;
    // A failed request aborts its transaction (and sets the transaction's error).
    settle(|resolve, reject| {
        transaction.set_oncomplete(Some(resolve));
        transaction.set_onabort(Some(reject));
    })
    .await
    .map_err(|_| {
        transaction.error().map_or_else(
            || "IndexedDB: the transaction was aborted".into(),
            |e| describe(e.into()),
        )
    })?;
    request.result().map_err(describe)
}

async fn open() -> Result<IdbDatabase, String> {
    let request = web_sys::window()
        .ok_or("no window")?
        .indexed_db()
        .map_err(describe)?
        .ok_or("IndexedDB is not available")?
        .open_with_u32(DATABASE, 1)
        .map_err(describe)?;
    // Only a new database (version 0 to 1) upgrades: it gets its store. A throw aborts the
    // upgrade, so the database never exists without the store.
    let upgrade = {
        let request = request.clone();
        Closure::once(move |_: JsValue| -> Result<(), JsValue> {
            let parameters = IdbObjectStoreParameters::new();
            parameters.set_key_path(&JsValue::from_str("uploadId"));
            request
                .result()?
                .unchecked_into::<IdbDatabase>()
                .create_object_store_with_optional_parameters(STORE, &parameters)
                .map(drop)
        })
    };
    request.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let opened = settle(|resolve, reject| {
        request.set_onsuccess(Some(resolve));
        request.set_onerror(Some(reject));
    })
    .await;
    request.set_onupgradeneeded(None);
    if opened.is_err() {
        return Err(match request.error() {
            Ok(Some(e)) => describe(e.into()),
            _ => "IndexedDB: the database did not open".into(),
        });
    }
    Ok(request.result().map_err(describe)?.unchecked_into())
}

/// A future for a pair of events: `on` hands a promise's resolve and reject to their handlers
/// (an event handler may be any function: no closure of our own is needed).
fn settle(on: impl FnOnce(&Function, &Function)) -> JsFuture {
    let mut on = Some(on);
    JsFuture::from(Promise::new(&mut |resolve, reject| {
        if let Some(on) = on.take() {
            on(&resolve, &reject);
        }
    }))
}

fn describe(error: JsValue) -> String {
    match error.dyn_ref::<js_sys::Error>() {
        // A `DOMException` is an `Error`: its name says which (`QuotaExceededError`, …).
        Some(e) => format!(
            "IndexedDB: {}: {}",
            String::from(e.name()),
            String::from(e.message())
        ),
        None => format!("IndexedDB: {}", error.as_string().unwrap_or_default()),
    }
}

fn object(record: &ResumeRecord) -> Object {
    let object = Object::new();
    let file = &record.file;
    // Sizes and times are numbers (exact up to 2^53).
    for (name, value) in [
        ("uploadId", JsValue::from_str(&record.upload_id)),
        ("key", JsValue::from_str(&record.key)),
        ("token", JsValue::from_str(&record.token)),
        ("expiresAt", JsValue::from_str(&record.expires_at)),
        ("partSize", JsValue::from_f64(record.part_size as f64)),
        ("parts", JsValue::from(record.parts)),
        ("name", JsValue::from_str(&file.name)),
        ("size", JsValue::from_f64(file.size as f64)),
        ("contentType", JsValue::from_str(&file.content_type)),
        ("lastModified", JsValue::from_f64(file.last_modified as f64)),
    ] {
        let _ = Reflect::set(&object, &JsValue::from_str(name), &value);
    }
    object
}

fn record(value: &JsValue) -> Option<ResumeRecord> {
    let string = |name: &str| json::string(value, name);
    let whole = |name: &str| json::whole(value, name);
    Some(ResumeRecord {
        upload_id: string("uploadId")?,
        key: string("key")?,
        token: string("token")?,
        expires_at: string("expiresAt")?,
        part_size: whole("partSize")?,
        parts: u32::try_from(whole("parts")?).ok()?,
        file: FileInfo {
            name: string("name")?,
            size: whole("size")?,
            content_type: string("contentType")?,
            last_modified: whole("lastModified")?,
        },
    })
}
