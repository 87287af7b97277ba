//! `cargo bench -p signer --bench sign`: the time to validate a request, build a key and a policy, and
//! sign it (everything `POST /sign` does but HTTP), and the parts on their own.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use http::Method;
use signer::key::{UploadId, object_key};
use signer::policy::{UploadPolicy, sign_post_policy};
use signer::sigv4::{Credentials, SigningKey};
use signer::time::UnixTime;
use signer::{Config, Incoming, Signer};

fn benches(c: &mut Criterion) {
    let now = UnixTime(1_795_995_600);
    let credentials = Credentials {
        access_key_id: "ASIAEXAMPLEROLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        session_token: Some("IQoJb3JpZ2luX2VjE".repeat(50)),
    };
    let policy = UploadPolicy {
        bucket: "example-uploads",
        region: "eu-west-1",
        key: "uploads/5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a/holiday photo.jpg",
        content_type: "image/jpeg",
        content_disposition: "attachment; filename*=UTF-8''holiday%20photo.jpg",
        size: 3_500_000,
        content_md5: None,
        uploader: None,
        expires: now.plus_seconds(600),
    };
    let signing_key = SigningKey::derive(&credentials.secret_access_key, now, "eu-west-1");
    c.bench_function(
        "sign_post_policy (build + base64 + SigV4, 850-byte session token)",
        |b| {
            b.iter(|| {
                sign_post_policy(
                    black_box(&policy),
                    black_box(&credentials),
                    &signing_key,
                    black_box(now),
                )
            })
        },
    );
    c.bench_function("SigningKey::derive (once a day)", |b| {
        b.iter(|| SigningKey::derive(black_box(&credentials.secret_access_key), now, "eu-west-1"))
    });
    c.bench_function("object_key", |b| {
        b.iter(|| {
            object_key(
                black_box("uploads/"),
                black_box(UploadId([0x5a; 16])),
                black_box("holiday photo.jpg"),
            )
        })
    });

    let vars = [
        ("UPLOAD_BUCKET", "example-uploads"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLEROLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjE"),
        ("ALLOWED_ORIGINS", "https://page.example"),
        ("ALLOWED_CONTENT_TYPES", "image/*,application/pdf"),
    ];
    let config = Config::from_pairs(&vars);
    let signer = Signer::new(config.expect("bench configuration"));
    let body = br#"{"filename":"holiday photo.jpg","contentType":"image/jpeg","size":3500000}"#;
    c.bench_function(
        "POST /sign handler (parse + validate + key + policy + JSON)",
        |b| {
            b.iter(|| {
                signer.handle(
                    black_box(&Incoming {
                        method: &Method::POST,
                        path: "/sign",
                        origin: Some("https://page.example"),
                        body,
                        caller: signer::auth::Caller::Anonymous,
                        origin_secret: None,
                    }),
                    now,
                    UploadId([0x5a; 16]),
                )
            })
        },
    );
}

criterion_group!(sign, benches);
criterion_main!(sign);
