//! The signer's HTTP API as pure steps from a request (plus the time and a random id) to a
//! response: [`Signer::begin`] answers, or names the S3 call it needs ([`Step::Call`]), and
//! [`Signer::resume`] goes on with S3's answer. Both edges, Lambda (`lambda.rs`) and the local
//! server (`local.rs`), run those steps through [`Signer::answer`]; neither knows the routes, and this
//! module knows neither runtime. [`Signer::handle`] is the shortcut tests and benches use for the
//! routes that need no S3 call (it answers 502 to one that does).
//!
//! - `POST /sign`: a `SignRequest` in, a `SignResponse` out. With the `token` of an earlier answer,
//!   the same key is signed again (after checking the token and that type, size and MD5 match it).
//!   With `contentMd5`, the form and its policy pin the file's MD5 (issue #11).
//! - `GET /rules`: the public `UploadRules`.
//! - `POST /multipart/{create,sign-parts,list,complete,abort}`: multipart uploads (`multipart.rs`);
//!   those that need S3 return a `Step::Call` that the edge runs (`s3.rs`) and `resume`s.
//! - `OPTIONS` on both: the CORS preflight. Other methods 405, other paths 404.
//! - Every route also answers under `/api` (`/api/sign`), as CloudFront forwards it from the page's
//!   origin.
//!
//! Every error is an `ErrorBody` with a 4xx status; only a failure of the signer itself is a 5xx.

use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ALLOW, CACHE_CONTROL, HeaderValue, VARY,
    X_CONTENT_TYPE_OPTIONS,
};
use http::{Method, Response, StatusCode};
use shared::{
    BatchResult, ErrorBody, ErrorCode, MAX_BATCH_FILES, SignBatch, SignRequest, SignResponse,
    SignedBatch, UploadClaims,
};

use crate::answer::{MAX_BATCH_BODY_BYTES, MAX_BODY_BYTES, Outgoing};
use crate::answer::{error, json, read_body};
use crate::auth::{AuthError, Caller, user_space};
use crate::config::{MAX_POST_BYTES, TOKEN_TTL_SECONDS};
use crate::key::{UploadId, content_disposition, object_key};
use crate::multipart::MultipartRoute;
use crate::policy::{ContentMd5, UploadPolicy, sign_post_policy};
use crate::state::Signer;
use crate::step::{Pending, S3Answer, Step};
use crate::time::UnixTime;
use crate::token::TokenError;

/// What the edges pass as the origin of a request whose `Origin` header is not visible ASCII:
/// never an allowed origin, so such a request is refused, not taken as one without an origin.
pub const UNREADABLE_ORIGIN: &str = "\u{FFFD}";

/// The request's origin as the edges read it from its `Origin` header.
pub fn origin_header(value: Option<&http::HeaderValue>) -> Option<&str> {
    value.map(|value| value.to_str().unwrap_or(UNREADABLE_ORIGIN))
}

/// One HTTP request, as much of it as the API looks at.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    /// The `Origin` header, if the request has one.
    pub origin: Option<&'a str>,
    /// The body, or its first `MAX_BATCH_BODY_BYTES + 1` bytes.
    pub body: &'a [u8],
    /// Who the request says it comes from (its sign-in token, or the claims an authorizer
    /// verified); looked at only in the authenticated mode.
    pub caller: Caller<'a>,
    /// The `X-Origin-Secret` header, which the site's CloudFront adds on its way to the API
    /// (checked only when `ORIGIN_SECRET` is set).
    pub origin_secret: Option<&'a str>,
}

/// The header the site's CloudFront adds to every request it forwards to the signer's API.
pub const ORIGIN_SECRET_HEADER: &str = "x-origin-secret";

enum Route {
    Sign,
    SignBatch,
    Rules,
    Multipart(MultipartRoute),
}

impl Route {
    fn allow(&self) -> &'static str {
        match self {
            Route::Sign | Route::SignBatch | Route::Multipart(_) => "POST, OPTIONS",
            Route::Rules => "GET, HEAD, OPTIONS",
        }
    }
}

impl Signer {
    /// The key prefix this caller may write under: the configured prefix for everyone in the
    /// anonymous mode; `<prefix><subject>/` for a signed-in user; an error answer (401) when the
    /// signer takes only signed-in users and the caller is not one.
    // The refusal is the answer itself, built once per refused request.
    #[allow(clippy::result_large_err)]
    fn space(&self, caller: Caller, now: UnixTime) -> Result<String, Outgoing> {
        let prefix = &self.config().rules.prefix;
        let Some(auth) = &self.config().auth else {
            return Ok(prefix.clone());
        };
        let verified = match caller {
            Caller::Verified { subject, issuer } => {
                if subject.is_empty() || issuer.is_some_and(|iss| iss != auth.issuer) {
                    Err(AuthError::Invalid("authorizer claims for another issuer"))
                } else {
                    Ok(subject.to_string())
                }
            }
            Caller::Bearer(token) => match self.verifier() {
                Some(verifier) => verifier.verify(token, auth, now),
                // Under Lambda only API Gateway's authorizer lets a caller in.
                None => Err(AuthError::Invalid("no authorizer in front of the signer")),
            },
            Caller::Anonymous => Err(AuthError::Missing),
        };
        match verified {
            Ok(subject) => Ok(user_space(prefix, &subject)),
            Err(AuthError::Expired) => Err(unauthorized(
                ErrorCode::SessionExpired,
                "Your sign-in has expired; sign in again to go on uploading.",
            )),
            Err(AuthError::Missing) => Err(unauthorized(
                ErrorCode::SignInRequired,
                "This signer takes uploads only from signed-in users: send `Authorization: Bearer <token>`.",
            )),
            Err(AuthError::Invalid(why)) => {
                tracing::info!(why, "sign-in token refused");
                Err(unauthorized(
                    ErrorCode::SignInRequired,
                    "This sign-in token is not accepted here; sign in again.",
                ))
            }
        }
    }

    /// Answers one request, making the S3 calls it needs (`s3::run`): what both edges call.
    pub async fn answer(&self, request: &Incoming<'_>) -> Outgoing {
        crate::s3::run(self.s3(), self.begin_now(request), |pending, answer| {
            self.resume(pending, answer, UnixTime::now(), request.origin)
        })
        .await
    }

    /// The first step of a request, with the clock and the randomness read here: the edge of the
    /// pure core ([`Signer::answer`] runs the steps).
    pub fn begin_now(&self, request: &Incoming) -> Step {
        let mut id = [0u8; 16];
        if let Err(err) = getrandom::fill(&mut id) {
            tracing::error!(%err, "no randomness for an upload id");
            return Step::Done(error(
                ErrorCode::Internal,
                "The signer could not create an upload id.".into(),
            ));
        }
        self.begin(request, UnixTime::now(), UploadId(id))
    }

    /// Answers one request that needs no S3 call (every route but `/multipart/*` with a valid
    /// body); one that does is answered 502, so tests and benches of the pure routes use this.
    pub fn handle(&self, request: &Incoming, now: UnixTime, id: UploadId) -> Outgoing {
        match self.begin(request, now, id) {
            Step::Done(response) => response,
            Step::Call(_) => with_common_headers(
                error(
                    ErrorCode::StorageFailed,
                    "This entry point does not reach storage.".into(),
                ),
                request.origin,
            ),
        }
    }

    /// The next step once S3 answered; `origin` is the request's.
    pub fn resume(
        &self,
        pending: Pending,
        answer: S3Answer,
        now: UnixTime,
        origin: Option<&str>,
    ) -> Step {
        match self.multipart_resume(pending, answer, now) {
            Step::Done(response) => Step::Done(with_common_headers(response, origin)),
            call => call,
        }
    }

    /// The first step of one request. `now` signs; `id` makes a new key unique.
    pub fn begin(&self, request: &Incoming, now: UnixTime, id: UploadId) -> Step {
        // Behind CloudFront, only what came through it: the API's own execute-api address would
        // bypass the distribution's per-client limit and its cache.
        if let Some(secret) = &self.config().origin_secret
            && !request
                .origin_secret
                .is_some_and(|given| same_secret(given.as_bytes(), secret.as_bytes()))
        {
            tracing::info!(
                path = request.path,
                "request not through the site's address"
            );
            return Step::Done(with_common_headers(
                error(
                    ErrorCode::OriginNotAllowed,
                    "This API answers through the site's own address only.".into(),
                ),
                None,
            ));
        }
        let origin = request.origin;
        if let Some(origin) = origin
            && !self.config().allowed_origins.allows(origin)
        {
            tracing::info!(origin, path = request.path, "origin refused");
            let message = if origin.is_ascii() {
                format!("This signer does not accept requests from pages at {origin}.")
            } else {
                "The Origin header is not an ASCII URL origin.".to_string()
            };
            return Step::Done(with_common_headers(
                error(ErrorCode::OriginNotAllowed, message),
                None,
            ));
        }
        let route = route(request.path);
        let space = match (&route, request.method) {
            (Some(Route::Sign | Route::SignBatch | Route::Multipart(_)), &Method::POST) => {
                match self.space(request.caller, now) {
                    Ok(space) => space,
                    Err(refusal) => return Step::Done(with_common_headers(refusal, origin)),
                }
            }
            _ => String::new(),
        };
        let response = match (route, request.method) {
            (Some(Route::Multipart(route)), &Method::POST) => {
                match self.multipart(route, request.body, now, id, &space) {
                    Step::Done(response) => response,
                    call => return call,
                }
            }
            (None, _) => error(
                ErrorCode::NotFound,
                format!("There is nothing at {}.", request.path),
            ),
            (Some(_), &Method::OPTIONS) => preflight(),
            (Some(Route::Sign), &Method::POST) => self.sign(request.body, now, id, &space),
            (Some(Route::SignBatch), &Method::POST) => {
                self.sign_batch(request.body, now, id, &space)
            }
            (Some(Route::Rules), &Method::GET) => self.rules(false),
            (Some(Route::Rules), &Method::HEAD) => self.rules(true),
            (Some(route), method) => {
                let mut response = error(
                    ErrorCode::MethodNotAllowed,
                    format!(
                        "{method} is not allowed on {}; use {}.",
                        request.path,
                        route.allow()
                    ),
                );
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static(route.allow()));
                response
            }
        };
        Step::Done(with_common_headers(response, origin))
    }

    /// `POST /sign`. `space`: the key prefix the caller may write under ([`Signer::space`]).
    fn sign(&self, body: &[u8], now: UnixTime, id: UploadId, space: &str) -> Outgoing {
        let request: SignRequest = match read_body(
            body,
            MAX_BODY_BYTES,
            &format!("A sign request is at most {MAX_BODY_BYTES} bytes."),
            |err| {
                format!(
                    "Send a JSON object like {{\"filename\":\"cat.png\",\"contentType\":\"image/png\",\"size\":12345}} ({err})."
                )
            },
        ) {
            Ok(request) => request,
            Err(refusal) => return refusal,
        };
        match self.sign_one(&request, now, id, space) {
            Ok(response) => json(
                StatusCode::OK,
                serde_json::to_string(&response).unwrap_or_default(),
            ),
            Err(refusal) => error(refusal.error.code, refusal.error.message),
        }
    }

    /// `POST /sign/batch`: each file signed as `/sign` would, each with its own key (made from
    /// `id` and its place in the batch).
    fn sign_batch(&self, body: &[u8], now: UnixTime, id: UploadId, space: &str) -> Outgoing {
        let batch: SignBatch = match read_body(
            body,
            MAX_BATCH_BODY_BYTES,
            &format!("A batch sign request is at most {MAX_BATCH_BODY_BYTES} bytes."),
            |err| {
                format!(
                    "Send a JSON object like {{\"files\":[{{\"filename\":\"cat.png\",\"contentType\":\"image/png\",\"size\":12345}}]}} ({err})."
                )
            },
        ) {
            Ok(batch) => batch,
            Err(refusal) => return refusal,
        };
        if batch.files.is_empty() {
            return error(
                ErrorCode::MalformedRequest,
                "A batch names at least one file.".into(),
            );
        }
        if batch.files.len() > MAX_BATCH_FILES {
            return error(
                ErrorCode::RequestTooLarge,
                format!("A batch signs at most {MAX_BATCH_FILES} files."),
            );
        }
        if self.token_secret().is_none() {
            return error(
                ErrorCode::Internal,
                "The signer has no secret to sign upload tokens with.".into(),
            );
        }
        let results = batch
            .files
            .iter()
            .enumerate()
            .map(
                |(n, request)| match self.sign_one(request, now, id.nth(n as u32), space) {
                    Ok(response) => BatchResult::Signed(response),
                    Err(refusal) => BatchResult::Refused(refusal),
                },
            )
            .collect();
        json(
            StatusCode::OK,
            serde_json::to_string(&SignedBatch { results }).unwrap_or_default(),
        )
    }

    /// One file's form, or why it gets none (what `/sign` answers for it).
    fn sign_one(
        &self,
        request: &SignRequest,
        now: UnixTime,
        id: UploadId,
        space: &str,
    ) -> Result<SignResponse, ErrorBody> {
        let error = |code: ErrorCode, message: String| Err(ErrorBody::new(code, message));
        let content_md5 = match request.content_md5.as_deref().map(ContentMd5::parse) {
            None => None,
            Some(Some(md5)) => Some(md5),
            Some(None) => {
                return error(
                    ErrorCode::MalformedRequest,
                    "contentMd5 must be the file's MD5 as Content-MD5 carries it: its 16 bytes in standard base64, 24 characters (like \"1B2M2Y8AsgTpgAmY7PhCfg==\"); leave it out to sign without one.".into(),
                );
            }
        };
        if content_md5.is_none() && self.config().rules.require_md5 {
            return error(
                ErrorCode::Md5Required,
                "This signer signs a form only with the file's MD5: send contentMd5 (its 16 bytes in standard base64), so the form and its upload token pin these bytes.".into(),
            );
        }
        if request.size > MAX_POST_BYTES {
            return error(
                ErrorCode::FileTooLarge,
                "A single POST takes at most 5.0 GiB; larger files go up as multipart uploads (POST /multipart/create).".into(),
            );
        }
        let content_type = match self.config().rules.check(request) {
            Ok(content_type) => content_type,
            Err(refusal) => {
                tracing::info!(code = %refusal.code, size = request.size, "sign request refused");
                return error(refusal.code, refusal.message);
            }
        };
        let Some(secret) = self.token_secret() else {
            return error(
                ErrorCode::Internal,
                "The signer has no secret to sign upload tokens with.".into(),
            );
        };
        let (key, token) = match &request.token {
            // A retry of a file the signer already chose a key for: the same key again.
            Some(token) => match self.verify_token(token, now, space) {
                // The MD5 too: a token for pinned bytes never signs a form without them or for
                // others, and one without an MD5 signs only forms without one, as before.
                Ok(claims)
                    if !claims.is_multipart()
                        && claims.size == request.size
                        && claims.content_type == content_type
                        && claims.content_md5.as_deref()
                            == content_md5.as_ref().map(ContentMd5::as_str) =>
                {
                    (claims.key, token.clone())
                }
                Ok(_) => {
                    tracing::info!(size = request.size, "token for another file refused");
                    return error(
                        ErrorCode::InvalidToken,
                        "This upload token is for another file (type, size, MD5 or kind of upload); send the request without it for a new key.".into(),
                    );
                }
                Err(TokenError::Invalid) => {
                    tracing::info!("invalid upload token refused");
                    return error(
                        ErrorCode::InvalidToken,
                        "This upload token was not issued by this signer or was changed.".into(),
                    );
                }
                Err(TokenError::OtherUser) => {
                    return error(
                        ErrorCode::InvalidToken,
                        "This upload token was issued to another user.".into(),
                    );
                }
                Err(TokenError::Expired) => {
                    return error(
                        ErrorCode::TokenExpired,
                        "This upload token has expired; send the request without it for a new key."
                            .into(),
                    );
                }
            },
            None => {
                let key = object_key(space, id, &request.filename);
                let claims = UploadClaims {
                    content_md5: content_md5.as_ref().map(|md5| md5.as_str().to_string()),
                    ..UploadClaims::single(
                        key.clone(),
                        content_type.clone(),
                        request.size,
                        now.plus_seconds(TOKEN_TTL_SECONDS).0,
                    )
                };
                (key, secret.issue(&claims))
            }
        };
        let expires = now.plus_seconds(self.config().policy_ttl_seconds);
        let disposition = content_disposition(&key);
        let policy = UploadPolicy {
            bucket: &self.config().bucket,
            region: &self.config().region,
            key: &key,
            content_type: &content_type,
            content_disposition: &disposition,
            size: request.size,
            content_md5: content_md5.as_ref(),
            uploader: self.uploader(space),
            expires,
        };
        let fields = sign_post_policy(
            &policy,
            &self.config().credentials,
            &self.signing_key(now),
            now,
        );
        // Users' folder and file names stay out of logs at info level: its id says which upload.
        let upload = self.upload_id(&key);
        tracing::info!(
            upload,
            size = request.size,
            content_type,
            retry = request.token.is_some(),
            md5 = content_md5.is_some(),
            "signed"
        );
        tracing::debug!(key, "signed key");
        let response = SignResponse {
            method: "POST".into(),
            url: self.config().upload_url.clone(),
            key,
            fields,
            expires_at: expires.rfc3339(),
            token,
        };
        Ok(response)
    }

    fn rules(&self, head: bool) -> Outgoing {
        let body = if head {
            String::new()
        } else {
            self.rules_json().to_string()
        };
        let mut response = json(StatusCode::OK, body);
        response.headers_mut().insert(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60"),
        );
        response
    }
}

/// Equal, in a time that does not depend on where they differ.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// The route of a path, with or without an `/api` in front (CloudFront forwards `/api/*` of the
/// page's own origin to the signer unchanged).
fn route(path: &str) -> Option<Route> {
    let path = path
        .strip_prefix("/api")
        .filter(|rest| rest.starts_with('/'))
        .unwrap_or(path);
    match path {
        "/sign" => Some(Route::Sign),
        "/sign/batch" => Some(Route::SignBatch),
        "/rules" => Some(Route::Rules),
        _ => MultipartRoute::from_path(path).map(Route::Multipart),
    }
}

/// A 401 with the challenge RFC 6750 asks for.
fn unauthorized(code: ErrorCode, message: &str) -> Outgoing {
    let mut response = error(code, message.into());
    response.headers_mut().insert(
        http::header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer"),
    );
    response
}

fn preflight() -> Outgoing {
    let mut response = Response::new(String::new());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    headers.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, authorization"),
    );
    headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    response
}

/// Headers every answer carries. `Access-Control-Allow-Origin` goes only to an allowed origin, and
/// `Vary: Origin` everywhere, so no cache hands one origin's answer to another.
fn with_common_headers(mut response: Outgoing, allowed_origin: Option<&str>) -> Outgoing {
    let headers = response.headers_mut();
    headers.insert(VARY, HeaderValue::from_static("Origin"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(origin) = allowed_origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        // A throttled answer's wait, readable by the page (a proxy in front may add one).
        headers.insert(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Retry-After"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn a_non_ascii_origin_is_refused_not_ignored() {
        let config = Config::from_pairs(&[
            ("UPLOAD_BUCKET", "b-1"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "SECRET"),
            ("ALLOWED_ORIGINS", "*"),
        ])
        .unwrap();
        let signer = Signer::new(config);
        let header = http::HeaderValue::from_bytes("https://bücher.example".as_bytes()).unwrap();
        let origin = origin_header(Some(&header));
        assert_eq!(origin, Some(UNREADABLE_ORIGIN));
        let body = br#"{"filename":"a.txt","contentType":"text/plain","size":1}"#;
        let request = |origin| Incoming {
            method: &Method::POST,
            path: "/sign",
            origin,
            body,
            caller: crate::auth::Caller::Anonymous,
            origin_secret: None,
        };
        let refused = signer.handle(&request(origin), UnixTime(1_800_000_000), UploadId([1; 16]));
        assert_eq!(refused.status(), 403);
        assert!(
            refused.body().contains("OriginNotAllowed"),
            "{}",
            refused.body()
        );
        assert!(refused.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        // Without an Origin header at all (curl), the request is served as before.
        let served = signer.handle(&request(None), UnixTime(1_800_000_000), UploadId([1; 16]));
        assert_eq!(served.status(), 200, "{}", served.body());
    }

    #[test]
    fn with_an_origin_secret_only_requests_that_carry_it_are_answered() {
        let base = [
            ("UPLOAD_BUCKET", "b-1"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "SECRET"),
        ];
        let secret = "5f0c1c3e-8a2b-4c4d-9e7f-0123456789ab";
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = base.to_vec();
            pairs.extend_from_slice(extra);
            Config::from_pairs(&pairs)
        };
        let signer = Signer::new(with(&[("ORIGIN_SECRET", secret)]).unwrap());
        let body = br#"{"filename":"a.txt","contentType":"text/plain","size":1}"#;
        let request = |method, path, origin_secret| Incoming {
            method,
            path,
            origin: None,
            body,
            caller: crate::auth::Caller::Anonymous,
            origin_secret,
        };
        let now = UnixTime(1_800_000_000);
        for (method, path) in [
            (&Method::POST, "/sign"),
            (&Method::GET, "/rules"),
            (&Method::OPTIONS, "/sign"),
            (&Method::POST, "/multipart/create"),
            (&Method::GET, "/nowhere"),
        ] {
            let wrong = "5f0c1c3e-8a2b-4c4d-9e7f-0123456789ac";
            for given in [None, Some(""), Some(wrong), Some(&secret[..35])] {
                let refused = signer.handle(&request(method, path, given), now, UploadId([1; 16]));
                assert_eq!(refused.status(), 403, "{method} {path} {given:?}");
                assert!(refused.body().contains("OriginNotAllowed"));
                assert!(refused.body().contains("site's own address"));
            }
        }
        let served = signer.handle(
            &request(&Method::POST, "/sign", Some(secret)),
            now,
            UploadId([1; 16]),
        );
        assert_eq!(served.status(), 200, "{}", served.body());
        let rules = signer.handle(
            &request(&Method::GET, "/rules", Some(secret)),
            now,
            UploadId([1; 16]),
        );
        assert_eq!(rules.status(), 200);
        // Unset (the default): no check at all.
        let open = Signer::new(with(&[]).unwrap());
        let served = open.handle(
            &request(&Method::POST, "/sign", None),
            now,
            UploadId([1; 16]),
        );
        assert_eq!(served.status(), 200, "{}", served.body());
        // A secret too short to be one, or one a header cannot carry, stops the start.
        for bad in [
            "short",
            "has a space in it, too long",
            "tab\there-and-long-enough",
        ] {
            let error = with(&[("ORIGIN_SECRET", bad)]).unwrap_err().to_string();
            assert!(error.contains("ORIGIN_SECRET"), "{error}");
        }
    }

    #[test]
    fn routes_answer_with_or_without_api_in_front() {
        for (path, some) in [
            ("/sign", true),
            ("/api/sign", true),
            ("/api/rules", true),
            ("/api/multipart/create", true),
            ("/apisign", false),
            ("/api", false),
            ("/api/api/sign", false),
            ("/v1/sign", false),
        ] {
            assert_eq!(route(path).is_some(), some, "{path}");
        }
    }
}
