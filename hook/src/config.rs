//! The hook's settings, parsed and checked in one place from a lookup (the environment in
//! `main.rs`, a table in tests). A missing or bad variable stops the hook at start with every
//! problem listed.

use std::net::SocketAddr;

use signer::sigv4::Credentials;

/// Where the local endpoint listens when `HOOK_ADDR` is not set.
pub const DEFAULT_HOOK_ADDR: &str = "127.0.0.1:9003";

#[derive(Debug, Clone)]
pub struct Config {
    /// The one bucket the hook reads and writes; events for another are skipped.
    pub bucket: String,
    pub region: String,
    pub credentials: Credentials,
    /// `https://<bucket>.s3.<region>.amazonaws.com` or `<S3_ENDPOINT>/<bucket>`.
    pub bucket_url: String,
    /// Only objects under this prefix are judged (`uploads/`, the signer's `UPLOAD_PREFIX`).
    pub upload_prefix: String,
    /// Where results go: `<results_prefix><key>.json` (`results/`). Never under the upload
    /// prefix, nor the other way round, so a result is never itself judged.
    pub results_prefix: String,
    /// Local mode only: where the endpoint that takes events listens.
    pub listen: SocketAddr,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {}", .0.join("; "))]
pub struct ConfigError(pub Vec<String>);

impl Config {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        // An empty variable is a mistake, never "the default".
        let var = |name: &str| lookup(name);
        let required = |name: &str, problems: &mut Vec<String>| match var(name) {
            Some(value) if !value.trim().is_empty() => value,
            _ => {
                problems.push(format!("{name} is required but not set"));
                String::new()
            }
        };
        let bucket = required("UPLOAD_BUCKET", &mut problems);
        let region = required("AWS_REGION", &mut problems);
        let access_key_id = var("AWS_ACCESS_KEY_ID").or_else(|| var("ACCESS_KEY"));
        let secret_access_key = var("AWS_SECRET_ACCESS_KEY").or_else(|| var("SECRET_KEY"));
        if access_key_id.as_deref().is_none_or(str::is_empty) {
            problems.push("AWS_ACCESS_KEY_ID (or ACCESS_KEY) is required but not set".into());
        }
        if secret_access_key.as_deref().is_none_or(str::is_empty) {
            problems.push("AWS_SECRET_ACCESS_KEY (or SECRET_KEY) is required but not set".into());
        }
        let prefix = |name: &str, default: &str, problems: &mut Vec<String>| {
            let value = var(name).unwrap_or_else(|| default.to_string());
            if value.is_empty() || !value.ends_with('/') || value.starts_with('/') {
                problems.push(format!(
                    "{name} {value:?} must be a folder like {default:?} (ending in /)"
                ));
            }
            value
        };
        let upload_prefix = prefix("UPLOAD_PREFIX", "uploads/", &mut problems);
        let results_prefix = prefix("RESULTS_PREFIX", "results/", &mut problems);
        if upload_prefix.starts_with(&results_prefix) || results_prefix.starts_with(&upload_prefix)
        {
            problems.push(format!(
                "RESULTS_PREFIX {results_prefix:?} and UPLOAD_PREFIX {upload_prefix:?} must not \
                 contain each other: each result would be judged in turn"
            ));
        }
        let bucket_url =
            signer::config::bucket_url(var("S3_ENDPOINT").as_deref(), &bucket, &region)
                .unwrap_or_else(|problem| {
                    problems.push(problem);
                    String::new()
                });
        let listen_text = var("HOOK_ADDR").unwrap_or_else(|| DEFAULT_HOOK_ADDR.into());
        let listen = listen_text.parse().unwrap_or_else(|_| {
            problems.push(format!(
                "HOOK_ADDR {listen_text:?} is not an address like {DEFAULT_HOOK_ADDR}"
            ));
            SocketAddr::from(([127, 0, 0, 1], 9003))
        });
        if !problems.is_empty() {
            return Err(ConfigError(problems));
        }
        Ok(Config {
            bucket,
            region,
            credentials: Credentials {
                access_key_id: access_key_id.unwrap_or_default(),
                secret_access_key: secret_access_key.unwrap_or_default(),
                session_token: var("AWS_SESSION_TOKEN").filter(|t| !t.is_empty()),
            },
            bucket_url,
            upload_prefix,
            results_prefix,
            listen,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let base = [
            ("UPLOAD_BUCKET", "my-uploads"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "SECRET"),
        ];
        Config::from_lookup(|name| {
            vars.iter()
                .chain(base.iter())
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults_and_endpoints() {
        let c = config(&[]).unwrap();
        assert_eq!(
            c.bucket_url,
            "https://my-uploads.s3.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            (c.upload_prefix.as_str(), c.results_prefix.as_str()),
            ("uploads/", "results/")
        );
        assert_eq!(c.listen.to_string(), DEFAULT_HOOK_ADDR);
        assert_eq!(c.credentials.session_token, None);
        let local = config(&[
            ("S3_ENDPOINT", "http://127.0.0.1:9000/"),
            ("AWS_SESSION_TOKEN", "T"),
        ])
        .unwrap();
        assert_eq!(local.bucket_url, "http://127.0.0.1:9000/my-uploads");
        assert_eq!(local.credentials.session_token.as_deref(), Some("T"));
    }

    #[test]
    fn every_problem_is_listed_at_once() {
        let err =
            Config::from_lookup(|name| (name == "RESULTS_PREFIX").then(|| "uploads/x/".into()))
                .unwrap_err();
        let text = err.to_string();
        for needle in [
            "UPLOAD_BUCKET",
            "AWS_REGION",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "must not contain each other",
        ] {
            assert!(text.contains(needle), "{needle} in {text}");
        }
        assert!(config(&[("RESULTS_PREFIX", "results")]).is_err());
        assert!(config(&[("UPLOAD_PREFIX", "")]).is_err());
        assert!(config(&[("S3_ENDPOINT", "127.0.0.1:9000")]).is_err());
        assert!(config(&[("HOOK_ADDR", "nowhere")]).is_err());
    }
}
