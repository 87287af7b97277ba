//! The OIDC issuer edge: the only module that talks to the sign-in provider. The local server in
//! the authenticated mode fetches the issuer's public keys once at start, by OpenID discovery
//! (`<issuer>/.well-known/openid-configuration`, then its `jwks_uri`), and hands them to
//! `auth::Verifier`. Under Lambda nothing is fetched: API Gateway's JWT authorizer verifies.
//! A key the issuer adds later needs a restart of the local signer.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;

use crate::auth::Verifier;

const TIMEOUT: Duration = Duration::from_secs(10);
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

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
