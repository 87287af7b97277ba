//! The only module that talks to the signer (and reads `config.json`): `fetch`, JSON in and out:
//! `/rules`, `/sign` and the `/multipart/*` calls.

use shared::{ErrorCode, UploadRules};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

use super::json;
use crate::upload::queue::SignError;

/// Loads `config.json` relative to the page (so the page works under any base path); the signer's
/// base URL comes back without a trailing slash.
pub async fn load_config() -> Result<json::PageConfig, String> {
    let (status, text, _) = fetch("config.json", "GET", None, &[])
        .await
        .map_err(|e| format!("config.json: {e}"))?;
    if status != 200 {
        return Err(format!("config.json: HTTP {status}"));
    }
    let mut config =
        json::page_config(&text).ok_or("config.json: expected {\"signerUrl\": \"https://…\"}")?;
    // Its `embedOrigins`, the sites that may frame the page and hear what was uploaded.
    super::host::embed(&text);
    config.signer_url = config.signer_url.trim().trim_end_matches('/').to_string();
    if config.signer_url.is_empty() {
        return Err("config.json: signerUrl is empty".into());
    }
    Ok(config)
}

pub async fn fetch_rules(signer: &str) -> Result<UploadRules, String> {
    let (status, text, _) = fetch(&format!("{signer}/rules"), "GET", None, &[]).await?;
    if status != 200 {
        return Err(error_message(status, &text));
    }
    json::rules(&text).ok_or_else(|| "unexpected rules from the signer".to_string())
}

/// `POST signer + path` with a JSON body: the answer's text when it is a 2xx, else why not (a
/// refusal with its code, a failure, throttling, or no answer). One function for every call, not
/// one per answer type: each async function is a state machine of its own in the page's wasm
/// (seven of them cost 12 KB gzip).
/// The sign-in token, when there is one, goes along as `Authorization: Bearer`.
pub async fn post(signer: &str, path: &str, body: &str) -> Result<(u16, String), SignError> {
    let bearer = super::auth::bearer()
        .await
        .map(|token| format!("Bearer {token}"));
    let headers: &[(&str, &str)] = match &bearer {
        Some(bearer) => &[("authorization", bearer)],
        None => &[],
    };
    let (status, text, retry_after) =
        fetch(&format!("{signer}{path}"), "POST", Some(body), headers)
            .await
            .map_err(|message| SignError::Unreachable { message })?;
    match status {
        200..=299 => Ok((status, text)),
        // Throttled (API Gateway's rate limit): wait as long as it says, when it says.
        429 => Err(SignError::Throttled {
            retry_after_ms: retry_after
                .and_then(|s| s.trim().parse::<u32>().ok())
                .map(|seconds| seconds.saturating_mul(1000)),
        }),
        400..=499 => match json::error_body(&text) {
            Some((code, message)) => Err(SignError::Refused { code, message }),
            // API Gateway's JWT authorizer answers a missing, expired or foreign token itself
            // (`{"message":"Unauthorized"}`, not the signer's shape): any 401 means "sign in".
            None if status == 401 => Err(SignError::Refused {
                code: if bearer.is_some() {
                    ErrorCode::SessionExpired
                } else {
                    ErrorCode::SignInRequired
                },
                message: error_message(status, &text),
            }),
            None => Err(SignError::Failed {
                status,
                message: error_message(status, &text),
            }),
        },
        _ => Err(SignError::Failed {
            status,
            message: error_message(status, &text),
        }),
    }
}

fn error_message(status: u16, text: &str) -> String {
    match json::error_body(text) {
        Some((code, message)) => format!("{code}: {message}"),
        None => format!("HTTP {status}"),
    }
}

/// One request; the status, the body text and `Retry-After` (when the answer lets the page read
/// it), or why there is no answer. A body is JSON unless `headers` give another content type.
pub(super) async fn fetch(
    url: &str,
    method: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<(u16, String, Option<String>), String> {
    let window = web_sys::window().ok_or("no window")?;
    let init = RequestInit::new();
    init.set_method(method);
    init.set_cache(web_sys::RequestCache::NoStore);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    let request = Request::new_with_str_and_init(url, &init).map_err(describe)?;
    if body.is_some() {
        request
            .headers()
            .set("content-type", "application/json")
            .map_err(describe)?;
    }
    for (name, value) in headers {
        request.headers().set(name, value).map_err(describe)?;
    }
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(describe)?
        .dyn_into()
        .map_err(describe)?;
    let text = JsFuture::from(response.text().map_err(describe)?)
        .await
        .map_err(describe)?;
    let retry_after = response.headers().get("retry-after").ok().flatten();
    Ok((
        response.status(),
        text.as_string().unwrap_or_default(),
        retry_after,
    ))
}

fn describe(error: JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "network error".into())
}
