//! The signer's configuration, parsed once at start from environment variables. Parsing is pure (it
//! takes a lookup function); `main.rs` hands it the real environment. Every problem is collected,
//! so one start-up error lists all of them.

use std::fmt;
use std::net::SocketAddr;

use shared::{ContentTypePattern, UploadRules};

use crate::auth::AuthConfig;
use crate::key::MAX_KEY_BYTES;
use crate::sigv4::Credentials;
use crate::token::TokenSecret;

pub const DEFAULT_PREFIX: &str = "uploads/";
/// 5 GiB: the largest object a single POST may upload to S3 (larger files go multipart).
pub const MAX_POST_BYTES: u64 = 5 * 1024 * 1024 * 1024;
/// 100 MiB: a modest default for an anonymous drop box (issue #11); the stack's default too.
/// Larger limits are a choice (`MAX_UPLOAD_BYTES`, up to S3's 5 TiB).
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 100 * 1024 * 1024;
/// Files above this go up as multipart uploads.
pub const DEFAULT_MULTIPART_THRESHOLD_BYTES: u64 = 64 * 1024 * 1024;
pub const DEFAULT_POLICY_TTL_SECONDS: u64 = 600;
/// A signed form can be replayed until it expires: at most an hour (SigV4 would allow 7 days).
const MAX_POLICY_TTL_SECONDS: u64 = 3600;
pub const DEFAULT_SIGNER_ADDR: &str = "127.0.0.1:9001";
/// How long an upload token lets the page sign its key again (retries after an outage, a Retry
/// pressed later). Not a variable: long enough for the page's retry window, short enough that a
/// token found later is useless.
pub const TOKEN_TTL_SECONDS: u64 = 3600;
/// A prefix leaves room in the 1024-byte key for the id and a readable name.
const MAX_PREFIX_BYTES: usize = MAX_KEY_BYTES / 2;

/// Everything the signer needs, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub bucket: String,
    pub region: String,
    pub rules: UploadRules,
    pub allowed_origins: AllowedOrigins,
    pub policy_ttl_seconds: u64,
    /// Where the browser posts the form: `https://<bucket>.s3.<region>.amazonaws.com` or
    /// `<S3_ENDPOINT>/<bucket>`.
    pub upload_url: String,
    pub credentials: Credentials,
    /// Local mode only: where to listen.
    pub listen: SocketAddr,
    /// `UPLOAD_TOKEN_SECRET`: signs upload tokens (one secret a line: the first signs, all
    /// verify). Under Lambda it or `token_secret_arn` is required (every instance must accept
    /// every other's tokens); a local signer without either makes one at start.
    pub token_secret: Option<TokenSecret>,
    /// `UPLOAD_TOKEN_SECRET_ARN`: the Secrets Manager secret holding `token_secret`, read at
    /// start (`secrets.rs`), so the secret is never in the function's configuration.
    pub token_secret_arn: Option<String>,
    /// `AUTH_ISSUER` and `AUTH_AUDIENCE`: only signed-in users upload, each into their own space
    /// (`auth.rs`). `None`: the anonymous drop box.
    pub auth: Option<AuthConfig>,
    /// `ORIGIN_SECRET`: when set, every request must carry it in `X-Origin-Secret` (the site's
    /// CloudFront adds it), so the API's own address cannot bypass the distribution. Unset (the
    /// default, and locally): no such check.
    pub origin_secret: Option<String>,
}

/// The page origins the signer answers (CORS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    Any,
    List(Vec<String>),
}

impl AllowedOrigins {
    /// Whether a request's `Origin` is served. Compared as URL origins (scheme and host in any
    /// case, the default port written or not); an origin that is not ASCII is never served.
    pub fn allows(&self, origin: &str) -> bool {
        let Some(origin) = normalise_origin(origin) else {
            return false;
        };
        match self {
            AllowedOrigins::Any => true,
            AllowedOrigins::List(list) => list.contains(&origin),
        }
    }
}

/// `scheme://host[:port]` in canonical form: lower case, no default port (80 for http, 443 for
/// https), no trailing slash. `None` for anything else (a path, user info, non-ASCII, no host).
pub fn normalise_origin(origin: &str) -> Option<String> {
    if !origin.is_ascii() {
        return None;
    }
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, rest) = origin.split_once("://")?;
    let default_port = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    if rest.is_empty()
        || !rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    {
        return None;
    }
    let host = rest.strip_suffix(default_port).unwrap_or(rest);
    if let Some((name, port)) = host.rsplit_once(':')
        && !host.ends_with(']')
        && (name.is_empty() || port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    Some(format!("{scheme}://{host}"))
}

/// The shortest `ORIGIN_SECRET` taken (the template's is the stack's UUID, 36 characters).
const MIN_ORIGIN_SECRET_BYTES: usize = 16;

/// Every variable the signer reads: set but empty is an error, never "the default" (an empty
/// `ALLOWED_CONTENT_TYPES` once meant every type).
const VARIABLES: [&str; 22] = [
    "UPLOAD_BUCKET",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "ACCESS_KEY",
    "AWS_SECRET_ACCESS_KEY",
    "SECRET_KEY",
    "AWS_SESSION_TOKEN",
    "UPLOAD_PREFIX",
    "MAX_UPLOAD_BYTES",
    "POLICY_TTL_SECONDS",
    "ALLOW_EMPTY_FILES",
    "ALLOWED_CONTENT_TYPES",
    "ALLOWED_ORIGINS",
    "S3_ENDPOINT",
    "SIGNER_ADDR",
    "UPLOAD_TOKEN_SECRET",
    "MULTIPART_THRESHOLD_BYTES",
    "AUTH_ISSUER",
    "AUTH_AUDIENCE",
    "ORIGIN_SECRET",
    "REQUIRE_MD5",
    "UPLOAD_TOKEN_SECRET_ARN",
];

/// All that is wrong with the environment, one line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub Vec<String>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        writeln!(f, "the signer's configuration is incomplete or invalid:")?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        write!(
            f,
            "every variable is in README.md, \"Configuration (environment)\""
        )
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// The configuration from name/value pairs, as if they were the whole environment (tests,
    /// benchmarks, embedding).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(|name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
    }

    /// Reads the configuration through `var` (the environment in production).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut problems: Vec<String> = VARIABLES
            .iter()
            .filter(|name| lookup(name).is_some_and(|v| v.trim().is_empty()))
            .map(|name| format!("{name} is set but empty; unset it to use the default"))
            .collect();
        let var = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let required = |name: &str, problems: &mut Vec<String>| {
            var(name).unwrap_or_else(|| {
                problems.push(format!("{name} is required but not set"));
                String::new()
            })
        };

        let bucket = required("UPLOAD_BUCKET", &mut problems);
        if !bucket.is_empty() && !is_bucket_name(&bucket) {
            problems.push(format!(
                "UPLOAD_BUCKET {bucket:?} is not a valid S3 bucket name"
            ));
        }
        let region = required("AWS_REGION", &mut problems);
        if !region.is_empty()
            && !region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            problems.push(format!(
                "AWS_REGION {region:?} is not a region name like eu-west-1"
            ));
        }

        let access_key_id = var("AWS_ACCESS_KEY_ID").or_else(|| var("ACCESS_KEY"));
        let secret_access_key = var("AWS_SECRET_ACCESS_KEY").or_else(|| var("SECRET_KEY"));
        if access_key_id.is_none() {
            problems.push("AWS_ACCESS_KEY_ID (or ACCESS_KEY) is required but not set".into());
        }
        if secret_access_key.is_none() {
            problems.push("AWS_SECRET_ACCESS_KEY (or SECRET_KEY) is required but not set".into());
        }
        let credentials = Credentials {
            access_key_id: access_key_id.unwrap_or_default(),
            secret_access_key: secret_access_key.unwrap_or_default(),
            session_token: var("AWS_SESSION_TOKEN"),
        };

        let prefix = var("UPLOAD_PREFIX").unwrap_or_else(|| DEFAULT_PREFIX.into());
        let prefix = if prefix.ends_with('/') {
            prefix
        } else {
            format!("{prefix}/")
        };
        if let Err(why) = check_prefix(&prefix) {
            problems.push(format!("UPLOAD_PREFIX {prefix:?} {why}"));
        }

        let max_bytes = parse_number(
            &var,
            "MAX_UPLOAD_BYTES",
            DEFAULT_MAX_UPLOAD_BYTES,
            1..=shared::MAX_OBJECT_BYTES,
            &mut problems,
        );
        let multipart_threshold_bytes = parse_number(
            &var,
            "MULTIPART_THRESHOLD_BYTES",
            DEFAULT_MULTIPART_THRESHOLD_BYTES,
            shared::MIN_PART_BYTES..=MAX_POST_BYTES,
            &mut problems,
        );
        let policy_ttl_seconds = parse_number(
            &var,
            "POLICY_TTL_SECONDS",
            DEFAULT_POLICY_TTL_SECONDS,
            1..=MAX_POLICY_TTL_SECONDS,
            &mut problems,
        );
        let allow_empty = parse_flag(&var, "ALLOW_EMPTY_FILES", &mut problems);
        let require_md5 = parse_flag(&var, "REQUIRE_MD5", &mut problems);

        let allowed_content_types =
            parse_content_types(var("ALLOWED_CONTENT_TYPES"), &mut problems);

        let allowed_origins = parse_allowed_origins(var("ALLOWED_ORIGINS"), &mut problems);

        let upload_url = bucket_url(var("S3_ENDPOINT").as_deref(), &bucket, &region)
            .unwrap_or_else(|problem| {
                problems.push(problem);
                String::new()
            });

        let listen_text = var("SIGNER_ADDR").unwrap_or_else(|| DEFAULT_SIGNER_ADDR.into());
        let listen = listen_text.parse().unwrap_or_else(|_| {
            problems.push(format!(
                "SIGNER_ADDR {listen_text:?} is not an address like 127.0.0.1:9001"
            ));
            SocketAddr::from(([127, 0, 0, 1], 9001))
        });

        let under_lambda = lookup("AWS_LAMBDA_RUNTIME_API").is_some();
        // The secret itself (locally), or where Secrets Manager keeps it (on AWS: read at start
        // by `secrets.rs`, so it is never in the function's configuration).
        let token_secret_arn = var("UPLOAD_TOKEN_SECRET_ARN");
        let token_secret = parse_token_secret(
            lookup("UPLOAD_TOKEN_SECRET"),
            token_secret_arn.as_deref(),
            under_lambda,
            &mut problems,
        );

        let auth = parse_auth(var("AUTH_ISSUER"), var("AUTH_AUDIENCE"), &mut problems);

        let origin_secret = var("ORIGIN_SECRET");
        if let Some(secret) = &origin_secret
            && (secret.len() < MIN_ORIGIN_SECRET_BYTES
                || !secret.bytes().all(|b| b.is_ascii_graphic()))
        {
            problems.push(format!(
                "ORIGIN_SECRET must be at least {MIN_ORIGIN_SECRET_BYTES} visible ASCII characters (it goes in a header)"
            ));
        }

        if !problems.is_empty() {
            return Err(ConfigError(problems));
        }
        Ok(Config {
            bucket,
            region,
            rules: UploadRules {
                max_bytes,
                allow_empty,
                allowed_content_types,
                prefix,
                multipart_threshold_bytes,
                sign_in: auth.as_ref().map(|auth| shared::SignIn {
                    issuer: auth.issuer.clone(),
                    client_id: auth.audience.clone(),
                }),
                require_md5,
            },
            allowed_origins,
            policy_ttl_seconds,
            upload_url,
            credentials,
            listen,
            token_secret,
            token_secret_arn,
            auth,
            origin_secret,
        })
    }
}

/// `ALLOWED_CONTENT_TYPES`: a comma list of media types and wildcards; unset, every passive type.
fn parse_content_types(
    list: Option<String>,
    problems: &mut Vec<String>,
) -> Vec<ContentTypePattern> {
    match list {
        None => vec![ContentTypePattern::any()],
        Some(list) => {
            let patterns: Vec<ContentTypePattern> = list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .filter_map(|s| {
                    ContentTypePattern::parse(s)
                        .map_err(|why| problems.push(format!("ALLOWED_CONTENT_TYPES: {why}")))
                        .ok()
                })
                .collect();
            if patterns.is_empty() && !list.split(',').any(|s| !s.trim().is_empty()) {
                problems.push(format!(
                    "ALLOWED_CONTENT_TYPES {list:?} names no type; unset it to allow every passive type"
                ));
            }
            patterns
        }
    }
}

/// `ALLOWED_ORIGINS`: a comma list of page origins (`*` for any); unset, none.
fn parse_allowed_origins(list: Option<String>, problems: &mut Vec<String>) -> AllowedOrigins {
    match list {
        None => AllowedOrigins::List(Vec::new()),
        Some(list) if list.split(',').any(|o| o.trim() == "*") => AllowedOrigins::Any,
        Some(list) => AllowedOrigins::List(
            list.split(',')
                .map(|o| o.trim().trim_end_matches('/'))
                .filter(|o| !o.is_empty())
                .filter_map(|o| {
                    if let Some(origin) = normalise_origin(o) {
                        Some(origin)
                    } else {
                        problems.push(format!(
                            "ALLOWED_ORIGINS: {o:?} is not an origin like https://example.com"
                        ));
                        None
                    }
                })
                .collect(),
        ),
    }
}

/// `UPLOAD_TOKEN_SECRET` (`secret`, as set) or `UPLOAD_TOKEN_SECRET_ARN` (`token_secret_arn`):
/// one of them under Lambda, not both; the secret's lines parsed (`TokenSecret::parse`).
fn parse_token_secret(
    secret: Option<String>,
    token_secret_arn: Option<&str>,
    under_lambda: bool,
    problems: &mut Vec<String>,
) -> Option<TokenSecret> {
    if let Some(arn) = token_secret_arn
        && secret_region(arn).is_none()
    {
        problems.push(format!(
            "UPLOAD_TOKEN_SECRET_ARN {arn:?} is not a Secrets Manager secret's ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)"
        ));
    }
    match secret {
        None if under_lambda && token_secret_arn.is_none() => {
            problems.push(
                "UPLOAD_TOKEN_SECRET_ARN (or UPLOAD_TOKEN_SECRET) is required under Lambda but not set"
                    .into(),
            );
            None
        }
        None => None,
        Some(_) if token_secret_arn.is_some() => {
            problems.push(
                "UPLOAD_TOKEN_SECRET and UPLOAD_TOKEN_SECRET_ARN are both set: set one".into(),
            );
            None
        }
        Some(secret) => TokenSecret::parse(&secret)
            .map_err(|why| problems.push(format!("UPLOAD_TOKEN_SECRET {why}")))
            .ok(),
    }
}

/// `AUTH_ISSUER` and `AUTH_AUDIENCE`: both (the signed-in mode) or neither (anonymous).
fn parse_auth(
    issuer: Option<String>,
    audience: Option<String>,
    problems: &mut Vec<String>,
) -> Option<AuthConfig> {
    match (issuer, audience) {
        (None, None) => None,
        (Some(issuer), Some(audience)) => {
            let loopback = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"]
                .iter()
                .any(|start| issuer.starts_with(start));
            if !(issuer.starts_with("https://") || loopback) || issuer.contains(char::is_whitespace)
            {
                problems.push(format!(
                    "AUTH_ISSUER {issuer:?} must be the issuer's https URL, exactly as its tokens state it (http only on 127.0.0.1)"
                ));
            }
            Some(AuthConfig { issuer, audience })
        }
        (Some(_), None) | (None, Some(_)) => {
            problems.push(
                "AUTH_ISSUER and AUTH_AUDIENCE go together: set both for signed-in uploads, or neither".into(),
            );
            None
        }
    }
}

/// The region of a Secrets Manager secret's ARN
/// (`arn:<partition>:secretsmanager:<region>:<account>:secret:<name>`).
pub fn secret_region(arn: &str) -> Option<&str> {
    let fields: Vec<&str> = arn.splitn(7, ':').collect();
    match fields[..] {
        [
            "arn",
            partition,
            "secretsmanager",
            region,
            account,
            "secret",
            name,
        ] if !partition.is_empty()
            && !region.is_empty()
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && !name.is_empty() =>
        {
            Some(region)
        }
        _ => None,
    }
}

/// A `true`/`false` variable (also `1`/`0`, `yes`/`no`); unset is `false`.
fn parse_flag(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    problems: &mut Vec<String>,
) -> bool {
    match var(name).as_deref() {
        None | Some("false" | "0" | "no") => false,
        Some("true" | "1" | "yes") => true,
        Some(other) => {
            problems.push(format!("{name} {other:?} must be true or false"));
            false
        }
    }
}

fn parse_number(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
    problems: &mut Vec<String>,
) -> u64 {
    match var(name) {
        None => default,
        Some(text) => match text.parse::<u64>() {
            Ok(n) if range.contains(&n) => n,
            _ => {
                problems.push(format!(
                    "{name} {text:?} must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ));
                default
            }
        },
    }
}

fn check_prefix(prefix: &str) -> Result<(), &'static str> {
    if prefix.len() > MAX_PREFIX_BYTES {
        return Err("is too long");
    }
    if prefix.starts_with('/') {
        return Err("must not start with /");
    }
    if prefix.chars().any(|c| c.is_control() || c == '\\') {
        return Err("must not contain control characters or backslashes");
    }
    let segments: Vec<&str> = prefix.trim_end_matches('/').split('/').collect();
    if segments
        .iter()
        .any(|s| s.is_empty() || *s == "." || *s == "..")
    {
        return Err("must not have empty, '.' or '..' segments");
    }
    Ok(())
}

/// S3's bucket naming rules (3-63 characters of lower-case letters, digits, dots and hyphens,
/// starting and ending with a letter or digit).
fn is_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && !name.contains("..")
}

/// The bucket's base URL: `<S3_ENDPOINT>/<bucket>` for an S3-compatible server (path-style),
/// else AWS's virtual-hosted `https://<bucket>.s3.<region>.amazonaws.com` (path-style for dotted
/// names, which S3's wildcard certificate does not match). The hook reads the bucket the same way.
pub fn bucket_url(endpoint: Option<&str>, bucket: &str, region: &str) -> Result<String, String> {
    match endpoint {
        Some(endpoint) => {
            let endpoint = endpoint.trim_end_matches('/');
            if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
                Ok(format!("{endpoint}/{bucket}"))
            } else {
                Err(format!(
                    "S3_ENDPOINT {endpoint:?} must start with http:// or https://"
                ))
            }
        }
        None if bucket.contains('.') => Ok(format!("https://s3.{region}.amazonaws.com/{bucket}")),
        None => Ok(format!("https://{bucket}.s3.{region}.amazonaws.com")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_pairs(vars)
    }

    const MINIMAL: [(&str, &str); 4] = [
        ("UPLOAD_BUCKET", "my-bucket"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "SECRET"),
    ];

    #[test]
    fn defaults() {
        let c = config(&MINIMAL).unwrap();
        assert_eq!(c.rules.prefix, "uploads/");
        assert_eq!(c.rules.max_bytes, 100 * 1024 * 1024);
        assert_eq!(
            c.rules.allowed_content_types,
            vec![ContentTypePattern::any()]
        );
        assert!(!c.rules.allow_empty);
        assert!(!c.rules.require_md5);
        assert_eq!(c.policy_ttl_seconds, 600);
        assert_eq!(c.upload_url, "https://my-bucket.s3.eu-west-1.amazonaws.com");
        assert_eq!(c.allowed_origins, AllowedOrigins::List(vec![]));
        assert_eq!(c.listen.to_string(), "127.0.0.1:9001");
        assert_eq!(c.credentials.session_token, None);
    }

    #[test]
    fn the_token_secret_is_optional_locally_and_required_under_lambda() {
        assert_eq!(config(&MINIMAL).unwrap().token_secret, None);
        let secret = "s".repeat(32);
        let mut vars = MINIMAL.to_vec();
        vars.push(("UPLOAD_TOKEN_SECRET", &secret));
        assert_eq!(
            config(&vars).unwrap().token_secret,
            TokenSecret::new(secret.as_bytes())
        );
        let mut lambda = MINIMAL.to_vec();
        lambda.push(("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9000"));
        let err = config(&lambda).unwrap_err().to_string();
        assert!(
            err.contains(
                "UPLOAD_TOKEN_SECRET_ARN (or UPLOAD_TOKEN_SECRET) is required under Lambda"
            ),
            "{err}"
        );
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tokens-AbCdEf";
        let mut by_arn = lambda.clone();
        by_arn.push(("UPLOAD_TOKEN_SECRET_ARN", arn));
        let c = config(&by_arn).unwrap();
        assert_eq!(
            (c.token_secret, c.token_secret_arn.as_deref()),
            (None, Some(arn))
        );
        by_arn.push(("UPLOAD_TOKEN_SECRET", &secret));
        let err = config(&by_arn).unwrap_err().to_string();
        assert!(err.contains("both set"), "{err}");
        lambda.push(("UPLOAD_TOKEN_SECRET", &secret));
        assert!(config(&lambda).is_ok());
        let mut vars = MINIMAL.to_vec();
        vars.push(("UPLOAD_TOKEN_SECRET", "too short"));
        let err = config(&vars).unwrap_err().to_string();
        assert!(err.contains("at least 32 random bytes"), "{err}");
        for bad in [
            "arn:aws:s3:::bucket",
            "secret-name",
            "arn:aws:secretsmanager:eu-west-1:123:secret:x",
        ] {
            let mut vars = MINIMAL.to_vec();
            vars.push(("UPLOAD_TOKEN_SECRET_ARN", bad));
            let err = config(&vars).unwrap_err().to_string();
            assert!(
                err.contains("not a Secrets Manager secret's ARN"),
                "{bad}: {err}"
            );
        }
        assert_eq!(secret_region(arn), Some("eu-west-1"));
    }

    #[test]
    fn empty_variables_are_errors_not_defaults() {
        for name in VARIABLES {
            let mut vars = MINIMAL.to_vec();
            vars.retain(|(n, _)| *n != name);
            vars.push((name, "  "));
            let err = config(&vars).unwrap_err().to_string();
            assert!(err.contains(&format!("{name} is set but empty")), "{err}");
        }
        let mut vars = MINIMAL.to_vec();
        vars.push(("ALLOWED_CONTENT_TYPES", " , "));
        let err = config(&vars).unwrap_err().to_string();
        assert!(err.contains("names no type"), "{err}");
    }

    #[test]
    fn origins_are_compared_as_url_origins() {
        let mut vars = MINIMAL.to_vec();
        vars.push((
            "ALLOWED_ORIGINS",
            "HTTPS://Example.COM:443/, http://127.0.0.1:8080, http://[::1]:80",
        ));
        let c = config(&vars).unwrap();
        assert_eq!(
            c.allowed_origins,
            AllowedOrigins::List(vec![
                "https://example.com".into(),
                "http://127.0.0.1:8080".into(),
                "http://[::1]".into(),
            ])
        );
        for same in [
            "https://example.com",
            "https://EXAMPLE.com:443",
            "HTTPS://example.com/",
        ] {
            assert!(c.allowed_origins.allows(same), "{same}");
        }
        for other in [
            "http://example.com",
            "https://example.com:8443",
            "https://example.com.evil.example",
            "https://exämple.com",
            "http://127.0.0.1:8081",
            "null",
            "",
        ] {
            assert!(!c.allowed_origins.allows(other), "{other}");
        }
        assert!(!AllowedOrigins::Any.allows("https://bücher.example"));
        assert!(AllowedOrigins::Any.allows("https://any.example"));
        for bad in [
            "example.com",
            "ftp://x",
            "https://a/b",
            "https://user@a",
            "https://a:b",
            "https://",
        ] {
            assert_eq!(normalise_origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn policies_live_an_hour_at_most() {
        let mut vars = MINIMAL.to_vec();
        vars.push(("POLICY_TTL_SECONDS", "3601"));
        assert!(
            config(&vars)
                .unwrap_err()
                .to_string()
                .contains("POLICY_TTL_SECONDS")
        );
        vars.pop();
        vars.push(("POLICY_TTL_SECONDS", "3600"));
        assert_eq!(config(&vars).unwrap().policy_ttl_seconds, 3600);
    }

    #[test]
    fn everything_missing_is_listed_at_once() {
        let err = config(&[]).unwrap_err();
        let text = err.to_string();
        for name in [
            "UPLOAD_BUCKET",
            "AWS_REGION",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        ] {
            assert!(text.contains(name), "{text}");
        }
        assert_eq!(err.0.len(), 4, "{text}");
    }

    #[test]
    fn older_credential_names_and_session_token() {
        let c = config(&[
            ("UPLOAD_BUCKET", "b-1"),
            ("AWS_REGION", "us-east-1"),
            ("ACCESS_KEY", "OLD"),
            ("SECRET_KEY", "OLDSECRET"),
            ("AWS_SESSION_TOKEN", "TOKEN"),
        ])
        .unwrap();
        assert_eq!(c.credentials.access_key_id, "OLD");
        assert_eq!(c.credentials.secret_access_key, "OLDSECRET");
        assert_eq!(c.credentials.session_token.as_deref(), Some("TOKEN"));
    }

    #[test]
    fn everything_set() {
        let mut vars = MINIMAL.to_vec();
        vars.extend([
            ("UPLOAD_PREFIX", "incoming/web"),
            ("MAX_UPLOAD_BYTES", "1048576"),
            ("ALLOWED_CONTENT_TYPES", "image/*, application/pdf"),
            (
                "ALLOWED_ORIGINS",
                "https://example.com, http://127.0.0.1:8080/",
            ),
            ("POLICY_TTL_SECONDS", "60"),
            ("S3_ENDPOINT", "http://127.0.0.1:9000/"),
            ("SIGNER_ADDR", "127.0.0.1:0"),
            ("ALLOW_EMPTY_FILES", "true"),
            ("REQUIRE_MD5", "yes"),
        ]);
        let c = config(&vars).unwrap();
        assert!(c.rules.require_md5);
        assert_eq!(c.rules.prefix, "incoming/web/");
        assert_eq!(c.rules.max_bytes, 1_048_576);
        assert!(c.rules.allow_empty);
        assert_eq!(c.rules.allowed_content_types.len(), 2);
        assert!(c.allowed_origins.allows("http://127.0.0.1:8080"));
        assert!(!c.allowed_origins.allows("https://evil.example"));
        assert_eq!(c.policy_ttl_seconds, 60);
        assert_eq!(c.upload_url, "http://127.0.0.1:9000/my-bucket");
        assert_eq!(c.listen.port(), 0);
    }

    #[test]
    fn bad_values_are_named() {
        let mut vars = MINIMAL.to_vec();
        vars.extend([
            ("UPLOAD_PREFIX", "../up"),
            ("MAX_UPLOAD_BYTES", "lots"),
            ("ALLOWED_CONTENT_TYPES", "image/*,*/png"),
            ("ALLOWED_ORIGINS", "example.com"),
            ("POLICY_TTL_SECONDS", "0"),
            ("S3_ENDPOINT", "127.0.0.1:9000"),
            ("SIGNER_ADDR", "nowhere"),
            ("ALLOW_EMPTY_FILES", "maybe"),
            ("REQUIRE_MD5", "always"),
        ]);
        let err = config(&vars).unwrap_err();
        for name in [
            "UPLOAD_PREFIX",
            "MAX_UPLOAD_BYTES",
            "ALLOWED_CONTENT_TYPES",
            "ALLOWED_ORIGINS",
            "POLICY_TTL_SECONDS",
            "S3_ENDPOINT",
            "SIGNER_ADDR",
            "ALLOW_EMPTY_FILES",
            "REQUIRE_MD5",
        ] {
            assert!(err.0.iter().any(|p| p.starts_with(name)), "{name}: {err}");
        }
        assert!(
            config(&[
                ("UPLOAD_BUCKET", "Bad_Bucket"),
                ("AWS_REGION", "x"),
                ("ACCESS_KEY", "a"),
                ("SECRET_KEY", "b")
            ])
            .is_err()
        );
    }

    #[test]
    fn any_origin_and_dotted_buckets() {
        let mut vars = MINIMAL.to_vec();
        vars.retain(|(k, _)| *k != "UPLOAD_BUCKET");
        vars.extend([("UPLOAD_BUCKET", "my.bucket"), ("ALLOWED_ORIGINS", "*")]);
        let c = config(&vars).unwrap();
        assert_eq!(c.allowed_origins, AllowedOrigins::Any);
        assert_eq!(c.upload_url, "https://s3.eu-west-1.amazonaws.com/my.bucket");
    }

    #[test]
    fn prefixes() {
        assert!(check_prefix("uploads/").is_ok());
        assert!(check_prefix("a/b/").is_ok());
        for bad in ["/uploads/", "a//b/", "a/../b/", "./", "a\\b/"] {
            assert!(check_prefix(bad).is_err(), "{bad}");
        }
    }
}
