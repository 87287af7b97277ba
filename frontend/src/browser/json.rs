//! The wire types read from and written to JSON with the browser's own `JSON`, not serde_json:
//! the page would otherwise carry a JSON parser of its own (the size budget counts every KB).
//! Field names are the contract in `shared::wire`; its tests pin them.

use js_sys::{Array, JSON, Object, Reflect};
use shared::{ContentTypePattern, ErrorCode, FormFields, SignRequest, SignResponse, UploadRules};
use wasm_bindgen::JsValue;

fn parse(text: &str) -> Option<JsValue> {
    JSON::parse(text).ok().filter(JsValue::is_object)
}

fn field(object: &JsValue, name: &str) -> Option<JsValue> {
    Reflect::get(object, &JsValue::from_str(name)).ok()
}

fn string(object: &JsValue, name: &str) -> Option<String> {
    field(object, name)?.as_string()
}

/// A whole number of bytes (JSON numbers are doubles; anything else is refused).
fn whole(object: &JsValue, name: &str) -> Option<u64> {
    let n = field(object, name)?.as_f64()?;
    (n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_992.0).then_some(n as u64)
}

/// `config.json`: `{"signerUrl": "…", "concurrency": 4}` (concurrency optional).
pub struct PageConfig {
    pub signer_url: String,
    pub concurrency: Option<usize>,
}

pub fn page_config(text: &str) -> Option<PageConfig> {
    let value = parse(text)?;
    Some(PageConfig {
        signer_url: string(&value, "signerUrl")?,
        concurrency: whole(&value, "concurrency").map(|n| n.clamp(1, 16) as usize),
    })
}

pub fn sign_response(text: &str) -> Option<SignResponse> {
    let value = parse(text)?;
    let fields_object = field(&value, "fields").filter(JsValue::is_object)?;
    // `Object.entries` keeps insertion order for non-numeric keys: the signer's field order.
    let mut fields = Vec::new();
    for entry in Object::entries(&Object::from(fields_object)).iter() {
        let pair = Array::from(&entry);
        fields.push((pair.get(0).as_string()?, pair.get(1).as_string()?));
    }
    Some(SignResponse {
        method: string(&value, "method")?,
        url: string(&value, "url")?,
        key: string(&value, "key")?,
        fields: FormFields(fields),
        expires_at: string(&value, "expiresAt").unwrap_or_default(),
        token: string(&value, "token").unwrap_or_default(),
    })
}

pub fn rules(text: &str) -> Option<UploadRules> {
    let value = parse(text)?;
    let types = field(&value, "allowedContentTypes").filter(Array::is_array)?;
    let allowed_content_types = Array::from(&types)
        .iter()
        .map(|t| ContentTypePattern::parse(&t.as_string()?).ok())
        .collect::<Option<Vec<_>>>()?;
    Some(UploadRules {
        max_bytes: whole(&value, "maxBytes")?,
        allow_empty: field(&value, "allowEmpty")?.as_bool()?,
        allowed_content_types,
        prefix: string(&value, "prefix")?,
        multipart_threshold_bytes: whole(&value, "multipartThresholdBytes").unwrap_or(u64::MAX),
    })
}

/// `{"error":{"code","message"}}`, with a known code.
pub fn error_body(text: &str) -> Option<(ErrorCode, String)> {
    let error = field(&parse(text)?, "error").filter(JsValue::is_object)?;
    let code = ErrorCode::parse(&string(&error, "code")?)?;
    Some((code, string(&error, "message").unwrap_or_default()))
}

pub fn sign_request(request: &SignRequest) -> String {
    let object = Object::new();
    let set = |name: &str, value: JsValue| {
        let _ = Reflect::set(&object, &JsValue::from_str(name), &value);
    };
    set("filename", JsValue::from_str(&request.filename));
    set("contentType", JsValue::from_str(&request.content_type));
    set("size", JsValue::from_f64(request.size as f64));
    if let Some(token) = &request.token {
        set("token", JsValue::from_str(token));
    }
    JSON::stringify(&object)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}
