//! The multipart endpoints (`/multipart/*`, JSON in `shared/src/multipart.rs`), pure: each call
//! either answers at once or names the S3 request it needs ([`S3Call`]) and how to go on with
//! S3's answer ([`Pending`]). `s3.rs` sends the requests; nothing here does I/O, reads the clock
//! or draws randomness, so the whole exchange is tested with canned S3 answers too.
//!
//! Every call after `create` carries the upload token, which states the key, S3's upload id, the
//! size, the part size, the type and an expiry (`shared::UploadClaims`): the signer stays
//! stateless, and nobody can change the plan. Part URLs sign the part's exact `Content-Length`
//! (and its `Content-MD5` when the page sends one), so S3 refuses any other length or bytes.
//! `complete` lists what S3 holds and completes only parts 1..N at the planned sizes.

// An error here is the request's answer, made once per request: boxing it would only add an
// allocation to every refusal.
#![allow(clippy::result_large_err)]

use http::{Method, StatusCode};
use shared::{
    CompletedUpload, ErrorCode, FormFields, ListedPart, ListedParts, MAX_PARTS_PER_SIGN,
    MultipartUpload, PartPlan, SignParts, SignRequest, SignedPart, SignedParts, UploadClaims,
    UploadToken,
};

use crate::answer::{MAX_BATCH_BODY_BYTES, Outgoing, error, json, read_body};
use crate::key::{UploadId, content_disposition, object_key};
use crate::policy::UPLOADER_METADATA;
use crate::sigv4::{CanonicalRequest, object_url, sign_headers};
use crate::state::Signer;
use crate::step::{Pending, S3Answer, S3Call, Step};
use crate::time::UnixTime;
use crate::token::TokenError;

/// How long a multipart upload's token lives: a day, as the bucket's lifecycle rule keeps
/// unfinished uploads (resuming after a night's sleep works; after that, S3 has dropped it).
pub const MULTIPART_TOKEN_TTL_SECONDS: u64 = 24 * 3600;
/// How long after its date S3 accepts a request signed in its headers.
const HEADER_SIGNATURE_SECONDS: u64 = 15 * 60;
/// The SHA-256 of nothing, for bodiless S3 requests.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The routes under `/multipart/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultipartRoute {
    Create,
    SignParts,
    List,
    Complete,
    Abort,
}

impl MultipartRoute {
    pub fn from_path(path: &str) -> Option<MultipartRoute> {
        Some(match path.strip_prefix("/multipart/")? {
            "create" => MultipartRoute::Create,
            "sign-parts" => MultipartRoute::SignParts,
            "list" => MultipartRoute::List,
            "complete" => MultipartRoute::Complete,
            "abort" => MultipartRoute::Abort,
            _ => return None,
        })
    }
}

impl Signer {
    /// The first step of a multipart call (a `POST` with a JSON body).
    pub fn multipart(
        &self,
        route: MultipartRoute,
        body: &[u8],
        now: UnixTime,
        id: UploadId,
        space: &str,
    ) -> Step {
        match self.multipart_start(route, body, now, id, space) {
            Ok(step) => step,
            Err(response) => Step::Done(response),
        }
    }

    fn multipart_start(
        &self,
        route: MultipartRoute,
        body: &[u8],
        now: UnixTime,
        id: UploadId,
        space: &str,
    ) -> Result<Step, Outgoing> {
        match route {
            MultipartRoute::Create => {
                let request: SignRequest = self.parse_body(body)?;
                if request.token.is_some() {
                    return Err(error(
                        ErrorCode::MalformedRequest,
                        "create takes no token: each create starts a new upload.".into(),
                    ));
                }
                // A whole file's MD5 pins nothing here (S3 checks each part's, which sign-parts
                // signs): refused, as before the field existed, rather than silently ignored.
                if request.content_md5.is_some() {
                    return Err(error(
                        ErrorCode::MalformedRequest,
                        "create takes no contentMd5: each part's MD5 is signed by sign-parts."
                            .into(),
                    ));
                }
                let content_type = self
                    .config()
                    .rules
                    .check(&request)
                    .map_err(|refusal| error(refusal.code, refusal.message))?;
                let plan = PartPlan::for_size(request.size).ok_or_else(|| {
                    error(
                        ErrorCode::FileTooLarge,
                        "An empty file or one over 5 TiB cannot be a multipart upload.".into(),
                    )
                })?;
                let key = object_key(space, id, &request.filename);
                let claims = UploadClaims {
                    upload_id: None,
                    part_size: Some(plan.part_size),
                    ..UploadClaims::single(
                        key.clone(),
                        content_type.clone(),
                        request.size,
                        now.plus_seconds(MULTIPART_TOKEN_TTL_SECONDS).0,
                    )
                };
                let mut headers = vec![
                    ("content-disposition".into(), content_disposition(&key)),
                    ("content-type".into(), content_type),
                ];
                if let Some(uploader) = self.uploader(space) {
                    headers.push((UPLOADER_METADATA.into(), uploader.into()));
                }
                Ok(Step::Call(self.s3_call(
                    Method::POST,
                    &key,
                    vec![("uploads".into(), String::new())],
                    headers,
                    Vec::new(),
                    now,
                    Pending::Create { claims, plan },
                )))
            }
            MultipartRoute::SignParts => {
                let request: SignParts = self.parse_body(body)?;
                let (claims, plan) = self.upload_claims(&request.token, now, space)?;
                if request.parts.is_empty() || request.parts.len() > MAX_PARTS_PER_SIGN {
                    return Err(error(
                        ErrorCode::PartNotInPlan,
                        format!("Sign 1 to {MAX_PARTS_PER_SIGN} parts per request."),
                    ));
                }
                // Each part at most once: 64 copies of part 1 would be 64 URLs for one part.
                let mut numbers: Vec<u32> = request.parts.iter().map(|p| p.number).collect();
                numbers.sort_unstable();
                if let Some(twice) = numbers.windows(2).find(|w| w[0] == w[1]) {
                    return Err(error(
                        ErrorCode::MalformedRequest,
                        format!(
                            "Part {} is asked for twice; ask for each part once per request.",
                            twice[0]
                        ),
                    ));
                }
                // S3 takes a request signed in its headers for 15 minutes after its date.
                let expires = now.plus_seconds(
                    self.config()
                        .policy_ttl_seconds
                        .min(HEADER_SIGNATURE_SECONDS),
                );
                let mut parts = Vec::with_capacity(request.parts.len());
                for part in &request.parts {
                    let (_, length) = plan.part(part.number).ok_or_else(|| {
                        error(
                            ErrorCode::PartNotInPlan,
                            format!(
                                "Part {} is not in this upload's plan (parts 1 to {}).",
                                part.number, plan.parts
                            ),
                        )
                    })?;
                    let mut headers = vec![("Content-Length".to_string(), length.to_string())];
                    if part.md5.is_none() && self.config().rules.require_md5 {
                        return Err(error(
                            ErrorCode::Md5Required,
                            format!(
                                "This signer signs a part only with its MD5: send md5 for part {}.",
                                part.number
                            ),
                        ));
                    }
                    if let Some(md5) = &part.md5 {
                        if !is_base64_md5(md5) {
                            return Err(error(
                                ErrorCode::MalformedRequest,
                                format!("md5 of part {} must be 16 bytes in base64.", part.number),
                            ));
                        }
                        headers.push(("Content-MD5".to_string(), md5.clone()));
                    }
                    let (url, headers) = self.sign_part(&claims, part.number, headers, now);
                    parts.push(SignedPart {
                        number: part.number,
                        url,
                        headers: FormFields(headers),
                    });
                }
                let answer = SignedParts {
                    parts,
                    expires_at: expires.rfc3339(),
                };
                Ok(Step::Done(json(
                    StatusCode::OK,
                    serde_json::to_string(&answer).unwrap_or_default(),
                )))
            }
            MultipartRoute::List | MultipartRoute::Complete => {
                let request: UploadToken = self.parse_body(body)?;
                let (claims, plan) = self.upload_claims(&request.token, now, space)?;
                let complete = route == MultipartRoute::Complete;
                Ok(Step::Call(self.list_call(
                    claims,
                    plan,
                    Vec::new(),
                    complete,
                    None,
                    now,
                )))
            }
            MultipartRoute::Abort => {
                let request: UploadToken = self.parse_body(body)?;
                let (claims, _) = self.upload_claims(&request.token, now, space)?;
                let upload_id = claims.upload_id.clone().unwrap_or_default();
                Ok(Step::Call(self.s3_call(
                    Method::DELETE,
                    &claims.key,
                    vec![("uploadId".into(), upload_id)],
                    Vec::new(),
                    Vec::new(),
                    now,
                    Pending::Abort,
                )))
            }
        }
    }

    /// The next step once S3 answered `call`.
    pub fn multipart_resume(&self, pending: Pending, answer: S3Answer, now: UnixTime) -> Step {
        let (status, body) = match answer {
            Ok(answer) => answer,
            Err(why) => {
                tracing::warn!(why, "storage unreachable");
                return Step::Done(error(
                    ErrorCode::StorageFailed,
                    "Storage could not be reached; try again.".into(),
                ));
            }
        };
        let text = String::from_utf8_lossy(&body);
        let xml = roxmltree::Document::parse(&text).ok();
        let value = |name: &str| xml.as_ref().and_then(|doc| element(doc, name));
        if let Some(code) = xml.as_ref().and_then(|doc| {
            (doc.root_element().tag_name().name() == "Error")
                .then(|| element(doc, "Code"))
                .flatten()
        }) {
            return Step::Done(storage_error(&code, status, pending == Pending::Abort));
        }
        if !(200..300).contains(&status) {
            return Step::Done(storage_error("", status, pending == Pending::Abort));
        }
        match pending {
            Pending::Create { mut claims, plan } => {
                let Some(upload_id) = value("UploadId") else {
                    return Step::Done(storage_error("NoUploadId", status, false));
                };
                claims.upload_id = Some(upload_id.clone());
                let token = self.issue_token(&claims);
                tracing::info!(
                    upload = self.upload_id(&claims.key),
                    size = claims.size,
                    parts = plan.parts,
                    "multipart upload created"
                );
                let answer = MultipartUpload {
                    key: claims.key,
                    upload_id,
                    part_size: plan.part_size,
                    parts: plan.parts,
                    token,
                    expires_at: UnixTime(claims.expires).rfc3339(),
                };
                Step::Done(json(
                    StatusCode::OK,
                    serde_json::to_string(&answer).unwrap_or_default(),
                ))
            }
            Pending::List {
                claims,
                plan,
                mut parts,
                complete,
            } => {
                let Some(doc) = xml.as_ref() else {
                    return Step::Done(storage_error("NotXml", status, false));
                };
                parts.extend(listed_parts(doc));
                if element(doc, "IsTruncated").as_deref() == Some("true")
                    && let Some(marker) = element(doc, "NextPartNumberMarker")
                    && parts.len() < shared::MAX_PARTS as usize
                {
                    return Step::Call(self.list_call(
                        claims,
                        plan,
                        parts,
                        complete,
                        Some(&marker),
                        now,
                    ));
                }
                parts.sort_by_key(|p| p.number);
                if !complete {
                    let answer = ListedParts { parts };
                    return Step::Done(json(
                        StatusCode::OK,
                        serde_json::to_string(&answer).unwrap_or_default(),
                    ));
                }
                match completion_body(&plan, &parts) {
                    Ok(body) => Step::Call(self.complete_call(claims, body, now)),
                    Err(response) => Step::Done(response),
                }
            }
            Pending::Complete { claims } => {
                let etag = value("ETag").unwrap_or_default();
                tracing::info!(
                    upload = self.upload_id(&claims.key),
                    size = claims.size,
                    "multipart upload completed"
                );
                let answer = CompletedUpload {
                    key: claims.key,
                    etag,
                };
                Step::Done(json(
                    StatusCode::OK,
                    serde_json::to_string(&answer).unwrap_or_default(),
                ))
            }
            Pending::Abort => Step::Done(no_content()),
        }
    }

    fn parse_body<T: serde::de::DeserializeOwned>(&self, body: &[u8]) -> Result<T, Outgoing> {
        read_body(
            body,
            MAX_BATCH_BODY_BYTES,
            "A multipart request is at most 128 KiB.",
            |err| format!("The body is not what this endpoint takes ({err})."),
        )
    }

    /// The token's claims and plan, if it is this signer's token for a multipart upload.
    /// `space`: the key prefix the caller may write under; another user's token is refused.
    fn upload_claims(
        &self,
        token: &str,
        now: UnixTime,
        space: &str,
    ) -> Result<(UploadClaims, PartPlan), Outgoing> {
        let claims = self
            .verify_token(token, now, space)
            .map_err(|err| match err {
                TokenError::Expired => error(
                    ErrorCode::TokenExpired,
                    "This upload's token has expired; start the upload again.".into(),
                ),
                TokenError::Invalid => error(
                    ErrorCode::InvalidToken,
                    "This upload token was not issued by this signer or was changed.".into(),
                ),
                TokenError::OtherUser => error(
                    ErrorCode::InvalidToken,
                    "This upload token was issued to another user.".into(),
                ),
            })?;
        // The plan is the one `create` made: the token states its part size (which an earlier
        // version of the planning rule may have chosen, so any plan S3 accepts is taken).
        let plan = claims
            .part_size
            .filter(|_| claims.is_multipart())
            .and_then(|part_size| PartPlan::with_part_size(claims.size, part_size));
        match plan {
            Some(plan) => Ok((claims, plan)),
            None => Err(error(
                ErrorCode::InvalidToken,
                "This token is not for a multipart upload.".into(),
            )),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn s3_call(
        &self,
        method: Method,
        key: &str,
        query: Vec<(String, String)>,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        now: UnixTime,
        pending: Pending,
    ) -> S3Call {
        let payload_hash = if body.is_empty() {
            EMPTY_SHA256.to_string()
        } else {
            use sha2::Digest;
            crate::sigv4::hex(&sha2::Sha256::digest(&body))
        };
        let (url, headers) = self.signed(method.as_str(), key, query, headers, &payload_hash, now);
        S3Call {
            method,
            url,
            headers,
            body,
            pending,
        }
    }

    /// A request to `key` signed in its headers: its URL and every header to send.
    fn signed(
        &self,
        method: &str,
        key: &str,
        query: Vec<(String, String)>,
        headers: Vec<(String, String)>,
        payload_hash: &str,
        now: UnixTime,
    ) -> (String, Vec<(String, String)>) {
        let (url, host, path) = object_url(&self.config().upload_url, key);
        let request = CanonicalRequest {
            method,
            host: &host,
            path: &path,
            query,
            headers,
            payload_hash,
        };
        let query = request.query_string();
        let headers = sign_headers(
            request,
            &self.config().credentials,
            &self.signing_key(now),
            now,
            &self.config().region,
        );
        (format!("{url}?{query}"), headers)
    }

    fn list_call(
        &self,
        claims: UploadClaims,
        plan: PartPlan,
        parts: Vec<ListedPart>,
        complete: bool,
        marker: Option<&str>,
        now: UnixTime,
    ) -> S3Call {
        let key = claims.key.clone();
        let mut query = vec![
            (
                "uploadId".into(),
                claims.upload_id.clone().unwrap_or_default(),
            ),
            ("max-parts".into(), "1000".into()),
        ];
        if let Some(marker) = marker {
            query.push(("part-number-marker".into(), marker.to_string()));
        }
        self.s3_call(
            Method::GET,
            &key,
            query,
            Vec::new(),
            Vec::new(),
            now,
            Pending::List {
                claims,
                plan,
                parts,
                complete,
            },
        )
    }

    fn complete_call(&self, claims: UploadClaims, body: Vec<u8>, now: UnixTime) -> S3Call {
        let key = claims.key.clone();
        let upload_id = claims.upload_id.clone().unwrap_or_default();
        let headers = vec![
            ("content-type".into(), "application/xml".into()),
            // S3 checks the object's size against the declared one, and writes no object over
            // an existing one (a second complete of the same key is refused).
            ("x-amz-mp-object-size".into(), claims.size.to_string()),
            ("if-none-match".into(), "*".into()),
        ];
        self.s3_call(
            Method::POST,
            &key,
            vec![("uploadId".into(), upload_id)],
            headers,
            body,
            now,
            Pending::Complete { claims },
        )
    }

    /// The `PUT` of one part: its URL (no credentials in it) and every header to send with it,
    /// signed (`Content-Length`, `Content-MD5` when given, the date, the session token and the
    /// `Authorization`). Signed in the headers rather than presigned in the URL: a browser's CORS
    /// preflight (`OPTIONS`) on a presigned URL carries its credentials but not its signed
    /// headers, and radosgw 16 (measured) checks that signature and refuses the preflight; a
    /// preflight on a URL without credentials is answered from the bucket's CORS rule by every
    /// store. The body is `UNSIGNED-PAYLOAD`: the length and MD5 are what pin it.
    fn sign_part(
        &self,
        claims: &UploadClaims,
        number: u32,
        headers: Vec<(String, String)>,
        now: UnixTime,
    ) -> (String, Vec<(String, String)>) {
        let query = vec![
            ("partNumber".into(), number.to_string()),
            (
                "uploadId".into(),
                claims.upload_id.clone().unwrap_or_default(),
            ),
        ];
        self.signed("PUT", &claims.key, query, headers, "UNSIGNED-PAYLOAD", now)
    }
}

fn completion_body(plan: &PartPlan, parts: &[ListedPart]) -> Result<Vec<u8>, Outgoing> {
    let incomplete = |why: String| error(ErrorCode::UploadIncomplete, why);
    let mut body = String::from("<CompleteMultipartUpload>");
    for number in 1..=plan.parts {
        let Some(part) = parts.iter().find(|p| p.number == number) else {
            return Err(incomplete(format!(
                "Part {number} of {} is not stored yet; nothing was completed.",
                plan.parts
            )));
        };
        let (_, length) = plan.part(number).unwrap_or_default();
        if part.size != length {
            return Err(incomplete(format!(
                "Part {number} holds {} bytes where the plan says {length}; nothing was completed.",
                part.size
            )));
        }
        body.push_str(&format!(
            "<Part><PartNumber>{number}</PartNumber><ETag>{}</ETag></Part>",
            xml_escape(&part.etag)
        ));
    }
    if let Some(extra) = parts.iter().find(|p| p.number > plan.parts) {
        return Err(incomplete(format!(
            "Part {} is outside the plan; nothing was completed.",
            extra.number
        )));
    }
    body.push_str("</CompleteMultipartUpload>");
    Ok(body.into_bytes())
}

fn element(doc: &roxmltree::Document, name: &str) -> Option<String> {
    doc.descendants()
        .find(|n| n.tag_name().name() == name)
        .map(|n| n.text().unwrap_or_default().to_string())
}

fn listed_parts(doc: &roxmltree::Document) -> Vec<ListedPart> {
    doc.descendants()
        .filter(|n| n.tag_name().name() == "Part")
        .filter_map(|part| {
            let child = |name: &str| {
                part.children()
                    .find(|c| c.tag_name().name() == name)
                    .and_then(|c| c.text())
                    .map(str::to_string)
            };
            Some(ListedPart {
                number: child("PartNumber")?.parse().ok()?,
                size: child("Size")?.parse().ok()?,
                etag: child("ETag")?,
            })
        })
        .collect()
}

/// S3 refused or failed: a 404 for an upload it no longer has, else the storage's failure (the
/// request was valid; the signer's credentials, role or the store are at fault).
fn storage_error(code: &str, status: u16, aborting: bool) -> Outgoing {
    // AWS says NoSuchUpload; radosgw (measured) NoSuchKey for the parts of an aborted upload.
    if code == "NoSuchUpload" || code == "NoSuchKey" {
        if aborting {
            // Aborting what is gone already is done.
            return no_content();
        }
        return error(
            ErrorCode::NoSuchUpload,
            "Storage no longer has this upload (completed, aborted or expired); start it again."
                .into(),
        );
    }
    if code == "PreconditionFailed" {
        return error(
            ErrorCode::ObjectExists,
            "An object already has this key (an earlier complete?); nothing was completed again."
                .into(),
        );
    }
    tracing::warn!(code, status, "storage refused a multipart request");
    error(
        ErrorCode::StorageFailed,
        format!("Storage answered {status} {code}; try again later."),
    )
}

fn no_content() -> Outgoing {
    let mut response = http::Response::new(String::new());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

fn is_base64_md5(text: &str) -> bool {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .is_ok_and(|bytes| bytes.len() == 16)
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
