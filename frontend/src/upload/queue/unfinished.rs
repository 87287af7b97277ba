//! Uploads from before a reload, and other tabs: the resume records found at start (listed to
//! show what S3 holds, each waiting for its file to be picked again), a file picked again taking
//! over its unfinished upload, and the locks of uploads this tab runs claimed again after the
//! back-forward cache or handed over to another tab.

use super::*;
use crate::upload::resume::looks_like;

impl Queue {
    /// Whether `file` fits an unfinished upload no other file has taken.
    pub(super) fn fits_unfinished(&self, file: &FileInfo) -> bool {
        self.unfinished_for(file).is_some()
    }

    pub(super) fn unfinished_for(&self, file: &FileInfo) -> Option<FileId> {
        let taken: HashSet<FileId> = self
            .multiparts
            .values()
            .filter_map(|m| m.resume_of)
            .collect();
        self.entries
            .iter()
            .find(|e| {
                e.status == Status::Unfinished
                    && !taken.contains(&e.id)
                    && looks_like(&e.file, file)
            })
            .map(|e| e.id)
    }

    /// A file picked again that fits an unfinished upload (name, size, modification time) takes
    /// it over: its stored parts are checked against this file before anything is sent.
    pub(super) fn adopt(&mut self, id: FileId) {
        let Some(file) = self
            .entry(id)
            .filter(|e| e.status == Status::Queued)
            .map(|e| e.file.clone())
        else {
            return;
        };
        let Some(from) = self.unfinished_for(&file) else {
            return;
        };
        let key = self.entry(from).and_then(|e| e.key.clone());
        let Some(mut multipart) = self.multiparts.get(&from).cloned() else {
            return;
        };
        multipart.resume_of = Some(from);
        self.multiparts.insert(id, multipart);
        if let Some(entry) = entry_at(&mut self.entries, &self.index, id) {
            entry.multipart = true;
            entry.key = key;
        }
    }

    /// The unfinished entry a live one took over goes from the list (the same upload).
    pub(super) fn drop_unfinished(&mut self, from: FileId, commands: &mut Vec<Command>) {
        self.entries.retain(|e| e.id != from);
        self.reindex();
        self.multiparts.remove(&from);
        commands.push(Command::Forget { id: from });
    }

    /// The resume records found at start: each is listed (to show how much S3 holds) and waits
    /// for its file; one older than its token is dropped, with a word.
    pub(super) fn unfinished(
        &mut self,
        records: Vec<(FileId, ResumeRecord)>,
        commands: &mut Vec<Command>,
    ) {
        let now_ms = self.now_ms;
        let checksums = self.md5s();
        for (id, record) in records {
            self.add(id, record.file.clone(), false, now_ms);
            let upload = MultipartUpload {
                key: record.key.clone(),
                upload_id: record.upload_id.clone(),
                part_size: record.part_size,
                parts: record.parts,
                token: record.token.clone(),
                expires_at: record.expires_at.clone(),
            };
            let live = parse_utc_ms(&record.expires_at).is_some_and(|t| t > now_ms);
            let multipart =
                Multipart::resumed(upload, record.file.size, checksums).filter(|_| live);
            let Some(entry) = entry_at(&mut self.entries, &self.index, id) else {
                continue;
            };
            entry.multipart = true;
            entry.key = Some(record.key);
            match multipart {
                Some(multipart) => {
                    entry.status = Status::Unfinished;
                    entry.failure = None;
                    commands.push(Command::ListParts {
                        id,
                        attempt: entry.attempt,
                        token: record.token,
                    });
                    self.multiparts.insert(id, multipart);
                }
                None => {
                    entry.status = Status::Failed;
                    entry.failure = Some(Failure::page(PageCode::ResumeExpired));
                    commands.push(Command::ForgetRecord {
                        upload_id: record.upload_id,
                    });
                }
            }
        }
    }
    /// The page came back from the back-forward cache: the uploads it runs or lists are claimed
    /// again (`Event::Restored`).
    pub(super) fn restored(&self, commands: &mut Vec<Command>) {
        for (id, multipart) in self.multiparts.iter() {
            if let Some(upload) = &multipart.upload
                && self.entry(*id).is_some_and(|e| e.status != Status::Done)
            {
                commands.push(Command::Claim {
                    upload_id: upload.upload_id.clone(),
                });
            }
        }
    }

    /// Another tab took over this upload (its lock): this tab stops sending it and tells no end of it.
    pub(super) fn handed_over(&mut self, upload_id: String, commands: &mut Vec<Command>) {
        let id = self.multiparts.iter().find_map(|(id, m)| {
            m.upload
                .as_ref()
                .is_some_and(|u| u.upload_id == upload_id)
                .then_some(*id)
        });
        if let Some(id) = id {
            self.multiparts.remove(&id);
            if let Some(entry) = entry_at(&mut self.entries, &self.index, id)
                && entry.status != Status::Done
            {
                if entry.status.is_active() {
                    commands.push(Command::StopRequests { id });
                }
                entry.status = Status::Refused;
                entry.failure = Some(Failure::page(PageCode::OtherTab));
            }
        }
    }
}
