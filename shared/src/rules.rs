//! The upload rules (size limit, allowed types, key prefix) and the one check both sides run on a file.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::wire::{ErrorCode, SignRequest};

/// Longest file name (in UTF-8 bytes) the signer will look at. S3 keys are at most 1024 bytes; a longer
/// name is a client mistake, not something to truncate silently.
pub const MAX_FILENAME_BYTES: usize = 1024;

/// Longest content type accepted (S3 keeps header values far shorter in practice).
const MAX_CONTENT_TYPE_BYTES: usize = 255;

/// What the signer allows, as `GET /rules` publishes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadRules {
    /// Largest file, in bytes.
    pub max_bytes: u64,
    /// Whether a 0-byte file may be uploaded.
    pub allow_empty: bool,
    /// Media types that may be uploaded: `*/*`, `image/*` or an exact `type/subtype`.
    pub allowed_content_types: Vec<ContentTypePattern>,
    /// Every key starts with this.
    pub prefix: String,
    /// Files larger than this go up as multipart uploads (`/multipart/*`); smaller ones as one
    /// POST. Absent in the JSON of a signer from before multipart: never.
    #[serde(default = "never")]
    pub multipart_threshold_bytes: u64,
    /// The signer takes uploads only from signed-in users of this OIDC provider (its
    /// authenticated mode); the page signs users in with it. Absent: anyone may upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in: Option<SignIn>,
    /// Every form and every part must be signed with the bytes' MD5 (the signer's `REQUIRE_MD5`):
    /// an upload token then pins the bytes, so nobody re-signs a stored file's key for others.
    /// Absent (a signer without the option, or with it off): MD5s are optional.
    #[serde(default, skip_serializing_if = "is_false")]
    pub require_md5: bool,
}

fn is_false(value: &bool) -> bool {
    !value
}

/// Where the page signs users in: the OIDC issuer and the client id its tokens are for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignIn {
    pub issuer: String,
    pub client_id: String,
}

fn never() -> u64 {
    u64::MAX
}

/// Why a file may not be uploaded: a stable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

impl Refusal {
    fn new(code: ErrorCode, message: String) -> Self {
        Refusal { code, message }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl UploadRules {
    /// Checks a file description against the rules and returns its content type in the normalised
    /// form that goes into the policy (trimmed, lower case).
    pub fn check(&self, request: &SignRequest) -> Result<String, Refusal> {
        check_filename(&request.filename)?;
        self.check_size(request.size)?;
        self.check_content_type(&request.content_type)
    }

    pub fn check_size(&self, size: u64) -> Result<(), Refusal> {
        if size == 0 && !self.allow_empty {
            return Err(Refusal::new(
                ErrorCode::EmptyFile,
                "The file is empty (0 bytes); empty files are not accepted.".into(),
            ));
        }
        if size > self.max_bytes {
            return Err(Refusal::new(ErrorCode::FileTooLarge, {
                let (size, max) = human_bytes_apart(size, self.max_bytes);
                format!("The file is {size} but the limit is {max}.")
            }));
        }
        Ok(())
    }

    pub fn check_content_type(&self, content_type: &str) -> Result<String, Refusal> {
        let normalised = normalise_content_type(content_type)?;
        if self
            .allowed_content_types
            .iter()
            .any(|pattern| pattern.matches(&normalised))
        {
            Ok(normalised)
        } else {
            if is_active_type(&normalised) {
                return Err(Refusal::new(
                    ErrorCode::ContentTypeNotAllowed,
                    format!(
                        "Files of type {normalised} are not accepted: a browser would run them as a page. The signer's ALLOWED_CONTENT_TYPES must name it exactly to accept it."
                    ),
                ));
            }
            let allowed: Vec<&str> = self
                .allowed_content_types
                .iter()
                .map(ContentTypePattern::as_str)
                .collect();
            Err(Refusal::new(
                ErrorCode::ContentTypeNotAllowed,
                format!(
                    "Files of type {normalised} are not accepted (allowed: {}).",
                    if allowed.is_empty() {
                        "none".to_string()
                    } else {
                        allowed.join(", ")
                    }
                ),
            ))
        }
    }
}

/// Types a browser runs script in when it opens them (HTML, XHTML, SVG, any XML, JavaScript),
/// and the "unknown" types it sniffs (the MIME Sniffing standard: `unknown/unknown` and
/// `application/unknown` are read as no type, and bytes that look like HTML are run as HTML; S3
/// sends no `nosniff`): opened from the bucket's origin, which the page shares, they would run as
/// the page. Refused unless the allow-list names them exactly; `*/*` and `image/*` do not
/// include them. `content_type` must be normalised (lower case, trimmed).
pub fn is_active_type(content_type: &str) -> bool {
    let Some((kind, subtype)) = content_type.split_once('/') else {
        return false;
    };
    if subtype == "unknown" && matches!(kind, "unknown" | "application") {
        return true;
    }
    subtype == "xml"
        || subtype.ends_with("+xml")
        || matches!(
            subtype,
            "html" | "javascript" | "ecmascript" | "x-javascript" | "jscript"
        )
        || (kind == "text" && matches!(subtype, "xsl" | "x-javascript" | "livescript"))
        || content_type == "application/x-shockwave-flash"
}

/// A file name is refused only when it is far too long; anything else is made safe by the signer's
/// key naming, so that odd but honest names still upload.
pub fn check_filename(filename: &str) -> Result<(), Refusal> {
    if filename.len() > MAX_FILENAME_BYTES {
        return Err(Refusal::new(
            ErrorCode::InvalidFilename,
            format!(
                "The file name is {} bytes long; at most {MAX_FILENAME_BYTES} are accepted.",
                filename.len()
            ),
        ));
    }
    Ok(())
}

fn normalise_content_type(content_type: &str) -> Result<String, Refusal> {
    let trimmed = content_type.trim();
    let invalid = |why: &str| {
        Refusal::new(
            ErrorCode::InvalidContentType,
            // Quoted by hand: `{:?}` would pull Unicode escaping tables into the page.
            format!("The content type \"{trimmed}\" is not a media type like image/png: {why}."),
        )
    };
    if trimmed.is_empty() {
        return Err(invalid(
            "it is empty (send application/octet-stream when unknown)",
        ));
    }
    if trimmed.len() > MAX_CONTENT_TYPE_BYTES {
        return Err(invalid("it is too long"));
    }
    let Some((kind, subtype)) = trimmed.split_once('/') else {
        return Err(invalid("it has no '/'"));
    };
    if !is_token(kind) || !is_token(subtype) {
        return Err(invalid("it has characters a media type cannot have"));
    }
    // `*/*` or `image/*` is a pattern, not a file's type: stored as the object's Content-Type,
    // `*/*` makes a browser sniff the bytes (as HTML if they look like it).
    if kind.contains('*') || subtype.contains('*') {
        return Err(invalid(
            "it has a wildcard (*); name the file's own type, or application/octet-stream",
        ));
    }
    Ok(trimmed.to_ascii_lowercase())
}

/// RFC 9110 `token`: the characters a media type and subtype may use.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// One entry of the content-type allow-list: `*/*`, `type/*` or `type/subtype` (lower case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContentTypePattern(String);

impl ContentTypePattern {
    pub fn parse(text: &str) -> Result<Self, String> {
        let lower = text.trim().to_ascii_lowercase();
        let valid = match lower.split_once('/') {
            Some(("*", "*")) => true,
            Some((kind, "*")) => kind != "*" && is_token(kind),
            Some((kind, subtype)) => {
                is_token(kind) && is_token(subtype) && !kind.contains('*') && !subtype.contains('*')
            }
            None => false,
        };
        if valid {
            Ok(ContentTypePattern(lower))
        } else {
            Err(format!(
                "\"{text}\" is not a content type pattern (use */*, type/* or type/subtype)"
            ))
        }
    }

    pub fn any() -> Self {
        ContentTypePattern("*/*".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `content_type` must already be normalised (lower case, trimmed). A wildcard never matches
    /// an active type ([`is_active_type`]): those are allowed only when listed exactly.
    pub fn matches(&self, content_type: &str) -> bool {
        match self.0.split_once('/') {
            Some(("*", "*")) => !is_active_type(content_type),
            Some((kind, "*")) => {
                !is_active_type(content_type)
                    && content_type.split_once('/').is_some_and(|(k, _)| k == kind)
            }
            _ => self.0 == content_type,
        }
    }
}

impl TryFrom<String> for ContentTypePattern {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        ContentTypePattern::parse(&text)
    }
}

impl From<ContentTypePattern> for String {
    fn from(pattern: ContentTypePattern) -> String {
        pattern.0
    }
}

/// Bytes for people: `999 B`, `1.5 KiB`, `5.0 GiB`. Integer arithmetic only, so the page does not
/// carry float formatting code.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut unit = 1;
    let mut shift = 10;
    while unit + 1 < UNITS.len() && bytes >> shift >= 1024 {
        shift += 10;
        unit += 1;
    }
    // Tenths, rounded half up, without overflow: whole units, then the remainder's tenths.
    let divisor = 1u64 << shift;
    let remainder = bytes & (divisor - 1);
    let tenths = (bytes >> shift) * 10 + (remainder * 10 + divisor / 2) / divisor;
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

/// Two sizes to show side by side (a file and a limit): as [`human_bytes`], unless they round to
/// the same text (one byte over 8 MiB is "8.0 MiB" too), then in exact bytes, so the difference
/// shows.
pub fn human_bytes_apart(a: u64, b: u64) -> (String, String) {
    let (x, y) = (human_bytes(a), human_bytes(b));
    if x != y || a == b {
        return (x, y);
    }
    (exact_bytes(a), exact_bytes(b))
}

/// `8388609 bytes` as `8,388,609 bytes`.
fn exact_bytes(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 6);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(" bytes");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_with_a_wildcard_is_refused_whatever_the_allow_list() {
        for rules in [rules(&["*/*"]), rules(&["image/*"]), rules(&["image/png"])] {
            for wildcard in ["*/*", "image/*", "*/png", "image/p*g", " IMAGE/* "] {
                let refusal = rules.check_content_type(wildcard).expect_err(wildcard);
                assert_eq!(refusal.code, ErrorCode::InvalidContentType, "{wildcard}");
                assert!(refusal.message.contains("wildcard"), "{}", refusal.message);
            }
        }
    }

    #[test]
    fn active_types_need_an_exact_listing() {
        let any = rules(&["*/*"]);
        let images = rules(&["image/*", "text/*"]);
        for active in [
            "text/html",
            "application/xhtml+xml",
            "image/svg+xml",
            "application/xml",
            "text/xml",
            "text/javascript",
            "application/javascript",
            "application/rss+xml",
            "TEXT/HTML",
            "unknown/unknown",
            "application/unknown",
        ] {
            for rules in [&any, &images] {
                let refusal = rules.check_content_type(active).expect_err(active);
                assert_eq!(refusal.code, ErrorCode::ContentTypeNotAllowed);
                assert!(
                    refusal.message.contains("run them as a page"),
                    "{}",
                    refusal.message
                );
            }
        }
        // Named exactly, a deployer takes what it means.
        let unknown = rules(&["*/*", "application/unknown"]);
        assert!(unknown.check_content_type("application/unknown").is_ok());
        assert!(unknown.check_content_type("unknown/unknown").is_err());
        let svg = rules(&["image/*", "image/svg+xml"]);
        assert_eq!(
            svg.check_content_type("image/svg+xml").unwrap(),
            "image/svg+xml"
        );
        for passive in [
            "image/png",
            "text/plain",
            "text/csv",
            "application/pdf",
            "application/json",
        ] {
            assert!(any.check_content_type(passive).is_ok(), "{passive}");
        }
        assert!(images.check_content_type("image/png").is_ok());
    }

    #[test]
    fn sizes_side_by_side_always_differ_when_they_do() {
        let mib8 = 8 * 1024 * 1024;
        assert_eq!(
            human_bytes_apart(mib8 + 1, mib8),
            ("8,388,609 bytes".to_string(), "8,388,608 bytes".to_string())
        );
        assert_eq!(
            human_bytes_apart(3 * 1024 * 1024, 1024 * 1024),
            ("3.0 MiB".to_string(), "1.0 MiB".to_string())
        );
        assert_eq!(
            human_bytes_apart(999, 999),
            ("999 B".to_string(), "999 B".to_string())
        );
        assert_eq!(exact_bytes(0), "0 bytes");
        assert_eq!(exact_bytes(1000), "1,000 bytes");
        assert_eq!(exact_bytes(u64::MAX), "18,446,744,073,709,551,615 bytes");
    }

    fn rules(types: &[&str]) -> UploadRules {
        UploadRules {
            max_bytes: 1000,
            allow_empty: false,
            allowed_content_types: types
                .iter()
                .map(|t| ContentTypePattern::parse(t).unwrap())
                .collect(),
            prefix: "uploads/".into(),
            multipart_threshold_bytes: 64 * 1024 * 1024,
            sign_in: None,
            require_md5: false,
        }
    }

    fn check(
        rules: &UploadRules,
        filename: &str,
        content_type: &str,
        size: u64,
    ) -> Result<String, ErrorCode> {
        let request = SignRequest::new(filename, content_type, size);
        rules.check(&request).map_err(|refusal| refusal.code)
    }

    #[test]
    fn sizes() {
        let r = rules(&["*/*"]);
        assert_eq!(check(&r, "a", "text/plain", 1), Ok("text/plain".into()));
        assert_eq!(check(&r, "a", "text/plain", 1000), Ok("text/plain".into()));
        assert_eq!(
            check(&r, "a", "text/plain", 1001),
            Err(ErrorCode::FileTooLarge)
        );
        assert_eq!(check(&r, "a", "text/plain", 0), Err(ErrorCode::EmptyFile));
        let empty_ok = UploadRules {
            allow_empty: true,
            ..r
        };
        assert_eq!(
            check(&empty_ok, "a", "text/plain", 0),
            Ok("text/plain".into())
        );
    }

    #[test]
    fn content_types_and_wildcards() {
        let r = rules(&["image/*", "application/pdf"]);
        assert_eq!(check(&r, "a", "image/png", 1), Ok("image/png".into()));
        assert_eq!(check(&r, "a", " Image/PNG ", 1), Ok("image/png".into()));
        assert_eq!(
            check(&r, "a", "application/pdf", 1),
            Ok("application/pdf".into())
        );
        assert_eq!(
            check(&r, "a", "application/zip", 1),
            Err(ErrorCode::ContentTypeNotAllowed)
        );
        assert_eq!(
            check(&r, "a", "imagex/png", 1),
            Err(ErrorCode::ContentTypeNotAllowed)
        );
        for bad in [
            "",
            "image",
            "image/",
            "/png",
            "image/png; charset=x",
            "a b/c",
            "image/p\"ng",
        ] {
            assert_eq!(
                check(&r, "a", bad, 1),
                Err(ErrorCode::InvalidContentType),
                "{bad:?}"
            );
        }
        let none = rules(&[]);
        assert_eq!(
            check(&none, "a", "image/png", 1),
            Err(ErrorCode::ContentTypeNotAllowed)
        );
    }

    #[test]
    fn patterns() {
        for good in ["*/*", "image/*", "IMAGE/PNG", "application/vnd.ms-excel"] {
            assert!(ContentTypePattern::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "*", "*/png", "image/p*", "image", "a b/c"] {
            assert!(ContentTypePattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn filename_length() {
        let r = rules(&["*/*"]);
        let long = "x".repeat(MAX_FILENAME_BYTES);
        assert!(check(&r, &long, "text/plain", 1).is_ok());
        let too_long = "가".repeat(MAX_FILENAME_BYTES / 3 + 1);
        assert_eq!(
            check(&r, &too_long, "text/plain", 1),
            Err(ErrorCode::InvalidFilename)
        );
    }

    #[test]
    fn rules_json_is_fixed() {
        let text = r#"{"maxBytes":1000,"allowEmpty":false,"allowedContentTypes":["image/*","application/pdf"],"prefix":"uploads/","multipartThresholdBytes":67108864}"#;
        let r = rules(&["image/*", "application/pdf"]);
        assert_eq!(serde_json::to_string(&r).unwrap(), text);
        assert_eq!(serde_json::from_str::<UploadRules>(text).unwrap(), r);
        let signed_in = UploadRules {
            sign_in: Some(SignIn {
                issuer: "https://id.example".into(),
                client_id: "page".into(),
            }),
            ..r
        };
        let text = r#"{"maxBytes":1000,"allowEmpty":false,"allowedContentTypes":["image/*","application/pdf"],"prefix":"uploads/","multipartThresholdBytes":67108864,"signIn":{"issuer":"https://id.example","clientId":"page"}}"#;
        assert_eq!(serde_json::to_string(&signed_in).unwrap(), text);
        assert_eq!(
            serde_json::from_str::<UploadRules>(text).unwrap(),
            signed_in
        );
        // Published only when on: a page from before the option reads the same JSON as before.
        let md5 = UploadRules {
            require_md5: true,
            ..rules(&["image/*", "application/pdf"])
        };
        let text = r#"{"maxBytes":1000,"allowEmpty":false,"allowedContentTypes":["image/*","application/pdf"],"prefix":"uploads/","multipartThresholdBytes":67108864,"requireMd5":true}"#;
        assert_eq!(serde_json::to_string(&md5).unwrap(), text);
        assert_eq!(serde_json::from_str::<UploadRules>(text).unwrap(), md5);
        let bad =
            r#"{"maxBytes":1,"allowEmpty":false,"allowedContentTypes":["*/png"],"prefix":"u/"}"#;
        assert!(serde_json::from_str::<UploadRules>(bad).is_err());
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
        assert_eq!(human_bytes(1024), "1.0 KiB");
        assert_eq!(human_bytes(1_000_000), "976.6 KiB");
        assert_eq!(human_bytes(3_500_000), "3.3 MiB");
        assert_eq!(human_bytes(u64::MAX), "16384.0 PiB");
    }
}
