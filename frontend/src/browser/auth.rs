//! Sign-in, the page's side of the signer's authenticated mode. The work is in
//! `frontend/sign-in.js` (`window.uploaderSignIn`), plain JavaScript because it is nothing but
//! browser API calls: written in Rust it cost 8.7 KB gzip of wasm, as a script about 1.5 KB.
//!
//! - The embedding site may hand the page its users' tokens: `window.uploaderAuthToken = () =>
//!   token` (a string, or a promise of one), asked before every call to the signer.
//! - Else the page signs users in with the provider the signer's `/rules` (or `config.json`)
//!   names: OpenID discovery, then the authorization-code flow with PKCE (S256), the provider's
//!   login in a popup (in this tab when popups are blocked). The page at the redirect URI (the
//!   script, as it loads) exchanges the code for an ID token and keeps it in `localStorage`; the
//!   popup closes, the page that opened it hears the `storage` event, and a reload keeps the
//!   session until the token expires. The script fires `uploader-signin` on the window when a
//!   sign-in in this tab ends or fails.
//!
//! The script is loaded before the page's wasm; without it every call here fails softly (no
//! token, no session).

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::json;

/// Where `sign-in.js` keeps the session (the page hears other windows change it).
pub const SESSION_KEY: &str = "uploader.signIn";
/// The window event `sign-in.js` fires when a sign-in in this tab finished or failed.
pub const EVENT: &str = "uploader-signin";

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = uploaderSignIn, js_name = token)]
    fn js_token() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_namespace = uploaderSignIn, js_name = session)]
    fn js_session() -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_namespace = uploaderSignIn, js_name = hasHook)]
    fn js_has_hook() -> Result<bool, JsValue>;
    #[wasm_bindgen(catch, js_namespace = uploaderSignIn, js_name = signOut)]
    fn js_sign_out() -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = uploaderSignIn, js_name = signIn)]
    fn js_sign_in(issuer: &str, client_id: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = uploaderSignIn, js_name = error)]
    fn js_error() -> Result<JsValue, JsValue>;
}

/// A signed-in user, as the page shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub name: String,
    /// `exp` of the token, in seconds since 1970 (0: not stated).
    pub expires: u64,
}

/// The token to send to the signer, if any: the embedding site's, else the session's.
pub async fn bearer() -> Option<String> {
    let mut value = js_token().ok()?;
    if let Some(promise) = value.dyn_ref::<Promise>() {
        value = JsFuture::from(promise.clone()).await.ok()?;
    }
    value.as_string().filter(|t| !t.is_empty())
}

/// Whether the embedding site provides tokens itself (then the page shows no sign-in of its own).
pub fn has_hook() -> bool {
    js_has_hook().unwrap_or(false)
}

/// The stored session, expired or not (the page tells an ended session from none).
pub fn session() -> Option<Session> {
    let value = js_session().ok().filter(JsValue::is_object)?;
    json::string(&value, "token")?;
    Some(Session {
        name: json::string(&value, "name").unwrap_or_default(),
        expires: json::whole(&value, "expires").unwrap_or(0),
    })
}

/// Why the last sign-in in this tab failed, if it did.
pub fn error() -> Option<String> {
    js_error().ok()?.as_string()
}

pub fn sign_out() {
    let _ = js_sign_out();
}

/// Opens the provider's login (a popup, or this tab when popups are blocked); a failure comes
/// back as the `uploader-signin` event with [`error`] set.
pub fn sign_in(issuer: &str, client_id: &str) {
    let _ = js_sign_in(issuer, client_id);
}
