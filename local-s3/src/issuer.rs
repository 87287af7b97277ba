//! A test OIDC issuer on loopback, standing in for Cognito (or any OIDC provider) in the
//! authenticated mode's tests and in `cargo xtask dev --auth`: OpenID discovery, a JWKS with one
//! fixed ES256 key, an authorization endpoint (a one-field "sign in as" form) and a token
//! endpoint for the authorization-code flow with PKCE (S256 only), as the page uses it; and
//! [`mint`] / `POST /mint` for tests that want a token without the form.
//!
//! The key below is a test key, published here on purpose: never trust this issuer anywhere else.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The issuer's signing key (P-256, PKCS#8): a test key, public on purpose.
pub const KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQge7tXldBmutLSx+bj
dPhVjJYsPnimW/+2WGYA619dSh+hRANCAAQEW4m3sdz6VcwHVEGAojXnfeB8F4qp
LNoshHpg52OKAn7LiIG5UWkOAT2kS/QXPXoBtx8u5QJmJpryn5qdlrez
-----END PRIVATE KEY-----
";
/// Its public point, as the JWKS publishes it.
const KEY_X: &str = "BFuJt7Hc-lXMB1RBgKI1533gfBeKqSzaLIR6YOdjigI";
const KEY_Y: &str = "fsuIgblRaQ4BPaRL9Bc9egG3Hy7lAmYmmvKfmp2Wt7M";
pub const KEY_ID: &str = "test-issuer-1";

/// Another P-256 key the issuer does not publish: a token signed with it is forged.
pub const FOREIGN_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgiB6OfGoPiRYrFyaC
xeuUtY7tg4k8Mo/mFOTmCtPVYHyhRANCAAQA0vWbWPGoXylhdfnPr567GaL2Js07
0Cfwms2EtDLk6KDvp3m2AO9SXWa/rqol6hdY7WpfKlcnSW9ElEIWPIK9
-----END PRIVATE KEY-----
";

/// The key the issuer rotates to ([`Issuer::rotate`]): published from then on beside the first,
/// with no `alg` (RFC 7517 makes it optional; some issuers leave it out). A test key too.
pub const NEXT_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgv/7q4NxFv1Zn5nMo
EVfCc/GnsGIUvX7c7lFyNz5wl46hRANCAATio+J6QUFT2Mxfekhy7O6zNLCO6NhN
00H6mwSDsB38N14diKffZf+WFMlEzvuY+zBfoCSPGey5UaDr6sgVbj0R
-----END PRIVATE KEY-----
";
const NEXT_KEY_X: &str = "4qPiekFBU9jMX3pIcuzuszSwjujYTdNB-psEg7Ad_Dc";
const NEXT_KEY_Y: &str = "Xh2Ip99l_5YUyUTO-5j7MF-gJI8Z7LlRoOvqyBVuPRE";
pub const NEXT_KEY_ID: &str = "test-issuer-2";

/// The issuer's JWKS document.
pub fn jwks() -> String {
    jwks_of(false)
}

/// The JWKS document, with the key rotated to or without it.
fn jwks_of(rotated: bool) -> String {
    let next = if rotated {
        format!(
            r#",{{"kty":"EC","crv":"P-256","x":"{NEXT_KEY_X}","y":"{NEXT_KEY_Y}","kid":"{NEXT_KEY_ID}","use":"sig"}}"#
        )
    } else {
        String::new()
    };
    format!(
        r#"{{"keys":[{{"kty":"EC","crv":"P-256","x":"{KEY_X}","y":"{KEY_Y}","kid":"{KEY_ID}","alg":"ES256","use":"sig"}}{next}]}}"#
    )
}

/// A signed ES256 token with these claims (any JSON object), by the issuer's key or another.
pub fn sign_claims(claims: &serde_json::Value, key_pem: &str) -> String {
    let kid = if key_pem == NEXT_KEY_PEM {
        NEXT_KEY_ID
    } else {
        KEY_ID
    };
    let key = EncodingKey::from_ec_pem(key_pem.as_bytes()).expect("the test key parses");
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &key).expect("ES256 signs")
}

/// A sign-in token as the issuer gives it: `sub`, `iss`, `aud`, `iat`, `exp`.
pub fn mint(issuer: &str, audience: &str, subject: &str, expires: u64) -> String {
    sign_claims(
        &serde_json::json!({
            "iss": issuer, "aud": audience, "sub": subject,
            "iat": expires.saturating_sub(3600), "exp": expires,
            "token_use": "id",
        }),
        KEY_PEM,
    )
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What the issuer needs: how long its tokens live (tests make them short).
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    pub token_seconds: u64,
}

/// A running issuer; dropping it stops it.
pub struct Issuer {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Issuer {
    /// Its URL, which is also the `iss` of its tokens: `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Publishes [`NEXT_KEY_PEM`]'s key beside the first, as an issuer does when it rotates.
    pub fn rotate(&self) {
        self.state.rotated.store(true, Ordering::SeqCst);
    }

    /// How many times its JWKS document was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }
}

impl Drop for Issuer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

struct State {
    url: String,
    config: IssuerConfig,
    /// Codes handed out by the form, until the token endpoint takes them (once).
    codes: Mutex<HashMap<String, Grant>>,
    rotated: AtomicBool,
    jwks_fetches: AtomicUsize,
}

struct Grant {
    subject: String,
    client_id: String,
    redirect_uri: String,
    challenge: String,
}

/// Binds `addr` (port 0: a free one) and serves until dropped.
pub async fn start(config: IssuerConfig, addr: SocketAddr) -> io::Result<Issuer> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let state = Arc::new(State {
        url: format!("http://{addr}"),
        config,
        codes: Mutex::new(HashMap::new()),
        rotated: AtomicBool::new(false),
        jwks_fetches: AtomicUsize::new(0),
    });
    let (shutdown, mut stop) = oneshot::channel();
    let kept = Arc::clone(&state);
    let task = tokio::spawn(async move {
        let http = ConnBuilder::new(TokioExecutor::new());
        loop {
            let socket = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((socket, _)) => socket,
                    Err(_) => continue,
                },
                _ = &mut stop => break,
            };
            let state = Arc::clone(&state);
            let service = service_fn(move |request| {
                let state = Arc::clone(&state);
                async move { Ok::<_, std::convert::Infallible>(answer(&state, request).await) }
            });
            let conn = http
                .serve_connection(TokioIo::new(socket), service)
                .into_owned();
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
    });
    Ok(Issuer {
        addr,
        state: kept,
        shutdown: Some(shutdown),
        task: Some(task),
    })
}

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        content_type.parse().expect("a content type"),
    );
    // The page fetches discovery and the token endpoint from another origin.
    headers.insert(
        http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
        http::HeaderValue::from_static("*"),
    );
    headers.insert(
        http::header::ACCESS_CONTROL_ALLOW_HEADERS,
        http::HeaderValue::from_static("content-type"),
    );
    headers.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    response
}

fn json(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    reply(status, "application/json", body)
}

fn oauth_error(error: &str) -> Response<Full<Bytes>> {
    json(
        StatusCode::BAD_REQUEST,
        serde_json::json!({ "error": error }).to_string(),
    )
}

fn form(text: &str) -> HashMap<String, String> {
    form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

async fn answer(state: &State, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let query = form(parts.uri.query().unwrap_or(""));
    let body = body
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_default();
    let url = &state.url;
    match (&parts.method, parts.uri.path()) {
        (&Method::OPTIONS, _) => reply(StatusCode::NO_CONTENT, "text/plain", String::new()),
        (&Method::GET, "/.well-known/openid-configuration") => json(
            StatusCode::OK,
            serde_json::json!({
                "issuer": url,
                "jwks_uri": format!("{url}/jwks.json"),
                "authorization_endpoint": format!("{url}/authorize"),
                "token_endpoint": format!("{url}/token"),
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["ES256"],
                "code_challenge_methods_supported": ["S256"],
            })
            .to_string(),
        ),
        (&Method::GET, "/jwks.json") => {
            state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
            json(
                StatusCode::OK,
                jwks_of(state.rotated.load(Ordering::SeqCst)),
            )
        }
        // The sign-in form: whoever types a name is that user.
        (&Method::GET, "/authorize") => {
            let missing = ["client_id", "redirect_uri", "state", "code_challenge"]
                .into_iter()
                .find(|name| query.get(*name).is_none_or(String::is_empty));
            if let Some(name) = missing {
                return reply(
                    StatusCode::BAD_REQUEST,
                    "text/plain",
                    format!("{name} is missing"),
                );
            }
            if query.get("response_type").map(String::as_str) != Some("code")
                || query.get("code_challenge_method").map(String::as_str) != Some("S256")
            {
                return reply(
                    StatusCode::BAD_REQUEST,
                    "text/plain",
                    "response_type=code with code_challenge_method=S256 only".into(),
                );
            }
            let hidden: String = ["client_id", "redirect_uri", "state", "code_challenge"]
                .iter()
                .map(|name| {
                    format!(
                        r#"<input type="hidden" name="{name}" value="{}">"#,
                        escape(&query[*name])
                    )
                })
                .collect();
            reply(
                StatusCode::OK,
                "text/html; charset=utf-8",
                format!(
                    r#"<!doctype html><html lang="en"><title>Test issuer</title><form method="post" action="/approve">{hidden}<label>Sign in as <input name="user" autofocus required></label> <button>Sign in</button></form></html>"#
                ),
            )
        }
        (&Method::POST, "/approve") => {
            let fields = form(&body);
            let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
            let mut code = [0u8; 16];
            let _ = getrandom::fill(&mut code);
            let code = URL_SAFE_NO_PAD.encode(code);
            let redirect_uri = field("redirect_uri");
            state
                .codes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(
                    code.clone(),
                    Grant {
                        subject: field("user"),
                        client_id: field("client_id"),
                        redirect_uri: redirect_uri.clone(),
                        challenge: field("code_challenge"),
                    },
                );
            let separator = if redirect_uri.contains('?') { '&' } else { '?' };
            let location = format!(
                "{redirect_uri}{separator}{}",
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("code", &code)
                    .append_pair("state", &field("state"))
                    .finish()
            );
            let mut response = reply(StatusCode::FOUND, "text/plain", String::new());
            response.headers_mut().insert(
                http::header::LOCATION,
                location
                    .parse()
                    .unwrap_or(http::HeaderValue::from_static("/")),
            );
            response
        }
        (&Method::POST, "/token") => {
            let fields = form(&body);
            let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
            if field("grant_type") != "authorization_code" {
                return oauth_error("unsupported_grant_type");
            }
            let grant = state
                .codes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&field("code"));
            let Some(grant) = grant else {
                return oauth_error("invalid_grant");
            };
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(field("code_verifier")));
            if challenge != grant.challenge
                || field("client_id") != grant.client_id
                || field("redirect_uri") != grant.redirect_uri
            {
                return oauth_error("invalid_grant");
            }
            let token = mint(
                url,
                &grant.client_id,
                &grant.subject,
                now() + state.config.token_seconds,
            );
            json(
                StatusCode::OK,
                serde_json::json!({
                    "id_token": token, "access_token": token, "token_type": "Bearer",
                    "expires_in": state.config.token_seconds,
                })
                .to_string(),
            )
        }
        // For tests: `{"sub": "...", "aud": "...", "seconds": 60}` -> a token.
        (&Method::POST, "/mint") => {
            let Ok(request) = serde_json::from_str::<serde_json::Value>(&body) else {
                return oauth_error("invalid_request");
            };
            let text = |name: &str| request[name].as_str().unwrap_or_default().to_string();
            let seconds = request["seconds"]
                .as_i64()
                .unwrap_or(state.config.token_seconds as i64);
            let expires = (now() as i64 + seconds).max(1) as u64;
            json(
                StatusCode::OK,
                serde_json::json!({ "token": mint(url, &text("aud"), &text("sub"), expires) })
                    .to_string(),
            )
        }
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found".into()),
    }
}
