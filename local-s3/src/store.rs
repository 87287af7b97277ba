//! The store behind local-s3's HTTP layer: s3s-fs, plus what AWS does that s3s-fs 0.17 does not
//! and the after-upload hook relies on:
//!
//! - an event for every stored object (PutObject, a POST form, CompleteMultipartUpload,
//!   CopyObject), sent to a URL in the shape AWS sends it ([`Notify`]), so `cargo xtask dev` and
//!   the tests run the hook exactly as EventBridge (or a classic bucket notification) runs it;
//! - object tags (`PutObjectTagging`, `GetObjectTagging`), kept in a file per object under
//!   `<root>/.tags/` and dropped when the object is replaced or deleted, as S3 drops them;
//! - GetObject's `If-Match` (`412 PreconditionFailed` when the object's ETag is another), which
//!   the hook sends so that a late event never judges newer bytes than its own.
//!
//! Every other call goes to s3s-fs unchanged. s3s checks each request's signature before any of
//! this runs, so tags and reads need the same credentials as everything else.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use s3s_fs::FileSystem;
use sha2::{Digest as _, Sha256};

/// Where events go, and in which of AWS's two shapes.
#[derive(Debug, Clone)]
pub struct Notify {
    /// The receiver's URL (`http://`): the hook's local endpoint.
    pub url: String,
    /// Only keys starting with this are announced (`uploads/`), as the stack's EventBridge rule
    /// and a bucket notification's prefix filter do: never the page's files nor the hook's own
    /// results.
    pub prefix: String,
    pub shape: EventShape,
}

/// The two shapes AWS delivers an "object created" event in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventShape {
    /// EventBridge's `Object Created` event (what the stack routes to the hook): the key as it is.
    EventBridge,
    /// A classic S3 event notification (`{"Records":[…]}`): the key URL-encoded, spaces as `+`.
    Records,
}

/// One stored object, as an event announces it.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    /// Without quotes, as events carry it.
    pub etag: String,
    /// EventBridge's `reason`: `PutObject`, `POST Object`, `CompleteMultipartUpload`, `CopyObject`.
    pub reason: &'static str,
    /// Increases with every event, as S3's `sequencer` does for one key.
    pub sequencer: u64,
    /// Seconds since the Unix epoch.
    pub time: u64,
}

impl Created {
    /// The event's JSON, in `shape`.
    pub fn to_json(&self, shape: EventShape, region: &str) -> String {
        let time = rfc3339(self.time);
        let sequencer = format!("{:016X}", self.sequencer);
        let value = match shape {
            EventShape::EventBridge => serde_json::json!({
                "version": "0",
                "id": format!("local-{sequencer}"),
                "detail-type": "Object Created",
                "source": "aws.s3",
                "account": "000000000000",
                "time": time,
                "region": region,
                "resources": [format!("arn:aws:s3:::{}", self.bucket)],
                "detail": {
                    "version": "0",
                    "bucket": {"name": self.bucket},
                    "object": {
                        "key": self.key,
                        "size": self.size,
                        "etag": self.etag,
                        "sequencer": sequencer,
                    },
                    "request-id": format!("local-{sequencer}"),
                    "requester": "000000000000",
                    "source-ip-address": "127.0.0.1",
                    "reason": self.reason,
                },
            }),
            EventShape::Records => {
                let name = match self.reason {
                    "POST Object" => "Post",
                    "CompleteMultipartUpload" => "CompleteMultipartUpload",
                    "CopyObject" => "Copy",
                    _ => "Put",
                };
                serde_json::json!({"Records": [{
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": region,
                    "eventTime": time,
                    "eventName": format!("ObjectCreated:{name}"),
                    "userIdentity": {"principalId": "local"},
                    "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                    "responseElements": {"x-amz-request-id": format!("local-{sequencer}")},
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "configurationId": "local",
                        "bucket": {"name": self.bucket, "arn": format!("arn:aws:s3:::{}", self.bucket)},
                        "object": {
                            "key": form_encode(&self.key),
                            "size": self.size,
                            "eTag": self.etag,
                            "sequencer": sequencer,
                        },
                    },
                }]})
            }
        };
        value.to_string()
    }
}

/// A key as S3 writes it into a notification record: each segment
/// `application/x-www-form-urlencoded` (a space is `+`, `+` itself `%2B`), the `/`s kept.
pub fn form_encode(key: &str) -> String {
    key.split('/')
        .map(|segment| form_urlencoded::byte_serialize(segment.as_bytes()).collect::<String>())
        .collect::<Vec<_>>()
        .join("/")
}

/// `YYYY-MM-DDTHH:MM:SS.000Z`.
fn rfc3339(seconds: u64) -> String {
    let [y, m, d, hour, minute, second] = crate::client::utc(seconds);
    format!("{y:04}-{m:02}-{d:02}T{hour:02}:{minute:02}:{second:02}.000Z")
}

/// s3s-fs with tags, `If-Match` on reads and events (see the module's text).
pub struct Store {
    fs: FileSystem,
    root: PathBuf,
    events: Option<Events>,
}

struct Events {
    notify: Notify,
    region: String,
    client: Client<HttpConnector, Full<Bytes>>,
    sequencer: AtomicU64,
}

impl Store {
    pub fn new(fs: FileSystem, root: &Path, notify: Option<Notify>, region: &str) -> Store {
        Store {
            fs,
            root: root.to_path_buf(),
            events: notify.map(|notify| Events {
                notify,
                region: region.to_string(),
                client: Client::builder(TokioExecutor::new()).build_http(),
                sequencer: AtomicU64::new(1),
            }),
        }
    }

    /// The file holding an object's tags: named by a hash, since a key may be longer than a file
    /// name may be.
    fn tags_path(&self, bucket: &str, key: &str) -> PathBuf {
        let digest = Sha256::digest(format!("{bucket}/{key}").as_bytes());
        let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        self.root.join(".tags").join(format!("{name}.json"))
    }

    fn forget_tags(&self, bucket: &str, key: &str) {
        let _ = std::fs::remove_file(self.tags_path(bucket, key));
    }

    /// After an object was stored: its tags are gone (a new object has none), and the receiver
    /// hears of it, in the background, tried up to five times (it may be starting).
    fn created(&self, bucket: &str, key: &str, etag: Option<&ETag>, reason: &'static str) {
        self.forget_tags(bucket, key);
        let Some(events) = &self.events else {
            return;
        };
        if !key.starts_with(&events.notify.prefix) {
            return;
        }
        let size = std::fs::metadata(self.root.join(bucket).join(key))
            .map(|m| m.len())
            .unwrap_or_default();
        let created = Created {
            bucket: bucket.to_string(),
            key: key.to_string(),
            size,
            etag: etag.map(|e| e.value().to_string()).unwrap_or_default(),
            reason,
            sequencer: events.sequencer.fetch_add(1, Ordering::SeqCst),
            time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs(),
        };
        let body = created.to_json(events.notify.shape, &events.region);
        let (client, url) = (events.client.clone(), events.notify.url.clone());
        tokio::spawn(async move {
            let mut wait = Duration::from_millis(200);
            for attempt in 1..=5 {
                let request = http::Request::post(&url)
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(Full::new(Bytes::from(body.clone())));
                let Ok(request) = request else { return };
                match client.request(request).await {
                    Ok(answer) if answer.status().is_success() => return,
                    Ok(answer) => {
                        tracing::warn!(attempt, status = %answer.status(), "event not taken")
                    }
                    Err(err) => tracing::warn!(attempt, %err, "event not delivered"),
                }
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            tracing::error!(key = %created.key, "event dropped after 5 attempts");
        });
    }
}

/// Calls s3s-fs's own implementation of each of these. Written as `async_trait` expands an
/// `async fn` (the attribute does not see into a macro's output), handing on s3s-fs's future.
macro_rules! delegate {
    ($($name:ident: $input:ty => $output:ty;)*) => {
        $(
            fn $name<'life0, 'async_trait>(
                &'life0 self,
                req: S3Request<$input>,
            ) -> Pin<Box<dyn Future<Output = S3Result<S3Response<$output>>> + Send + 'async_trait>>
            where
                'life0: 'async_trait,
                Self: 'async_trait,
            {
                self.fs.$name(req)
            }
        )*
    };
}

#[async_trait::async_trait]
impl S3 for Store {
    delegate! {
        create_bucket: CreateBucketInput => CreateBucketOutput;
        delete_bucket: DeleteBucketInput => DeleteBucketOutput;
        delete_objects: DeleteObjectsInput => DeleteObjectsOutput;
        get_bucket_location: GetBucketLocationInput => GetBucketLocationOutput;
        head_bucket: HeadBucketInput => HeadBucketOutput;
        head_object: HeadObjectInput => HeadObjectOutput;
        list_buckets: ListBucketsInput => ListBucketsOutput;
        list_objects: ListObjectsInput => ListObjectsOutput;
        list_objects_v2: ListObjectsV2Input => ListObjectsV2Output;
        create_multipart_upload: CreateMultipartUploadInput => CreateMultipartUploadOutput;
        upload_part: UploadPartInput => UploadPartOutput;
        upload_part_copy: UploadPartCopyInput => UploadPartCopyOutput;
        list_parts: ListPartsInput => ListPartsOutput;
        abort_multipart_upload: AbortMultipartUploadInput => AbortMultipartUploadOutput;
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let expected = match &req.input.if_match {
            Some(ETagCondition::ETag(etag)) => Some(etag.value().to_string()),
            _ => None,
        };
        let answer = self.fs.get_object(req).await?;
        if let Some(expected) = expected
            && answer.output.e_tag.as_ref().map(ETag::value) != Some(expected.as_str())
        {
            return Err(s3_error!(
                PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold"
            ));
        }
        Ok(answer)
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let answer = self.fs.put_object(req).await?;
        self.created(&bucket, &key, answer.output.e_tag.as_ref(), "PutObject");
        Ok(answer)
    }

    async fn post_object(
        &self,
        req: S3Request<PostObjectInput>,
    ) -> S3Result<S3Response<PostObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        // s3s-fs stores a form's file as a PutObject (s3s's default `post_object`).
        let answer = S3::post_object(&self.fs, req).await?;
        self.created(&bucket, &key, answer.output.e_tag.as_ref(), "POST Object");
        Ok(answer)
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let answer = self.fs.complete_multipart_upload(req).await?;
        self.created(
            &bucket,
            &key,
            answer.output.e_tag.as_ref(),
            "CompleteMultipartUpload",
        );
        Ok(answer)
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let answer = self.fs.copy_object(req).await?;
        let etag = answer
            .output
            .copy_object_result
            .as_ref()
            .and_then(|r| r.e_tag.clone());
        self.created(&bucket, &key, etag.as_ref(), "CopyObject");
        Ok(answer)
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let answer = self.fs.delete_object(req).await?;
        self.forget_tags(&bucket, &key);
        Ok(answer)
    }

    async fn put_object_tagging(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        let input = req.input;
        if !self.root.join(&input.bucket).join(&input.key).is_file() {
            return Err(s3_error!(NoSuchKey));
        }
        let tags: Vec<(String, String)> = input
            .tagging
            .tag_set
            .into_iter()
            .map(|tag| (tag.key.unwrap_or_default(), tag.value.unwrap_or_default()))
            .collect();
        // S3's limits: at most 10 tags, keys up to 128 characters, values up to 256.
        if tags.len() > 10
            || tags
                .iter()
                .any(|(k, v)| k.is_empty() || k.len() > 128 || v.len() > 256)
        {
            return Err(s3_error!(InvalidTag));
        }
        let path = self.tags_path(&input.bucket, &input.key);
        let json = serde_json::to_vec(&tags).map_err(|e| s3_error!(e, InternalError))?;
        std::fs::create_dir_all(path.parent().unwrap_or(&self.root))
            .and_then(|()| std::fs::write(&path, json))
            .map_err(|e| s3_error!(e, InternalError))?;
        Ok(S3Response::new(PutObjectTaggingOutput::default()))
    }

    async fn get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        let input = req.input;
        if !self.root.join(&input.bucket).join(&input.key).is_file() {
            return Err(s3_error!(NoSuchKey));
        }
        let tags: Vec<(String, String)> = std::fs::read(self.tags_path(&input.bucket, &input.key))
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .unwrap_or_default();
        Ok(S3Response::new(GetObjectTaggingOutput {
            tag_set: tags
                .into_iter()
                .map(|(key, value)| Tag {
                    key: Some(key),
                    value: Some(value),
                })
                .collect(),
            ..Default::default()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(key: &str) -> Created {
        Created {
            bucket: "uploads".into(),
            key: key.into(),
            size: 5,
            etag: "b1946ac92492d2347c6235b4d2611184".into(),
            reason: "POST Object",
            sequencer: 10,
            time: 1_636_675_200,
        }
    }

    #[test]
    fn an_eventbridge_event_carries_the_key_as_it_is() {
        let json: serde_json::Value = serde_json::from_str(
            &created("uploads/ab/my cat+1.png").to_json(EventShape::EventBridge, "us-east-1"),
        )
        .unwrap();
        assert_eq!(json["detail-type"], "Object Created");
        assert_eq!(json["source"], "aws.s3");
        assert_eq!(json["time"], "2021-11-12T00:00:00.000Z");
        assert_eq!(json["detail"]["bucket"]["name"], "uploads");
        assert_eq!(json["detail"]["object"]["key"], "uploads/ab/my cat+1.png");
        assert_eq!(json["detail"]["object"]["size"], 5);
        assert_eq!(json["detail"]["reason"], "POST Object");
    }

    #[test]
    fn a_notification_record_carries_the_key_form_encoded() {
        let json: serde_json::Value = serde_json::from_str(
            &created("uploads/ab/my cat+1%41.png").to_json(EventShape::Records, "us-east-1"),
        )
        .unwrap();
        let record = &json["Records"][0];
        assert_eq!(record["eventName"], "ObjectCreated:Post");
        assert_eq!(
            record["s3"]["object"]["key"],
            "uploads/ab/my+cat%2B1%2541.png"
        );
        assert_eq!(
            record["s3"]["object"]["eTag"],
            "b1946ac92492d2347c6235b4d2611184"
        );
    }
}
