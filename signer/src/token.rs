//! Issues and verifies upload tokens (the format and claims: `shared/src/token.rs`).
//!
//! A token is `v2.<key id>.<base64url(claims JSON)>.<base64url(HMAC-SHA256(secret,
//! "v2.<key id>.<claims>"))>`. The secret is the signer's own (`UPLOAD_TOKEN_SECRET`, or the
//! Secrets Manager secret `UPLOAD_TOKEN_SECRET_ARN` names), never the AWS credentials: those
//! rotate (Lambda role sessions last hours), and a token must outlive the credentials that signed
//! its first form. The signer stays stateless: everything it needs to trust a later call is in the
//! token, and nobody without the secret can make or change one.
//!
//! The secret may be several, one a line: the first signs, every one verifies, and a token names
//! the one that signed it by its key id (the first 8 hex digits of a SHA-256 of it, which tells
//! nothing of it). So the secret is rotated with no failed upload: the new one added second, then
//! moved first, the old one dropped once its tokens have expired (a day). Tokens from before key
//! ids (`v1.<claims>.<mac>`) are verified against every secret for their lifetime.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use shared::UploadClaims;

use crate::time::UnixTime;

/// The shortest secret accepted: 256 bits, the HMAC-SHA256 key size.
pub const MIN_SECRET_BYTES: usize = 32;
/// Longest token text looked at (a key of 1024 bytes makes claims of about 1.5 KB in base64).
const MAX_TOKEN_BYTES: usize = 4096;
/// The most secrets one signer holds (the one that signs, the ones being rotated out).
pub const MAX_SECRETS: usize = 4;
/// Tokens with a key id; `v1` tokens (before key ids) are still verified.
const VERSION: &str = "v2";
const VERSION_WITHOUT_KEY_ID: &str = "v1";

/// The HMAC secrets: the first signs, all verify. `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret {
    keys: Vec<Key>,
}

#[derive(Clone, PartialEq, Eq)]
struct Key {
    id: String,
    secret: Vec<u8>,
}

impl Key {
    fn new(secret: &[u8]) -> Key {
        let digest = Sha256::new()
            .chain_update(b"upload-token-key-id\0")
            .chain_update(secret)
            .finalize();
        Key {
            id: crate::sigv4::hex(&digest[..4]),
            secret: secret.to_vec(),
        }
    }

    fn mac(&self, signed: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret)
            .expect("HMAC accepts any key length");
        mac.update(signed);
        mac
    }
}

impl TokenSecret {
    /// One configured secret; `None` when shorter than [`MIN_SECRET_BYTES`].
    pub fn new(secret: &[u8]) -> Option<TokenSecret> {
        (secret.len() >= MIN_SECRET_BYTES).then(|| TokenSecret {
            keys: vec![Key::new(secret)],
        })
    }

    /// The secrets of `UPLOAD_TOKEN_SECRET` (or the Secrets Manager secret): one a line (a
    /// trailing `\r` and blank lines ignored), the first signing; each at least
    /// [`MIN_SECRET_BYTES`], at most [`MAX_SECRETS`] of them, none twice.
    pub fn parse(text: &str) -> Result<TokenSecret, String> {
        let lines: Vec<&str> = text
            .split('\n')
            .map(|line| line.strip_suffix('\r').unwrap_or(line))
            .filter(|line| !line.trim().is_empty())
            .collect();
        if lines.is_empty() {
            return Err("holds no secret".into());
        }
        if lines.len() > MAX_SECRETS {
            return Err(format!(
                "holds {} secrets; at most {MAX_SECRETS} (one signs, the others are being rotated out)",
                lines.len()
            ));
        }
        let mut keys: Vec<Key> = Vec::with_capacity(lines.len());
        for (n, line) in lines.iter().enumerate() {
            if line.len() < MIN_SECRET_BYTES {
                return Err(format!(
                    "secret {} of {} is {} bytes; each must be at least {MIN_SECRET_BYTES} random bytes",
                    n + 1,
                    lines.len(),
                    line.len()
                ));
            }
            let key = Key::new(line.as_bytes());
            if keys.iter().any(|k| k.id == key.id) {
                return Err(format!("secret {} is there twice", n + 1));
            }
            keys.push(key);
        }
        Ok(TokenSecret { keys })
    }

    /// 32 random bytes, for a local signer started without `UPLOAD_TOKEN_SECRET` (its tokens are
    /// then valid until it stops).
    pub fn generate() -> Result<TokenSecret, getrandom::Error> {
        let mut bytes = vec![0u8; MIN_SECRET_BYTES];
        getrandom::fill(&mut bytes)?;
        Ok(TokenSecret {
            keys: vec![Key::new(&bytes)],
        })
    }

    /// The key ids, the signing one first (for logs: they tell nothing of the secrets).
    pub fn key_ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    /// The token stating `claims`, signed by the first secret.
    pub fn issue(&self, claims: &UploadClaims) -> String {
        let key = &self.keys[0];
        let json = serde_json::to_vec(claims).unwrap_or_default();
        let mut token = format!("{VERSION}.{}.{}", key.id, URL_SAFE_NO_PAD.encode(json));
        let tag = key.mac(token.as_bytes()).finalize().into_bytes();
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(tag));
        token
    }

    /// The claims of a token one of these secrets issued, if it has not expired at `now`. The
    /// MAC is checked (in constant time) before the claims are parsed, so nothing an attacker
    /// wrote is read but the key id, which only picks the secret.
    pub fn verify(&self, token: &str, now: UnixTime) -> Result<UploadClaims, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Invalid);
        }
        let (signed, tag) = token.rsplit_once('.').ok_or(TokenError::Invalid)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TokenError::Invalid)?;
        let (version, rest) = signed.split_once('.').ok_or(TokenError::Invalid)?;
        let claims = match version {
            VERSION => {
                let (id, claims) = rest.split_once('.').ok_or(TokenError::Invalid)?;
                let key = self
                    .keys
                    .iter()
                    .find(|k| k.id == id)
                    .ok_or(TokenError::Invalid)?;
                key.mac(signed.as_bytes())
                    .verify_slice(&tag)
                    .map_err(|_| TokenError::Invalid)?;
                claims
            }
            VERSION_WITHOUT_KEY_ID => {
                self.keys
                    .iter()
                    .find(|k| k.mac(signed.as_bytes()).verify_slice(&tag).is_ok())
                    .ok_or(TokenError::Invalid)?;
                rest
            }
            _ => return Err(TokenError::Invalid),
        };
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
        assert!(token.starts_with("v2."), "{token}");
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
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[1], secret().key_ids()[0]);
        assert_eq!(parts[1].len(), 8);
        assert_eq!(
            URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
            br#"{"key":"uploads/ab/cat.png","contentType":"image/png","size":42,"expires":1000}"#
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[3]).unwrap().len(), 32);
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
            "v2.{}.{}.{tag}",
            secret().key_ids()[0],
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
        for junk in [
            "",
            ".",
            "..",
            "v1..",
            "v2.e30.AA",
            "v3.x.e30.AA",
            "v1.e30",
            "not a token",
        ] {
            assert_eq!(secret().verify(junk, UnixTime(0)), Err(TokenError::Invalid));
        }
        assert_eq!(
            secret().verify(&"v1.".repeat(2000), UnixTime(0)),
            Err(TokenError::Invalid)
        );
    }

    /// A v1 token (before key ids), made as the signer made them.
    fn v1_token(secret: &[u8], claims: &UploadClaims) -> String {
        let key = Key::new(secret);
        let signed = format!(
            "v1.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap())
        );
        let tag = key.mac(signed.as_bytes()).finalize().into_bytes();
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    #[test]
    fn secrets_rotate_with_no_token_refused() {
        let old = "o".repeat(32);
        let new = "n".repeat(40);
        let before = TokenSecret::parse(&old).unwrap();
        let token = before.issue(&claims());
        // The new secret added second: it verifies, the old one still signs.
        let adding = TokenSecret::parse(&format!("{old}\n{new}\n")).unwrap();
        assert_eq!(adding.verify(&token, UnixTime(0)), Ok(claims()));
        assert_eq!(adding.issue(&claims()), token);
        // Then moved first: it signs, the old one's tokens still verify.
        let rotated = TokenSecret::parse(&format!("{new}\r\n{old}")).unwrap();
        assert_eq!(rotated.verify(&token, UnixTime(0)), Ok(claims()));
        let fresh = rotated.issue(&claims());
        assert_ne!(fresh, token);
        assert_eq!(adding.verify(&fresh, UnixTime(0)), Ok(claims()));
        // The old one dropped: its tokens no longer verify.
        let after = TokenSecret::parse(&new).unwrap();
        assert_eq!(after.verify(&fresh, UnixTime(0)), Ok(claims()));
        assert_eq!(after.verify(&token, UnixTime(0)), Err(TokenError::Invalid));
        // A token naming one secret's id but signed by another is refused.
        let (_, rest) = fresh.split_once('.').unwrap();
        let (_, rest) = rest.split_once('.').unwrap();
        let swapped = format!("v2.{}.{rest}", before.key_ids()[0]);
        assert_eq!(
            rotated.verify(&swapped, UnixTime(0)),
            Err(TokenError::Invalid)
        );
        // Tokens from before key ids verify against any of the secrets, for their lifetime.
        let v1 = v1_token(old.as_bytes(), &claims());
        assert_eq!(rotated.verify(&v1, UnixTime(0)), Ok(claims()));
        assert_eq!(
            rotated.verify(&v1, UnixTime(1_001)),
            Err(TokenError::Expired)
        );
        assert_eq!(after.verify(&v1, UnixTime(0)), Err(TokenError::Invalid));
    }

    #[test]
    fn a_secret_list_is_refused_when_short_doubled_empty_or_long() {
        assert!(TokenSecret::parse("").is_err());
        assert!(TokenSecret::parse("\n \n").is_err());
        let err = TokenSecret::parse(&format!("{}\nshort", "a".repeat(32))).unwrap_err();
        assert!(err.contains("secret 2 of 2 is 5 bytes"), "{err}");
        let a = "a".repeat(32);
        assert!(
            TokenSecret::parse(&format!("{a}\n{a}"))
                .unwrap_err()
                .contains("twice")
        );
        let five: Vec<String> = (0..5).map(|n| n.to_string().repeat(32)).collect();
        assert!(TokenSecret::parse(&five.join("\n")).is_err());
        assert_eq!(
            TokenSecret::parse(&five[..4].join("\n"))
                .unwrap()
                .key_ids()
                .len(),
            4
        );
        // A secret with spaces in it is one secret.
        assert_eq!(
            TokenSecret::parse("a secret with spaces, 32 bytes or more")
                .unwrap()
                .key_ids()
                .len(),
            1
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
