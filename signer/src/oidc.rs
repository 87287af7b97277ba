//! The OIDC issuer edge: the only module that talks to the sign-in provider. The local server in
//! the authenticated mode fetches the issuer's public keys once at start, by OpenID discovery
//! (`<issuer>/.well-known/openid-configuration`, then its `jwks_uri`), and hands them to
//! `auth::Verifier`; a token that names a key id they lack (the issuer rotated its keys) has them
//! read again, at most once a minute (`KEY_REFRESH_SECONDS`: tokens with made-up key ids cannot
//! make the signer fetch without end). Under Lambda nothing is fetched: API Gateway's JWT
//! authorizer verifies.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;

use crate::auth::Verifier;
use crate::state::Signer;
use crate::time::UnixTime;

const TIMEOUT: Duration = Duration::from_secs(10);
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// The issuer's keys are read again at most this often for unknown key ids.
pub const KEY_REFRESH_SECONDS: u64 = 60;

/// Whether the keys may be read again at `now`, last read again at `last`.
pub fn key_refresh_due(last: Option<UnixTime>, now: UnixTime) -> bool {
    last.is_none_or(|last| now.0 >= last.0 + KEY_REFRESH_SECONDS)
}

/// Before `token` is verified: when it names a key id the signer's keys lack, reads the issuer's
/// keys again (unless they were within `KEY_REFRESH_SECONDS`). Requests that arrive meanwhile
/// wait for that one read. A failed read keeps the keys there were.
pub async fn refresh_keys_for(signer: &Signer, token: &str) {
    if !signer.names_unknown_key(token) {
        return;
    }
    let Some(issuer) = signer.config().auth.as_ref().map(|a| a.issuer.clone()) else {
        return;
    };
    let mut last = signer.key_refresh.lock().await;
    let now = UnixTime::now();
    // Another request may have read them while this one waited.
    if !signer.names_unknown_key(token) || !key_refresh_due(*last, now) {
        return;
    }
    *last = Some(now);
    match fetch_verifier(&issuer).await {
        Ok(verifier) => {
            tracing::info!("the sign-in issuer's keys were read again for an unknown key id");
            signer.set_verifier(verifier);
        }
        Err(err) => tracing::warn!(%err, "cannot read the sign-in issuer's keys again"),
    }
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// The issuer's keys, found by discovery. The discovery document must name the same issuer.
pub async fn fetch_verifier(issuer: &str) -> Result<Verifier, String> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let discovery: Discovery = serde_json::from_slice(&get(&url).await?)
        .map_err(|e| format!("{url}: not an OpenID discovery document ({e})"))?;
    if discovery.issuer != issuer {
        return Err(format!(
            "{url} is for the issuer {:?}, not {issuer:?}",
            discovery.issuer
        ));
    }
    let keys = get(&discovery.jwks_uri).await?;
    Verifier::from_jwks(&keys).map_err(|e| format!("{}: {e}", discovery.jwks_uri))
}

async fn get(url: &str) -> Result<Vec<u8>, String> {
    let client: Client<_, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(crate::s3::https_connector());
    let uri: http::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let exchange = async {
        let response = client.get(uri).await.map_err(|e| format!("{url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status()));
        }
        let body = http_body_util::Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
            .collect()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        Ok(body.to_bytes().to_vec())
    };
    tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| format!("{url} did not answer in {} s", TIMEOUT.as_secs()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_again_at_most_once_a_minute() {
        assert!(key_refresh_due(None, UnixTime(1_000)));
        assert!(!key_refresh_due(Some(UnixTime(1_000)), UnixTime(1_000)));
        assert!(!key_refresh_due(Some(UnixTime(1_000)), UnixTime(1_059)));
        assert!(key_refresh_due(Some(UnixTime(1_000)), UnixTime(1_060)));
    }
}
