//! The only module that talks to the signer (and reads `config.json`): `fetch`, JSON in and out.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use shared::{ErrorBody, SignRequest, SignResponse, UploadRules};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

use crate::upload::queue::SignError;

/// `config.json`, beside `index.html`: where the signer is.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageConfig {
    signer_url: String,
}

/// Loads `config.json` relative to the page (so the page works under any base path) and returns the
/// signer's base URL without a trailing slash.
pub async fn load_config() -> Result<String, String> {
    let (status, text) = fetch("config.json", "GET", None)
        .await
        .map_err(|e| format!("config.json: {e}"))?;
    if status != 200 {
        return Err(format!("config.json: HTTP {status}"));
    }
    let config: PageConfig =
        serde_json::from_str(&text).map_err(|e| format!("config.json: {e}"))?;
    let url = config.signer_url.trim().trim_end_matches('/').to_string();
    if url.is_empty() {
        return Err("config.json: signerUrl is empty".into());
    }
    Ok(url)
}

pub async fn fetch_rules(signer: &str) -> Result<UploadRules, String> {
    let (status, text) = fetch(&format!("{signer}/rules"), "GET", None).await?;
    if status != 200 {
        return Err(error_message(status, &text));
    }
    parse(&text)
}

pub async fn sign(signer: &str, request: &SignRequest) -> Result<SignResponse, SignError> {
    let body = serde_json::to_string(request).map_err(|e| SignError::Unreachable {
        message: e.to_string(),
    })?;
    let (status, text) = fetch(&format!("{signer}/sign"), "POST", Some(&body))
        .await
        .map_err(|message| SignError::Unreachable { message })?;
    match status {
        200 => parse(&text).map_err(|message| SignError::Failed { status, message }),
        400..=499 => match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => Err(SignError::Refused {
                code: body.error.code,
                message: body.error.message,
            }),
            Err(_) => Err(SignError::Failed {
                status,
                message: text,
            }),
        },
        _ => Err(SignError::Failed {
            status,
            message: error_message(status, &text),
        }),
    }
}

fn parse<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("unexpected answer from the signer: {e}"))
}

fn error_message(status: u16, text: &str) -> String {
    match serde_json::from_str::<ErrorBody>(text) {
        Ok(body) => format!("{}: {}", body.error.code, body.error.message),
        Err(_) => format!("HTTP {status}"),
    }
}

/// One request; the status and the body text, or why there is no answer.
async fn fetch(url: &str, method: &str, body: Option<&str>) -> Result<(u16, String), String> {
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
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(describe)?
        .dyn_into()
        .map_err(describe)?;
    let text = JsFuture::from(response.text().map_err(describe)?)
        .await
        .map_err(describe)?;
    Ok((response.status(), text.as_string().unwrap_or_default()))
}

fn describe(error: JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "network error".into())
}
