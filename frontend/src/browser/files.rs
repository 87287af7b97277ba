//! The only module that reads files out of the browser's inputs: the picker, drops (folders walked
//! recursively) and the clipboard. It hands back `File` handles, each with its path relative to
//! the folder it was picked or dropped in (the signer keeps the folders in the key); no bytes
//! are read.

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DataTransfer, File, FileList, FileSystemDirectoryEntry, FileSystemEntry, FileSystemFileEntry,
};

/// A file and the name it is uploaded under: its relative path (`photos/2024/cat.png`) when it
/// came from a folder, else its name.
pub struct Picked {
    pub file: File,
    pub name: String,
}

impl Picked {
    fn plain(file: File) -> Picked {
        // A folder picker (`webkitdirectory`) sets `webkitRelativePath`; web-sys has no binding.
        let relative = Reflect::get(&file, &JsValue::from_str("webkitRelativePath"))
            .ok()
            .and_then(|v| v.as_string())
            .filter(|p| !p.is_empty());
        let name = relative.unwrap_or_else(|| file.name());
        Picked { file, name }
    }
}

pub fn from_list(list: Option<FileList>) -> Vec<Picked> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length())
        .filter_map(|i| list.get(i))
        .map(Picked::plain)
        .collect()
}

/// What a drop carries, taken synchronously inside the event handler (the `DataTransfer` is empty
/// once the handler returns): plain files, and folder entries to walk with [`walk_folders`].
/// Entries only exist for real drags from the desktop; anything without one (a script-made
/// `DataTransfer`) is taken as a plain file.
pub fn take_drop(data: &DataTransfer) -> (Vec<Picked>, Vec<FileSystemEntry>) {
    let items = data.items();
    if items.length() == 0 {
        return (from_list(data.files()), Vec::new());
    }
    let mut files = Vec::new();
    let mut folders = Vec::new();
    for i in 0..items.length() {
        let Some(item) = items.get(i) else { continue };
        if item.kind() != "file" {
            continue;
        }
        match item.webkit_get_as_entry() {
            Ok(Some(entry)) if entry.is_directory() => folders.push(entry),
            _ => {
                if let Ok(Some(file)) = item.get_as_file() {
                    files.push(Picked::plain(file));
                }
            }
        }
    }
    (files, folders)
}

/// Every file below these folder entries.
pub async fn walk_folders(folders: Vec<FileSystemEntry>) -> Vec<Picked> {
    let mut files = Vec::new();
    for folder in folders {
        walk(folder, &mut files).await;
    }
    files
}

/// Every file below a folder entry, depth first.
async fn walk(root: FileSystemEntry, files: &mut Vec<Picked>) {
    let mut stack = vec![root];
    while let Some(entry) = stack.pop() {
        if entry.is_file() {
            // `fullPath` is `/folder/sub/name`, from the dropped folder down.
            let path = entry.full_path();
            let file_entry: FileSystemFileEntry = entry.unchecked_into();
            if let Some(file) =
                call_back(|ok, err| file_entry.file_with_callback_and_callback(ok, err))
                    .await
                    .and_then(|v| v.dyn_into::<File>().ok())
            {
                let name = path.trim_start_matches('/').to_string();
                files.push(Picked { file, name });
            }
        } else if entry.is_directory() {
            let reader = entry
                .unchecked_into::<FileSystemDirectoryEntry>()
                .create_reader();
            // readEntries returns a batch at a time; an empty batch means the end.
            loop {
                let Some(batch) = call_back(|ok, err| {
                    if let Err(error) = reader.read_entries_with_callback_and_callback(ok, err) {
                        let _ = err.call1(&JsValue::NULL, &error);
                    }
                })
                .await
                .map(|value| Array::from(&value)) else {
                    break;
                };
                if batch.length() == 0 {
                    break;
                }
                stack.extend(
                    batch
                        .iter()
                        .filter_map(|v| v.dyn_into::<FileSystemEntry>().ok()),
                );
            }
        }
    }
}

/// Turns a success/error callback API into a future: the success value, or None on error.
async fn call_back(start: impl FnOnce(&Function, &Function)) -> Option<JsValue> {
    let mut start = Some(start);
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        if let Some(start) = start.take() {
            let ok = Closure::once_into_js(move |value: JsValue| {
                let _ = resolve.call1(&JsValue::NULL, &value);
            });
            let err = Closure::once_into_js(move |value: JsValue| {
                let _ = reject.call1(&JsValue::NULL, &value);
            });
            start(ok.unchecked_ref(), err.unchecked_ref());
        }
    });
    JsFuture::from(promise).await.ok()
}
