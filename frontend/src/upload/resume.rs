//! What the page remembers of a multipart upload so it can go on after a reload, a crash or a
//! closed tab: the signer's answer to `create` (key, upload id, token, plan) and the file's
//! fingerprint (name, size, type, modification time). The browser edge keeps it in IndexedDB
//! (`browser/records.rs`); it is removed when the upload completes or is aborted.
//!
//! A record says nothing about which parts are stored: S3 does (the signer lists them), and the
//! page checks each stored part's MD5 against the file picked again before it trusts it.

use super::file::FileInfo;

/// One unfinished multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeRecord {
    /// S3's upload id: the record's own key in the store.
    pub upload_id: String,
    pub key: String,
    /// The signer's upload token (states key, upload id, size, part size, type, expiry).
    pub token: String,
    /// When the token stops being accepted (RFC 3339, UTC).
    pub expires_at: String,
    pub part_size: u64,
    pub parts: u32,
    /// The file it was made for.
    pub file: FileInfo,
}

/// Whether `picked` looks like the file an unfinished upload was made for (the stored parts'
/// MD5s decide then): same relative name, size and modification time.
pub fn looks_like(recorded: &FileInfo, picked: &FileInfo) -> bool {
    recorded.name == picked.name
        && recorded.size == picked.size
        && recorded.last_modified == picked.last_modified
}
