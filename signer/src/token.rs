//! Issues and verifies upload tokens (the format and claims: `shared/src/token.rs`).
//!
//! A token is `v1.<base64url(claims JSON)>.<base64url(HMAC-SHA256(secret, "v1.<claims>"))>`. The
//! secret is the signer's own (`UPLOAD_TOKEN_SECRET`), never the AWS credentials: those rotate
//! (Lambda role sessions last hours), and a token must outlive the credentials that signed its
//! first form. The signer stays stateless: everything it needs to trust a later call is in the
//! token, and nobody without the secret can make or change one.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use shared::{TOKEN_VERSION, UploadClaims};

use crate::time::UnixTime;

/// The shortest secret accepted: 256 bits, the HMAC-SHA256 key size.
pub const MIN_SECRET_BYTES: usize = 32;
/// Longest token text looked at (a key of 1024 bytes makes claims of about 1.5 KB in base64).
const MAX_TOKEN_BYTES: usize = 4096;

/// The HMAC secret. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret(Vec<u8>);

impl TokenSecret {
    /// A configured secret; `None` when shorter than [`MIN_SECRET_BYTES`].
    pub fn new(secret: &[u8]) -> Option<TokenSecret> {
        (secret.len() >= MIN_SECRET_BYTES).then(|| TokenSecret(secret.to_vec()))
    }

    /// 32 random bytes, for a local signer started without `UPLOAD_TOKEN_SECRET` (its tokens are
    /// then valid until it stops).
    pub fn generate() -> Result<TokenSecret, getrandom::Error> {
        let mut bytes = vec![0u8; MIN_SECRET_BYTES];
        getrandom::fill(&mut bytes)?;
        Ok(TokenSecret(bytes))
    }

    fn mac(&self, signed: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC accepts any key length");
        mac.update(signed);
        mac
    }

    /// The token stating `claims`.
    pub fn issue(&self, claims: &UploadClaims) -> String {
        let json = serde_json::to_vec(claims).unwrap_or_default();
        let mut token = format!("{TOKEN_VERSION}.{}", URL_SAFE_NO_PAD.encode(json));
        let tag = self.mac(token.as_bytes()).finalize().into_bytes();
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(tag));
        token
    }

    /// The claims of a token this secret issued, if it has not expired at `now`. The MAC is
    /// checked (in constant time) before the claims are parsed, so nothing an attacker wrote is
    /// read.
    pub fn verify(&self, token: &str, now: UnixTime) -> Result<UploadClaims, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Invalid);
        }
        let (signed, tag) = token.rsplit_once('.').ok_or(TokenError::Invalid)?;
        let (version, claims) = signed.split_once('.').ok_or(TokenError::Invalid)?;
        if version != TOKEN_VERSION {
            return Err(TokenError::Invalid);
        }
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TokenError::Invalid)?;
        self.mac(signed.as_bytes())
            .verify_slice(&tag)
            .map_err(|_| TokenError::Invalid)?;
        let json = URL_SAFE_NO_PAD
            .decode(claims)
            .map_err(|_| TokenError::Invalid)?;
        let claims: UploadClaims =
            serde_json::from_slice(&json).map_err(|_| TokenError::Invalid)?;
        if now.0 > claims.expires {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("TokenSecret(<redacted>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token this secret made (or changed since).
    Invalid,
    Expired,
    /// A good token whose key is outside the caller's space (another signed-in user's upload):
    /// the `Signer` checks this, the secret cannot.
    OtherUser,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> TokenSecret {
        TokenSecret::new(b"0123456789abcdef0123456789abcdef").unwrap()
    }

    fn claims() -> UploadClaims {
        UploadClaims::single("uploads/ab/cat.png".into(), "image/png".into(), 42, 1_000)
    }

    #[test]
    fn a_token_round_trips_until_it_expires() {
        let token = secret().issue(&claims());
        assert!(token.starts_with("v1."), "{token}");
        assert_eq!(secret().verify(&token, UnixTime(1_000)), Ok(claims()));
        assert_eq!(
            secret().verify(&token, UnixTime(1_001)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn the_format_is_fixed() {
        // The claims part is the pinned JSON of `shared`, in base64url.
        let token = secret().issue(&claims());
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            URL_SAFE_NO_PAD.decode(parts[1]).unwrap(),
            br#"{"key":"uploads/ab/cat.png","contentType":"image/png","size":42,"expires":1000}"#
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().len(), 32);
    }

    #[test]
    fn another_secret_or_any_change_is_refused() {
        let token = secret().issue(&claims());
        let other = TokenSecret::new(&[7u8; 32]).unwrap();
        assert_eq!(other.verify(&token, UnixTime(0)), Err(TokenError::Invalid));

        // Claims of another size with the old MAC.
        let bigger = UploadClaims {
            size: 43,
            ..claims()
        };
        let (_, tag) = token.rsplit_once('.').unwrap();
        let forged = format!(
            "v1.{}.{tag}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&bigger).unwrap())
        );
        assert_eq!(
            secret().verify(&forged, UnixTime(0)),
            Err(TokenError::Invalid)
        );

        // Every single-character change anywhere in the token.
        for at in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).unwrap();
            if changed != token {
                assert!(secret().verify(&changed, UnixTime(0)).is_err(), "{changed}");
            }
        }
        for junk in ["", ".", "..", "v1..", "v2.e30.AA", "v1.e30", "not a token"] {
            assert_eq!(secret().verify(junk, UnixTime(0)), Err(TokenError::Invalid));
        }
        assert_eq!(
            secret().verify(&"v1.".repeat(2000), UnixTime(0)),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn short_secrets_are_refused_and_debug_hides_it() {
        assert!(TokenSecret::new(&[1u8; 31]).is_none());
        assert_eq!(format!("{:?}", secret()), "TokenSecret(<redacted>)");
        let a = TokenSecret::generate().unwrap();
        let b = TokenSecret::generate().unwrap();
        assert_ne!(a, b);
    }
}
