//! The hook's reading of saved events in the shapes AWS sends (`tests/events/`: EventBridge's
//! `Object Created` and `Object Deleted` from AWS's documentation, a classic notification with
//! records of each kind) and what Ceph radosgw pushed in `tests/radosgw.rs` (saved from a run).

use hook::event::{Stored, stored_objects};

fn stored(file: &str) -> Vec<Stored> {
    let path = format!("{}/tests/events/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    stored_objects(&serde_json::from_str(&text).unwrap()).unwrap()
}

fn one(bucket: &str, key: &str, etag: &str) -> Stored {
    Stored {
        bucket: bucket.into(),
        key: key.into(),
        etag: Some(etag.into()),
    }
}

#[test]
fn eventbridge_keys_are_taken_as_they_are() {
    assert_eq!(
        stored("eventbridge-object-created.json"),
        [one(
            "amzn-s3-demo-bucket1",
            "uploads/0123456789abcdef0123456789abcdef/my cat+1: 5%.png",
            "b1946ac92492d2347c6235b4d2611184"
        )]
    );
    // A signed-in user's key keeps its own %XX.
    assert_eq!(
        stored("eventbridge-multipart.json"),
        [one(
            "amzn-s3-demo-bucket1",
            "uploads/user%40example.com/0123456789abcdef0123456789abcdef/film.mp4",
            "4af981f98d22a0b9979da24b259e5e42-12"
        )]
    );
}

#[test]
fn other_eventbridge_events_announce_nothing() {
    assert_eq!(stored("eventbridge-object-deleted.json"), []);
}

#[test]
fn notification_keys_are_decoded_once_and_removals_skipped() {
    assert_eq!(
        stored("s3-notification-records.json"),
        [
            one(
                "amzn-s3-demo-bucket1",
                "uploads/user%40example.com/0123456789abcdef0123456789abcdef/red flower: c++.jpg",
                "d41d8cd98f00b204e9800998ecf8427e"
            ),
            one(
                "amzn-s3-demo-bucket1",
                "uploads/0123456789abcdef0123456789abcdef/한글.pdf",
                "4af981f98d22a0b9979da24b259e5e42-3"
            ),
        ]
    );
}

#[test]
fn what_is_not_an_s3_event_is_refused() {
    for payload in [
        serde_json::json!({}),
        serde_json::json!({"Records": "no"}),
        serde_json::json!({"detail-type": "Object Created", "source": "aws.s3", "detail": {}}),
    ] {
        assert!(stored_objects(&payload).is_err(), "{payload}");
    }
}

/// Saved from `tests/radosgw.rs`: Ceph radosgw 16's push of a PutObject, its key as it is.
#[test]
fn radosgw_keys_are_taken_as_they_are() {
    assert_eq!(
        stored("radosgw-put.json"),
        [one(
            "hooked-uploads",
            "uploads/user%40example.com/6176680154334f68c8e42c0390d99d82/red flower+c++ 100%.png",
            "93ca32a536da1698ea979f183679af29"
        )]
    );
}
