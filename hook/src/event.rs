//! What an invocation says was stored. Deployers route "object created" to a function in one of
//! two shapes, and the hook takes both:
//!
//! - EventBridge's `Object Created` event (what the stack's rule sends): one object, its key as
//!   it is (AWS's published examples carry keys with `:` and spaces unencoded).
//! - A classic S3 event notification, `{"Records": [...]}`: AWS writes each key
//!   URL-encoded with `+` for a space ("red flower.jpg" becomes "red+flower.jpg"), so it is
//!   decoded exactly once here: a signed-in user's key holds `%XX` of its own
//!   (`uploads/user%40example.com/…`), which is `%2540` in the record and must come out as
//!   `%40`, not `@`. Ceph radosgw sends the same records (`eventSource` `ceph:s3`) but with the key
//!   as it is (measured: `hook/tests/radosgw.rs`), so its keys are not decoded.
//!
//! Records of anything but a created object (a removal, a restore) are not the hook's business
//! and are skipped, so a bucket whose notifications send everything still works.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::s3::S3Event;
use serde::Deserialize;

/// One stored object, as its event names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub bucket: String,
    /// The object's key, decoded.
    pub key: String,
    /// The ETag of the bytes whose storing this event announces, when the event says (without
    /// quotes): the hook reads only those bytes (`If-Match`).
    pub etag: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    #[error("not an S3 event this hook knows: {0}")]
    Shape(String),
    #[error("a record's key is not valid URL encoding: {0:?}")]
    Key(String),
}

/// EventBridge's `detail` for S3 (`aws_lambda_events` has the envelope but not this body).
#[derive(Debug, Deserialize, serde::Serialize)]
struct ObjectDetail {
    bucket: DetailBucket,
    object: DetailObject,
}

#[derive(Debug, Deserialize, serde::Serialize)]
struct DetailBucket {
    name: String,
}

#[derive(Debug, Deserialize, serde::Serialize)]
struct DetailObject {
    key: String,
    #[serde(default)]
    etag: Option<String>,
}

/// The objects an invocation announces as stored, in its order; empty when it announces none
/// (an event for a removal, say).
pub fn stored_objects(payload: &serde_json::Value) -> Result<Vec<Stored>, EventError> {
    if payload.get("Records").is_some() {
        let event: S3Event = serde_json::from_value(payload.clone())
            .map_err(|e| EventError::Shape(format!("S3 records: {e}")))?;
        let mut stored = Vec::new();
        for record in event.records {
            let created = record
                .event_name
                .as_deref()
                .is_some_and(|name| name.trim_start_matches("s3:").starts_with("ObjectCreated:"));
            if !created {
                continue;
            }
            let (Some(bucket), Some(raw_key)) = (record.s3.bucket.name, record.s3.object.key)
            else {
                return Err(EventError::Shape("a record without bucket or key".into()));
            };
            let key = if record.event_source.as_deref() == Some("ceph:s3") {
                raw_key
            } else {
                decode_record_key(&raw_key)?
            };
            stored.push(Stored {
                bucket,
                key,
                etag: record.s3.object.e_tag.filter(|e| !e.is_empty()),
            });
        }
        return Ok(stored);
    }
    if payload.get("detail-type").is_some() {
        let event: EventBridgeEvent<serde_json::Value> = serde_json::from_value(payload.clone())
            .map_err(|e| EventError::Shape(format!("EventBridge: {e}")))?;
        if event.source != "aws.s3" || event.detail_type != "Object Created" {
            return Ok(Vec::new());
        }
        let detail: ObjectDetail = serde_json::from_value(event.detail)
            .map_err(|e| EventError::Shape(format!("Object Created detail: {e}")))?;
        return Ok(vec![Stored {
            bucket: detail.bucket.name,
            key: detail.object.key,
            etag: detail.object.etag.filter(|e| !e.is_empty()),
        }]);
    }
    Err(EventError::Shape(
        "neither S3 records nor an EventBridge event".into(),
    ))
}

/// A notification record's key as stored: `+` is a space, `%XX` a byte, the whole valid UTF-8.
pub fn decode_record_key(raw: &str) -> Result<String, EventError> {
    let spaced = raw.replace('+', " ");
    let bytes = spaced.as_bytes();
    // A `%` must start two hex digits: anything else means the key was not encoded as AWS does.
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).unwrap_or_default();
            if hex.len() != 2 || !hex.iter().all(u8::is_ascii_hexdigit) {
                return Err(EventError::Key(raw.to_string()));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|key| key.into_owned())
        .map_err(|_| EventError::Key(raw.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_key(raw: &str, expected: Result<&str, ()>) {
        assert_eq!(
            decode_record_key(raw).map_err(drop),
            expected.map(str::to_string),
            "{raw}"
        );
    }

    #[test]
    fn record_keys_are_decoded_exactly_once() {
        check_key("uploads/ab12/cat.png", Ok("uploads/ab12/cat.png"));
        check_key(
            "uploads/ab12/red+flower.jpg",
            Ok("uploads/ab12/red flower.jpg"),
        );
        check_key("uploads/ab12/c%2B%2B.txt", Ok("uploads/ab12/c++.txt"));
        check_key("uploads/ab12/5%3A00.log", Ok("uploads/ab12/5:00.log"));
        // A signed-in user's space keeps its own %XX: `%2540` is `%40`, never `@`.
        check_key(
            "uploads/user%2540example.com/ab12/cat.png",
            Ok("uploads/user%40example.com/ab12/cat.png"),
        );
        check_key("uploads/ab12/%ED%95%9C.txt", Ok("uploads/ab12/한.txt"));
        check_key("uploads/ab12/%E2%82", Err(()));
        check_key("uploads/ab12/100%.txt", Err(()));
        check_key("uploads/ab12/%zz.txt", Err(()));
    }
}
