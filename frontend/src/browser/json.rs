//! The wire types read from and written to JSON with the browser's own `JSON`, not serde_json:
//! the page would otherwise carry a JSON parser of its own (the size budget counts every KB).
//! Field names are the contract in `shared::wire`; its tests pin them.

use js_sys::{Array, JSON, Object, Reflect};
use shared::{
    CompletedUpload, ContentTypePattern, ErrorCode, FormFields, ListedPart, ListedParts,
    MultipartUpload, SignParts, SignRequest, SignResponse, SignedPart, SignedParts, UploadRules,
};
use wasm_bindgen::JsValue;

fn parse(text: &str) -> Option<JsValue> {
    JSON::parse(text).ok().filter(JsValue::is_object)
}

fn field(object: &JsValue, name: &str) -> Option<JsValue> {
    Reflect::get(object, &JsValue::from_str(name)).ok()
}

pub(super) fn string(object: &JsValue, name: &str) -> Option<String> {
    field(object, name)?.as_string()
}

/// A whole number of bytes (JSON numbers are doubles; anything else is refused).
pub(super) fn whole(object: &JsValue, name: &str) -> Option<u64> {
    let n = field(object, name)?.as_f64()?;
    (n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_992.0).then_some(n as u64)
}

/// `config.json`: `{"signerUrl": "…", "concurrency": 4, "partConcurrency": 4, "checksums": true,
/// "auth": {"issuer": "…", "clientId": "…"}}` (all but `signerUrl` optional; `embedOrigins` is
/// `host.js`'s to read).
pub struct PageConfig {
    pub signer_url: String,
    pub concurrency: Option<usize>,
    /// Parts in flight per multipart file.
    pub part_concurrency: Option<usize>,
    /// Whether each part's MD5 is computed and signed (on unless `false`).
    pub checksums: Option<bool>,
    /// `auth: {"issuer": "…", "clientId": "…"}`: the page signs users in with this OIDC provider
    /// (the signer's authenticated mode).
    pub auth: Option<(String, String)>,
}

pub fn page_config(text: &str) -> Option<PageConfig> {
    let value = parse(text)?;
    Some(PageConfig {
        signer_url: string(&value, "signerUrl")?,
        concurrency: whole(&value, "concurrency").map(|n| n.clamp(1, 16) as usize),
        part_concurrency: whole(&value, "partConcurrency").map(|n| n.clamp(1, 16) as usize),
        checksums: field(&value, "checksums").and_then(|v| v.as_bool()),
        auth: field(&value, "auth")
            .filter(JsValue::is_object)
            .and_then(|auth| Some((string(&auth, "issuer")?, string(&auth, "clientId")?))),
    })
}

/// A JSON object of strings, in its order (`Object.entries` keeps insertion order for
/// non-numeric keys: the signer's field order).
fn fields(object: &JsValue, name: &str) -> Option<FormFields> {
    let object = field(object, name).filter(JsValue::is_object)?;
    let mut fields = Vec::new();
    for entry in Object::entries(&Object::from(object)).iter() {
        let pair = Array::from(&entry);
        fields.push((pair.get(0).as_string()?, pair.get(1).as_string()?));
    }
    Some(FormFields(fields))
}

/// Each element of the array `name` read by `read` (all or nothing).
fn list<T>(object: &JsValue, name: &str, read: impl Fn(&JsValue) -> Option<T>) -> Option<Vec<T>> {
    let array = field(object, name).filter(Array::is_array)?;
    Array::from(&array).iter().map(|v| read(&v)).collect()
}

fn number(object: &JsValue, name: &str) -> Option<u32> {
    u32::try_from(whole(object, name)?).ok()
}

pub fn multipart_upload(text: &str) -> Option<MultipartUpload> {
    let value = parse(text)?;
    Some(MultipartUpload {
        key: string(&value, "key")?,
        upload_id: string(&value, "uploadId")?,
        part_size: whole(&value, "partSize")?,
        parts: number(&value, "parts")?,
        token: string(&value, "token")?,
        expires_at: string(&value, "expiresAt")?,
    })
}

pub fn signed_parts(text: &str) -> Option<SignedParts> {
    let value = parse(text)?;
    Some(SignedParts {
        parts: list(&value, "parts", |part| {
            Some(SignedPart {
                number: number(part, "number")?,
                url: string(part, "url")?,
                headers: fields(part, "headers")?,
            })
        })?,
        expires_at: string(&value, "expiresAt")?,
    })
}

pub fn listed_parts(text: &str) -> Option<ListedParts> {
    let value = parse(text)?;
    Some(ListedParts {
        parts: list(&value, "parts", |part| {
            Some(ListedPart {
                number: number(part, "number")?,
                size: whole(part, "size")?,
                etag: string(part, "etag")?,
            })
        })?,
    })
}

pub fn completed_upload(text: &str) -> Option<CompletedUpload> {
    let value = parse(text)?;
    Some(CompletedUpload {
        key: string(&value, "key")?,
        etag: string(&value, "etag").unwrap_or_default(),
    })
}

/// `{"token": "…"}`: the body of `list`, `complete` and `abort`.
pub fn token_body(token: &str) -> String {
    let object = Object::new();
    let _ = Reflect::set(&object, &"token".into(), &token.into());
    stringify(&object)
}

pub fn sign_parts(request: &SignParts) -> String {
    let parts = Array::new();
    for part in &request.parts {
        let object = Object::new();
        let _ = Reflect::set(&object, &"number".into(), &part.number.into());
        if let Some(md5) = &part.md5 {
            let _ = Reflect::set(&object, &"md5".into(), &md5.into());
        }
        parts.push(&object);
    }
    let object = Object::new();
    let _ = Reflect::set(&object, &"token".into(), &request.token.as_str().into());
    let _ = Reflect::set(&object, &"parts".into(), &parts);
    stringify(&object)
}

fn stringify(value: &JsValue) -> String {
    JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

pub fn sign_response(text: &str) -> Option<SignResponse> {
    sign_response_of(&parse(text)?)
}

fn sign_response_of(value: &JsValue) -> Option<SignResponse> {
    Some(SignResponse {
        method: string(value, "method")?,
        url: string(value, "url")?,
        key: string(value, "key")?,
        fields: fields(value, "fields")?,
        expires_at: string(value, "expiresAt").unwrap_or_default(),
        token: string(value, "token").unwrap_or_default(),
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
        sign_in: field(&value, "signIn")
            .filter(JsValue::is_object)
            .and_then(|s| {
                Some(shared::SignIn {
                    issuer: string(&s, "issuer")?,
                    client_id: string(&s, "clientId")?,
                })
            }),
        require_md5: field(&value, "requireMd5").and_then(|v| v.as_bool()) == Some(true),
    })
}

/// `{"error":{"code","message"}}`, with a known code.
pub fn error_body(text: &str) -> Option<(ErrorCode, String)> {
    error_body_of(&parse(text)?)
}

fn error_body_of(value: &JsValue) -> Option<(ErrorCode, String)> {
    let error = field(value, "error").filter(JsValue::is_object)?;
    let code = ErrorCode::parse(&string(&error, "code")?)?;
    Some((code, string(&error, "message").unwrap_or_default()))
}

pub fn sign_request(request: &SignRequest) -> String {
    stringify(&sign_request_object(request))
}

/// `POST /sign/batch`'s body: `{"files": [request, …]}`.
pub fn sign_batch<'a>(requests: impl Iterator<Item = &'a SignRequest>) -> String {
    let files = Array::new();
    for request in requests {
        files.push(&sign_request_object(request));
    }
    let object = Object::new();
    let _ = Reflect::set(&object, &"files".into(), &files);
    stringify(&object)
}

/// Its answer: each file's form, or its refusal (`{"error": …}`), in the request's order.
pub fn signed_batch(text: &str) -> Option<Vec<Result<SignResponse, (ErrorCode, String)>>> {
    list(&parse(text)?, "results", |result| {
        match field(result, "error").filter(JsValue::is_object) {
            Some(_) => error_body_of(result).map(Err),
            None => sign_response_of(result).map(Ok),
        }
    })
}

fn sign_request_object(request: &SignRequest) -> Object {
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
    if let Some(md5) = &request.content_md5 {
        set("contentMd5", JsValue::from_str(md5));
    }
    object
}
