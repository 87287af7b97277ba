//! The signer itself, below the routes (`service.rs`, `multipart.rs`) and the edges that all take a
//! `&Signer`: its validated configuration, the keys and secrets it signs with, and the helpers
//! every route uses (upload tokens, today's signing key, how logs name an upload).

use std::sync::{Arc, Mutex, RwLock};

use shared::UploadClaims;

use crate::auth::Verifier;
use crate::config::Config;
use crate::sigv4::SigningKey;
use crate::time::UnixTime;
use crate::token::{TokenError, TokenSecret};

/// The signing service, holding its validated configuration.
#[derive(Debug)]
pub struct Signer {
    config: Config,
    rules_json: String,
    /// Today's SigV4 signing key, derived again when the UTC date changes.
    signing_key: Mutex<SigningKey>,
    /// Signs upload tokens: the configured secret, or one made at start. `None` only when the
    /// system had no randomness for one; every sign request is then a 500.
    token_secret: Option<TokenSecret>,
    /// The connection pool for the multipart calls (used by `Signer::answer`, never by the pure steps).
    s3: crate::s3::Client,
    /// The issuer's keys, for the local server in the authenticated mode (`oidc.rs` fetches
    /// them, and again when a token names a key they lack); under Lambda API Gateway verifies
    /// tokens and this stays `None`.
    verifier: RwLock<Option<Arc<Verifier>>>,
    /// When the issuer's keys were last read again for an unknown key id (`oidc.rs`): held while
    /// they are read, so requests that wait for the same new key read them once.
    pub(crate) key_refresh: tokio::sync::Mutex<Option<UnixTime>>,
}

impl Signer {
    pub fn new(config: Config) -> Signer {
        let rules_json = serde_json::to_string(&config.rules).unwrap_or_default();
        let signing_key = Mutex::new(SigningKey::derive(
            &config.credentials.secret_access_key,
            UnixTime::now(),
            &config.region,
        ));
        let token_secret = match &config.token_secret {
            Some(secret) => Some(secret.clone()),
            None => TokenSecret::generate()
                .inspect_err(|err| tracing::error!(%err, "no randomness for a token secret"))
                .ok(),
        };
        Signer {
            config,
            rules_json,
            signing_key,
            token_secret,
            s3: crate::s3::Client::new(),
            verifier: RwLock::new(None),
            key_refresh: tokio::sync::Mutex::new(None),
        }
    }

    /// The signer that verifies sign-in tokens itself with the issuer's keys (local server).
    pub fn with_verifier(self, verifier: Verifier) -> Signer {
        self.set_verifier(verifier);
        self
    }

    /// The issuer's keys as read again (`oidc::refresh_keys`).
    pub fn set_verifier(&self, verifier: Verifier) {
        if let Ok(mut current) = self.verifier.write() {
            *current = Some(Arc::new(verifier));
        }
    }

    pub(crate) fn verifier(&self) -> Option<Arc<Verifier>> {
        self.verifier.read().ok()?.clone()
    }

    /// Whether this signer verifies tokens itself and `token` names a key id its keys lack.
    pub fn names_unknown_key(&self, token: &str) -> bool {
        self.config.auth.is_some()
            && self
                .verifier()
                .is_some_and(|verifier| verifier.names_unknown_key(token))
    }

    /// `key`'s upload id (`key::upload_id`): how logs name an upload.
    pub(crate) fn upload_id<'k>(&self, key: &'k str) -> &'k str {
        crate::key::upload_id(key, &self.config.rules.prefix, self.config.auth.is_some())
    }

    /// Who uploads into `space`, in the signed-in mode: their key segment (`auth::user_space`),
    /// recorded on each object they store. `None` in the anonymous mode, whose forms are as before.
    pub(crate) fn uploader<'s>(&self, space: &'s str) -> Option<&'s str> {
        self.config.auth.as_ref()?;
        space
            .strip_prefix(self.config.rules.prefix.as_str())
            .map(|segment| segment.trim_end_matches('/'))
            .filter(|segment| !segment.is_empty())
    }

    pub fn s3(&self) -> &crate::s3::Client {
        &self.s3
    }

    pub(crate) fn issue_token(&self, claims: &UploadClaims) -> String {
        self.token_secret
            .as_ref()
            .map(|secret| secret.issue(claims))
            .unwrap_or_default()
    }

    /// The token's claims, if this signer issued it, it has not expired, and its key is in the
    /// caller's `space` ([`Signer::space`]): every route that takes a token checks it here.
    pub(crate) fn verify_token(
        &self,
        token: &str,
        now: UnixTime,
        space: &str,
    ) -> Result<UploadClaims, TokenError> {
        let claims = self
            .token_secret
            .as_ref()
            .ok_or(TokenError::Invalid)?
            .verify(token, now)?;
        if !claims.key.starts_with(space) {
            tracing::info!("token for another user's space refused");
            return Err(TokenError::OtherUser);
        }
        Ok(claims)
    }

    pub(crate) fn signing_key(&self, now: UnixTime) -> SigningKey {
        // The lock only guards a 40-byte copy; a poisoned lock still holds a valid key.
        let mut cached = self
            .signing_key
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !cached.is_for(now) {
            *cached = SigningKey::derive(
                &self.config.credentials.secret_access_key,
                now,
                &self.config.region,
            );
        }
        *cached
    }

    /// The upload token secret; `None` only when the system had no randomness for one.
    pub(crate) fn token_secret(&self) -> Option<&TokenSecret> {
        self.token_secret.as_ref()
    }

    /// The public rules, serialized once at start (`GET /rules`).
    pub(crate) fn rules_json(&self) -> &str {
        &self.rules_json
    }

    pub fn config(&self) -> &Config {
        &self.config
    }
}
