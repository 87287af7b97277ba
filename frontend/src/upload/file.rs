//! What the page knows about a picked file, below the queue and the resume records that both
//! name it.

/// What the page knows about a file (its bytes stay in the browser's `File`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileInfo {
    pub name: String,
    pub size: u64,
    /// As the browser reports it; empty when unknown.
    pub content_type: String,
    /// `File.lastModified` (ms): with the name and size, what tells the same file picked twice.
    pub last_modified: u64,
}
