//! The signer binary and s3s-fs, both on 127.0.0.1, for the tests that upload for real (single
//! POST and multipart). Both stop when the `Stack` is dropped.

use std::net::SocketAddr;
use std::path::PathBuf;

use shared::SignResponse;

use super::{HttpResponse, SignerProcess, multipart, request};

pub const BUCKET: &str = "test-uploads";
pub const ACCESS_KEY: &str = "AKIDLOCALTEST";
pub const SECRET_KEY: &str = "local/test/secret+key";
pub const REGION: &str = "us-east-1";
pub const PAGE: &str = "http://127.0.0.1:8080";

pub struct Stack {
    pub s3: Option<local_s3::Server>,
    pub runtime: tokio::runtime::Runtime,
    pub signer: SignerProcess,
    pub root: PathBuf,
}

impl Stack {
    pub fn start(name: &str, extra: &[(&str, &str)]) -> Stack {
        Stack::start_with(name, extra, false)
    }

    /// The same, the signer's standard error kept (`signer.stop_and_read_stderr()`).
    pub fn start_logged(name: &str, extra: &[(&str, &str)]) -> Stack {
        Stack::start_with(name, extra, true)
    }

    fn start_with(name: &str, extra: &[(&str, &str)], logged: bool) -> Stack {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("s3-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let config = local_s3::Config {
            root: root.clone(),
            bucket: BUCKET.into(),
            access_key: ACCESS_KEY.into(),
            secret_key: SECRET_KEY.into(),
            region: REGION.into(),
            allowed_origins: vec![PAGE.into()],
            notify: None,
        };
        let s3 = runtime
            .block_on(local_s3::start(
                config,
                SocketAddr::from(([127, 0, 0, 1], 0)),
            ))
            .unwrap();
        let endpoint = s3.endpoint();
        let mut vars = vec![
            ("UPLOAD_BUCKET", BUCKET),
            ("AWS_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
            ("S3_ENDPOINT", endpoint.as_str()),
            ("ALLOWED_ORIGINS", PAGE),
            ("MAX_UPLOAD_BYTES", "67108864"),
        ];
        vars.extend_from_slice(extra);
        let signer = if logged {
            SignerProcess::start_with_stderr(&vars)
        } else {
            SignerProcess::start(&vars)
        };
        Stack {
            s3: Some(s3),
            runtime,
            signer,
            root,
        }
    }

    pub fn s3_addr(&self) -> SocketAddr {
        self.s3.as_ref().unwrap().addr()
    }

    pub fn sign(&self, filename: &str, content_type: &str, size: u64) -> SignResponse {
        self.sign_json(
            serde_json::json!({"filename": filename, "contentType": content_type, "size": size}),
        )
    }

    pub fn sign_json(&self, body: serde_json::Value) -> SignResponse {
        let response = request(
            self.signer.addr,
            "POST",
            "/sign",
            &[("Content-Type", "application/json"), ("Origin", PAGE)],
            body.to_string().as_bytes(),
        );
        assert_eq!(response.status, 200, "{}", response.text());
        assert_eq!(response.header("access-control-allow-origin"), Some(PAGE));
        serde_json::from_slice(&response.body).unwrap()
    }

    /// Posts a form to the URL the signer gave, the file last.
    pub fn upload(
        &self,
        signed: &SignResponse,
        fields: &[(String, String)],
        file: &[u8],
        file_type: &str,
    ) -> HttpResponse {
        let path = signed
            .url
            .strip_prefix(&self.s3.as_ref().unwrap().endpoint())
            .unwrap();
        let (content_type, body) = multipart(fields, "original-name.bin", file_type, file);
        request(
            self.s3_addr(),
            "POST",
            path,
            &[("Content-Type", &content_type), ("Origin", PAGE)],
            &body,
        )
    }

    /// Every file s3s-fs keeps (objects, and the parts of unfinished multipart uploads).
    pub fn files(&self) -> Vec<String> {
        fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path.display().to_string());
                }
            }
        }
        let mut files = Vec::new();
        walk(&self.root, &mut files);
        files
    }

    pub fn stored(&self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.root.join(BUCKET).join(key)).ok()
    }

    /// Every object in the bucket, as keys (s3s-fs keeps one file per object).
    pub fn keys(&self) -> Vec<String> {
        fn walk(dir: &std::path::Path, base: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, base, out);
                } else if let Ok(relative) = path.strip_prefix(base) {
                    out.push(relative.to_string_lossy().into_owned());
                }
            }
        }
        let base = self.root.join(BUCKET);
        let mut keys = Vec::new();
        walk(&base, &base, &mut keys);
        keys.retain(|k| k.starts_with("uploads/"));
        keys.sort();
        keys
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(s3) = self.s3.take() {
            self.runtime.block_on(s3.stop());
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

pub fn content(size: usize, seed: u8) -> Vec<u8> {
    (0..size)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 11) as u8)
        .collect()
}

pub fn fields(signed: &SignResponse) -> Vec<(String, String)> {
    signed.fields.0.clone()
}
