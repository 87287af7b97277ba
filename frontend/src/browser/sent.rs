//! The only module that keeps what this browser sent in one POST: for each file whose upload
//! started, its upload token, in `localStorage` (one item per file, named after the file's
//! name with its folder path, size, date and type). A file picked again after a reload, a closed
//! tab or a crash is signed with its token, so the signer gives it the same key: an earlier
//! upload that was stored (or was on its way when the page went) is overwritten by the same bytes,
//! never duplicated under a second key. Items older than a token lives (`TOKEN_LIFE_MS`) are
//! dropped when the page starts; a token the signer no longer takes gets a new key (the queue asks
//! once). Without `localStorage` (storage turned off) nothing is kept and files get new keys;
//! past `MOST` files within the hour, neither.

use web_sys::Storage;

use crate::upload::queue::{FileId, FileInfo};
use crate::upload::timing::TOKEN_LIFE_MS;

const PREFIX: &str = "uploader-sent ";
/// At most this many files are kept (about 300 KB of the origin's 5 MB of `localStorage`, which
/// the sign-in and the language share): past it, in the hour, files are not kept.
const MOST: usize = 1_000;

thread_local! {
    /// The items this page knows are stored: counted by `prune`, then one more per `remember`.
    static KEPT: std::cell::Cell<usize> = const { std::cell::Cell::new(MOST) };
}

fn storage() -> Option<Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn item(file: &FileInfo) -> String {
    format!(
        "{PREFIX}{}\u{1f}{}\u{1f}{}\u{1f}{}",
        file.name, file.size, file.last_modified, file.content_type
    )
}

/// `"<ms> <token>"`: the token, if stored less than `TOKEN_LIFE_MS` before `now_ms`.
fn live(value: &str, now_ms: f64) -> Option<&str> {
    let (at, token) = value.split_once(' ')?;
    // An integer: parsing a float would bring float parsing into the page (KBs of wasm).
    let at: u64 = at.parse().ok()?;
    (now_ms - (at as f64) < TOKEN_LIFE_MS && !token.is_empty()).then_some(token)
}

/// The tokens of the files among `files` sent from this browser within the hour.
pub fn earlier(files: &[(FileId, FileInfo)], now_ms: f64) -> Vec<(FileId, String)> {
    let Some(storage) = storage() else {
        return Vec::new();
    };
    files
        .iter()
        .filter_map(|(id, file)| {
            let value = storage.get_item(&item(file)).ok()??;
            live(&value, now_ms).map(|token| (*id, token.to_string()))
        })
        .collect()
}

/// `file`'s upload started with `token`. A retry, or the file picked again, starts with the
/// token already kept: its item stays as it is (its time is when the token was given, which
/// is what its hour counts from) and is not counted twice.
pub fn remember(file: &FileInfo, token: &str, now_ms: f64) {
    if KEPT.get() >= MOST {
        return;
    }
    let Some(storage) = storage() else {
        return;
    };
    let name = item(file);
    // `"<ms> <token>"`: the same token ends it.
    if storage
        .get_item(&name)
        .ok()
        .flatten()
        .is_some_and(|value| value.ends_with(token))
    {
        return;
    }
    KEPT.set(KEPT.get() + 1);
    // Whole milliseconds: no float formatting in the page.
    let _ = storage.set_item(&name, &format!("{} {token}", now_ms as u64));
}

/// Whether any item is kept (as far as this page knows: counted at start, then by `remember`).
pub fn any() -> bool {
    KEPT.get() > 0
}

/// Drops every item: the user signed out (or asked the page to forget), and the next person on this browser must not re-sign
/// their keys.
pub fn forget_all() {
    prune(f64::INFINITY);
}

/// Drops the items older than a token lives.
pub fn prune(now_ms: f64) {
    let Some(storage) = storage() else {
        return;
    };
    let count = storage.length().unwrap_or(0);
    let ours: Vec<String> = (0..count)
        .filter_map(|i| storage.key(i).ok()?)
        .filter(|name| name.starts_with(PREFIX))
        .collect();
    let mut kept = 0;
    for name in ours {
        let value = storage.get_item(&name).ok().flatten();
        if value.is_some_and(|value| live(&value, now_ms).is_some()) {
            kept += 1;
        } else {
            let _ = storage.remove_item(&name);
        }
    }
    KEPT.set(kept);
}
