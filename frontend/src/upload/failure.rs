//! Why a file was refused or failed: one closed set of codes, from the signer (`ErrorCode`),
//! from storage (S3's `Code`s the page knows, an HTTP status without one, or another code it does
//! not), and from the page itself. `i18n.rs` matches every variant exhaustively, so the compiler
//! checks each has words in both languages; nothing here is a sentence for people (a failure's
//! `detail` is what a server or the browser said, kept for the record, never shown as the reason).

use std::fmt;

use shared::ErrorCode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: FailureCode,
    /// The server's or the browser's own words, if any (a log line, not the reason shown).
    pub detail: String,
}

impl Failure {
    pub fn page(code: PageCode) -> Failure {
        Failure::page_with(code, String::new())
    }

    pub fn page_with(code: PageCode, detail: impl Into<String>) -> Failure {
        Failure {
            code: FailureCode::Page(code),
            detail: detail.into(),
        }
    }

    pub fn signer(code: ErrorCode, detail: impl Into<String>) -> Failure {
        Failure {
            code: FailureCode::Signer(code),
            detail: detail.into(),
        }
    }

    /// Storage's error code as its XML says it (`BadDigest`, `SlowDown`…).
    pub fn store(code: &str, detail: impl Into<String>) -> Failure {
        Failure {
            code: FailureCode::Store(StoreCode::parse(code)),
            detail: detail.into(),
        }
    }

    /// Whether the signer refused the caller's sign-in (401).
    pub fn is_sign_in(&self) -> bool {
        matches!(
            self.code,
            FailureCode::Signer(ErrorCode::SignInRequired | ErrorCode::SessionExpired)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureCode {
    Signer(ErrorCode),
    Store(StoreCode),
    Page(PageCode),
}

impl FailureCode {
    /// The code for its name (`data-error`'s text): a signer code, a page code, else storage's.
    pub fn parse(name: &str) -> FailureCode {
        if let Some(code) = ErrorCode::parse(name) {
            FailureCode::Signer(code)
        } else if let Some(code) = PageCode::ALL.into_iter().find(|c| c.as_str() == name) {
            FailureCode::Page(code)
        } else {
            FailureCode::Store(StoreCode::parse(name))
        }
    }
}

/// The name tests and the page's markup (`data-error`) use: `FileTooLarge`, `BadDigest`,
/// `Http503`, `Network`…
impl fmt::Display for FailureCode {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            FailureCode::Signer(code) => f.write_str(code.as_str()),
            FailureCode::Page(code) => f.write_str(code.as_str()),
            FailureCode::Store(StoreCode::Http(status)) => write!(f, "Http{status}"),
            FailureCode::Store(StoreCode::Other(code)) => f.write_str(code),
            FailureCode::Store(code) => f.write_str(code.known_name().unwrap_or("")),
        }
    }
}

/// The page's own reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageCode {
    /// The connection to storage dropped during a request (storage was reachable).
    Network,
    /// No progress for the stall timeout.
    Timeout,
    /// The signer could not be reached.
    SignerUnreachable,
    /// The same file (name, size, modification time) is already in the list.
    Duplicate,
    /// Storage could not be reached at all (no connection, a wrong endpoint, S3 down).
    StoreUnreachable,
    /// Storage answers, but the browser kept its answer from the page: the bucket's CORS rule
    /// does not allow this page's origin.
    CorsBlocked,
    /// The signer asked to slow down (429).
    Throttled,
    /// The file could not be read any more (moved, deleted or changed on disk).
    FileUnreadable,
    /// An unfinished upload older than its token: it cannot be continued.
    ResumeExpired,
    /// S3 no longer holds an unfinished upload (`NoSuchUpload`): completed while its page was
    /// closing, or cleared away (aborted, the bucket's lifecycle rule). S3 does not say which.
    ResumeGone,
    /// The signer's answer made no sense to the page (a part plan it cannot follow).
    UnexpectedAnswer,
    /// Another tab of the page took this multipart upload over (while this one was in the
    /// back-forward cache); it goes on there.
    OtherTab,
}

impl PageCode {
    pub const ALL: [PageCode; 12] = [
        PageCode::Network,
        PageCode::Timeout,
        PageCode::SignerUnreachable,
        PageCode::Duplicate,
        PageCode::StoreUnreachable,
        PageCode::CorsBlocked,
        PageCode::Throttled,
        PageCode::FileUnreadable,
        PageCode::ResumeExpired,
        PageCode::ResumeGone,
        PageCode::UnexpectedAnswer,
        PageCode::OtherTab,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PageCode::Network => "Network",
            PageCode::Timeout => "Timeout",
            PageCode::SignerUnreachable => "SignerUnreachable",
            PageCode::Duplicate => "Duplicate",
            PageCode::StoreUnreachable => "StoreUnreachable",
            PageCode::CorsBlocked => "CorsBlocked",
            PageCode::Throttled => "Throttled",
            PageCode::FileUnreadable => "FileUnreadable",
            PageCode::ResumeExpired => "ResumeExpired",
            PageCode::ResumeGone => "ResumeGone",
            PageCode::UnexpectedAnswer => "UnexpectedAnswer",
            PageCode::OtherTab => "OtherTab",
        }
    }
}

/// Storage's answers the page has words for; any other code is kept as it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreCode {
    SlowDown,
    ServiceUnavailable,
    InternalError,
    SignatureDoesNotMatch,
    InvalidPolicyDocument,
    InvalidAccessKeyId,
    ExpiredToken,
    NoSuchBucket,
    NoSuchUpload,
    NoSuchKey,
    BadDigest,
    RequestTimeout,
    AccessDenied,
    EntityTooLarge,
    EntityTooSmall,
    /// An answer without a readable `Code` (`Http503`).
    Http(u16),
    /// A code the page has no words of its own for: named in the reason.
    Other(String),
}

/// The known codes, by name (one table for parsing and naming).
const KNOWN: [(&str, StoreCode); 15] = [
    ("SlowDown", StoreCode::SlowDown),
    ("ServiceUnavailable", StoreCode::ServiceUnavailable),
    ("InternalError", StoreCode::InternalError),
    ("SignatureDoesNotMatch", StoreCode::SignatureDoesNotMatch),
    ("InvalidPolicyDocument", StoreCode::InvalidPolicyDocument),
    ("InvalidAccessKeyId", StoreCode::InvalidAccessKeyId),
    ("ExpiredToken", StoreCode::ExpiredToken),
    ("NoSuchBucket", StoreCode::NoSuchBucket),
    ("NoSuchUpload", StoreCode::NoSuchUpload),
    ("NoSuchKey", StoreCode::NoSuchKey),
    ("BadDigest", StoreCode::BadDigest),
    ("RequestTimeout", StoreCode::RequestTimeout),
    ("AccessDenied", StoreCode::AccessDenied),
    ("EntityTooLarge", StoreCode::EntityTooLarge),
    ("EntityTooSmall", StoreCode::EntityTooSmall),
];

impl StoreCode {
    pub fn parse(name: &str) -> StoreCode {
        if let Some(status) = name.strip_prefix("Http").and_then(|s| s.parse().ok()) {
            return StoreCode::Http(status);
        }
        KNOWN.iter().find(|(known, _)| *known == name).map_or_else(
            || StoreCode::Other(name.to_string()),
            |(_, code)| code.clone(),
        )
    }

    fn known_name(&self) -> Option<&'static str> {
        KNOWN
            .iter()
            .find(|(_, code)| code == self)
            .map(|(name, _)| *name)
    }

    /// Every code with words of its own (for tests over all of them).
    pub fn known() -> impl Iterator<Item = StoreCode> {
        KNOWN.into_iter().map(|(_, code)| code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let codes = ErrorCode::ALL
            .into_iter()
            .map(FailureCode::Signer)
            .chain(PageCode::ALL.into_iter().map(FailureCode::Page))
            .chain(StoreCode::known().map(FailureCode::Store))
            .chain([
                FailureCode::Store(StoreCode::Http(503)),
                FailureCode::Store(StoreCode::Other("WeirdNewCode".into())),
            ]);
        for code in codes {
            // Storage's NoSuchUpload is named like the signer's: the signer's is the one parsed.
            if matches!(&code, FailureCode::Store(_))
                && ErrorCode::parse(&code.to_string()).is_some()
            {
                continue;
            }
            assert_eq!(FailureCode::parse(&code.to_string()), code, "{code}");
        }
        assert_eq!(FailureCode::parse("Http503").to_string(), "Http503");
    }
}
