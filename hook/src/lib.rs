//! The after-upload hook: for every object stored under the upload prefix, the bucket's event
//! (EventBridge's `Object Created`, or a classic notification record) starts it; it reads the
//! object once as it streams and writes `results/<key>.json` beside it in the bucket: the key,
//! size, ETag, SHA-256, the type the object was stored as, the type its bytes show, a verdict
//! (`ok`, `mismatch`, `unknown`) and, in the signed-in mode, the uploader. The verdict is also
//! set on the object as the tag `upload-verdict`, so whatever serves uploads can refuse a
//! mismatch.
//!
//! The same event twice writes the same result (nothing in it depends on when it ran), and an
//! event for bytes that were replaced since (a retry rewrites the same key) reads nothing
//! (`If-Match` on its ETag: the later event judges the new bytes).
//!
//! See ARCHITECTURE.md; `event.rs` parses events, `judge.rs` judges bytes, `s3.rs` talks to S3,
//! `local.rs` takes events over HTTP, `main.rs` picks Lambda or local.

pub mod config;
pub mod event;
pub mod judge;
pub mod local;
pub mod s3;

use serde::Serialize;

pub use config::Config;
use event::{Stored, stored_objects};
use judge::{Verdict, judge};
use s3::{Bucket, Found, S3Error};

/// The tag that carries the verdict on each judged object.
pub const VERDICT_TAG: &str = "upload-verdict";

/// What the hook writes as `results/<key>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub key: String,
    pub size: u64,
    /// The ETag of the bytes judged (without quotes): which write of the key this describes.
    pub etag: String,
    /// Lower-case hex.
    pub sha256: String,
    /// The object's `Content-Type`.
    pub declared_type: String,
    /// The type the bytes' signature shows, `null` when they show none.
    pub detected_type: Option<String>,
    pub verdict: Verdict,
    /// In the signed-in mode, who uploaded it (the sign-in's subject).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uploader: Option<String>,
}

/// What became of one announced object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Judged(Finding),
    /// Its bytes were replaced after this event; the replacement's own event judges them.
    Replaced,
    /// It was deleted before it could be read.
    Gone,
    /// Not the hook's: another bucket, or a key outside the upload prefix.
    Skipped,
}

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error(transparent)]
    Event(#[from] event::EventError),
    #[error(transparent)]
    Storage(#[from] S3Error),
}

/// `results/<key>.json`.
pub fn result_key(results_prefix: &str, key: &str) -> String {
    format!("{results_prefix}{key}.json")
}

/// The uploader as the signer recorded them (their key segment, `%XX` for every byte but
/// letters, digits, `-`, `_` and `.`) read back as the subject they signed in as.
pub fn uploader_subject(recorded: &str) -> String {
    percent_encoding::percent_decode_str(recorded)
        .decode_utf8()
        .map_or_else(|_| recorded.to_string(), |subject| subject.into_owned())
}

pub struct Hook {
    config: Config,
    bucket: Bucket,
}

impl Hook {
    pub fn new(config: Config) -> Hook {
        let bucket = Bucket::new(
            config.bucket_url.clone(),
            config.credentials.clone(),
            config.region.clone(),
        );
        Hook { config, bucket }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Judges every object one invocation announces, in order. An error leaves the rest
    /// undone: the invocation fails and is tried again whole, which redoes the done ones
    /// identically.
    pub async fn handle(&self, payload: &serde_json::Value) -> Result<Vec<Outcome>, HookError> {
        let mut outcomes = Vec::new();
        for stored in stored_objects(payload)? {
            outcomes.push(self.process(&stored).await?);
        }
        Ok(outcomes)
    }

    /// Reads, judges, writes the result, tags the object.
    pub async fn process(&self, stored: &Stored) -> Result<Outcome, HookError> {
        let config = &self.config;
        if stored.bucket != config.bucket
            || !stored.key.starts_with(&config.upload_prefix)
            || stored.key.starts_with(&config.results_prefix)
        {
            tracing::info!(
                bucket = stored.bucket,
                "event skipped: not an upload of this bucket"
            );
            tracing::debug!(key = stored.key, "skipped");
            return Ok(Outcome::Skipped);
        }
        // Logs name an object by its ETag or its upload id, never by its key: the key holds the
        // user's folder and file names.
        let etag = stored.etag.as_deref().unwrap_or_default();
        let read = match self
            .bucket
            .read(&stored.key, stored.etag.as_deref())
            .await?
        {
            Found::Object(read) => read,
            Found::Replaced => {
                tracing::info!(etag, "replaced since this event: its own event judges it");
                return Ok(Outcome::Replaced);
            }
            Found::Gone => {
                tracing::info!(etag, "gone before it was read");
                return Ok(Outcome::Gone);
            }
        };
        let upload =
            signer::key::upload_id(&stored.key, &config.upload_prefix, read.uploader.is_some());
        let (detected, verdict) = judge(&read.content_type, &read.inspected.head);
        let finding = Finding {
            key: stored.key.clone(),
            size: read.inspected.size,
            etag: read.etag,
            sha256: read.inspected.sha256,
            declared_type: read.content_type,
            detected_type: detected.map(str::to_string),
            verdict,
            uploader: read.uploader.as_deref().map(uploader_subject),
        };
        let json = serde_json::to_vec_pretty(&finding).unwrap_or_default();
        self.bucket
            .put(
                &result_key(&config.results_prefix, &stored.key),
                json,
                "application/json",
            )
            .await?;
        self.bucket
            .tag(&stored.key, &[(VERDICT_TAG, verdict.as_str())])
            .await?;
        tracing::info!(
            upload,
            size = finding.size,
            verdict = verdict.as_str(),
            declared = finding.declared_type,
            detected = finding.detected_type,
            "judged"
        );
        Ok(Outcome::Judged(finding))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_sit_beside_the_key_under_their_prefix() {
        assert_eq!(
            result_key("results/", "uploads/ab12/cat.png"),
            "results/uploads/ab12/cat.png.json"
        );
    }

    #[test]
    fn a_recorded_uploader_reads_back_as_the_subject() {
        assert_eq!(uploader_subject("alice"), "alice");
        assert_eq!(uploader_subject("auth0%7C42"), "auth0|42");
        assert_eq!(uploader_subject("user%40example.com"), "user@example.com");
        assert_eq!(uploader_subject("%ED%95%9C"), "한");
        // Not the signer's encoding: as it is.
        assert_eq!(uploader_subject("%FF"), "%FF");
    }

    #[test]
    fn a_finding_is_the_json_the_readme_shows() {
        let finding = Finding {
            key: "uploads/ab12/cat.png".into(),
            size: 3,
            etag: "e".into(),
            sha256: "s".into(),
            declared_type: "image/png".into(),
            detected_type: None,
            verdict: Verdict::Mismatch,
            uploader: None,
        };
        assert_eq!(
            serde_json::to_value(&finding).unwrap(),
            serde_json::json!({
                "key": "uploads/ab12/cat.png",
                "size": 3,
                "etag": "e",
                "sha256": "s",
                "declaredType": "image/png",
                "detectedType": null,
                "verdict": "mismatch",
            })
        );
    }
}
