//! Who may upload. Anonymous by default (a drop box); with `AUTH_ISSUER` and `AUTH_AUDIENCE` set,
//! only callers with a sign-in token (a JWT) from that OIDC issuer for that audience get forms, and
//! each gets keys only in their own space, `<prefix><subject>/<unique id>/<name>`.
//!
//! Under Lambda, API Gateway's JWT authorizer verifies the token and puts its claims in the event
//! (`lambda.rs` reads them); the local server hands the raw bearer token here, and this module
//! verifies it with the issuer's published keys (fetched at start by `oidc.rs`, and again when a
//! token names a key they lack), with the same rules: signature by one of the issuer's keys,
//! `iss`, `aud` (or Cognito's `client_id`), `exp` and `nbf`. Either kind of token passes, ID or
//! access, as with API Gateway's authorizer; the page sends its ID token. Pure: the time is
//! passed in.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::sigv4::hex;
use crate::time::UnixTime;

/// The authenticated mode's settings (`AUTH_ISSUER`, `AUTH_AUDIENCE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// The `iss` every token must state, e.g. `https://cognito-idp.eu-west-1.amazonaws.com/<pool>`.
    pub issuer: String,
    /// The `aud` (or `client_id`) every token must state: the page's client id.
    pub audience: String,
}

/// Who a request says it comes from, as the edge saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller<'a> {
    /// No sign-in token.
    Anonymous,
    /// `Authorization: Bearer <token>`, not verified yet (the local server).
    Bearer(&'a str),
    /// Claims a JWT authorizer in front of the signer verified (API Gateway under Lambda).
    Verified {
        subject: &'a str,
        issuer: Option<&'a str>,
    },
}

impl<'a> Caller<'a> {
    /// The caller from an `Authorization` header's value.
    pub fn from_authorization(value: Option<&'a http::HeaderValue>) -> Caller<'a> {
        let Some(value) = value.and_then(|v| v.to_str().ok()) else {
            return Caller::Anonymous;
        };
        match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                Caller::Bearer(token.trim())
            }
            _ => Caller::Bearer(""),
        }
    }
}

/// Why a caller is not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    /// No token at all.
    Missing,
    /// A token this signer does not accept (signature, issuer, audience, form), with the reason
    /// for the log.
    Invalid(&'static str),
    /// A valid token past its `exp`.
    Expired,
}

/// The issuer's public keys, from its JWKS document.
#[derive(Clone)]
pub struct Verifier {
    keys: Vec<IssuerKey>,
}

#[derive(Clone)]
struct IssuerKey {
    id: Option<String>,
    /// The key's `alg`, or, for a key that names none, every JWT algorithm of its type.
    algorithms: Vec<Algorithm>,
    key: DecodingKey,
}

/// The JWT signature algorithms a public key of this type verifies (RFC 7518): what a key that
/// names no `alg` is taken for. Never a shared-secret (`oct`) key: in a public document it would
/// let anyone sign.
fn algorithms_of(parameters: &AlgorithmParameters) -> Vec<Algorithm> {
    match parameters {
        AlgorithmParameters::RSA(_) => vec![
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => Vec::new(),
        },
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            vec![Algorithm::EdDSA]
        }
        _ => Vec::new(),
    }
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<_> = self.keys.iter().map(|k| (&k.id, &k.algorithms)).collect();
        f.debug_struct("Verifier").field("keys", &ids).finish()
    }
}

/// The claims a sign-in token must have. Typed: an `exp` that is not a number is no token.
#[derive(Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    exp: u64,
    #[serde(default)]
    nbf: Option<u64>,
    #[serde(default)]
    aud: Option<Audience>,
    /// Cognito's access tokens name the client here instead of in `aud`.
    #[serde(default)]
    client_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// Clock difference allowed between the issuer and the signer, as API Gateway allows.
const LEEWAY_SECONDS: u64 = 60;

impl Verifier {
    /// The keys of a JWKS document (`{"keys":[…]}`); keys of kinds a JWT cannot be verified with
    /// (encryption keys, unknown algorithms) are skipped. An error when none is usable.
    pub fn from_jwks(json: &[u8]) -> Result<Verifier, String> {
        let set: JwkSet =
            serde_json::from_slice(json).map_err(|e| format!("not a JWKS document: {e}"))?;
        let keys: Vec<IssuerKey> = set
            .keys
            .iter()
            .filter(|jwk| {
                !matches!(
                    jwk.common.public_key_use,
                    Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
                )
            })
            .filter_map(|jwk| {
                // A key's `alg` (optional in RFC 7517) must be one its type verifies; a key
                // without one (some issuers leave it out) is taken for its type's algorithms.
                let of_type = algorithms_of(&jwk.algorithm);
                let algorithms = match jwk.common.key_algorithm {
                    Some(named) => {
                        let named: Algorithm = named.to_string().parse().ok()?;
                        of_type.contains(&named).then(|| vec![named])?
                    }
                    None => of_type,
                };
                if algorithms.is_empty() {
                    return None;
                }
                let key = DecodingKey::from_jwk(jwk).ok()?;
                Some(IssuerKey {
                    id: jwk.common.key_id.clone(),
                    algorithms,
                    key,
                })
            })
            .collect();
        if keys.is_empty() {
            return Err("the issuer's JWKS has no key that can verify a JWT".into());
        }
        Ok(Verifier { keys })
    }

    /// Whether `token` names a key id (`kid`) none of these keys has: the issuer may have added a
    /// key since they were read (a rotation), so they are worth reading again.
    pub fn names_unknown_key(&self, token: &str) -> bool {
        jsonwebtoken::decode_header(token)
            .ok()
            .and_then(|header| header.kid)
            .is_some_and(|kid| !self.keys.iter().any(|k| k.id.as_deref() == Some(&kid)))
    }

    /// The token's subject, if the token is good at `now` for `config`: an ID token (its `aud`
    /// is the page's client id) or an access token naming the client in `aud` or, as Cognito's
    /// do, in `client_id`, as API Gateway's JWT authorizer takes them.
    pub fn verify(
        &self,
        token: &str,
        config: &AuthConfig,
        now: UnixTime,
    ) -> Result<String, AuthError> {
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid("not a JWT"))?;
        let key = self
            .keys
            .iter()
            .find(|k| {
                k.algorithms.contains(&header.alg)
                    && (header.kid.is_none() || k.id.is_none() || k.id == header.kid)
            })
            .ok_or(AuthError::Invalid(
                "signed with a key the issuer does not publish",
            ))?;
        // Signature and algorithm by the library; the claims below, against the passed-in time.
        let mut validation = Validation::new(header.alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map_err(|_| AuthError::Invalid("bad signature or claims"))?
            .claims;
        if claims.iss != config.issuer {
            return Err(AuthError::Invalid("another issuer"));
        }
        let audience_matches = match &claims.aud {
            Some(Audience::One(aud)) => *aud == config.audience,
            Some(Audience::Many(list)) => list.contains(&config.audience),
            None => false,
        } || claims.client_id.as_deref() == Some(config.audience.as_str());
        if !audience_matches {
            return Err(AuthError::Invalid("another audience"));
        }
        if claims.nbf.is_some_and(|nbf| nbf > now.0 + LEEWAY_SECONDS) {
            return Err(AuthError::Invalid("not valid yet"));
        }
        if claims.exp + LEEWAY_SECONDS <= now.0 {
            return Err(AuthError::Expired);
        }
        if claims.sub.is_empty() {
            return Err(AuthError::Invalid("no subject"));
        }
        Ok(claims.sub)
    }
}

/// Subjects longer than this (after encoding) are stored as a hash.
const MAX_SUBJECT_SEGMENT: usize = 128;

/// The key prefix of one user's space: `<prefix><subject>/`. The subject is one key segment,
/// encoded injectively (letters, digits, `-`, `_` and `.` kept, every other byte `%XX`, a
/// subject of only dots encoded whole), so two subjects never share a space; a very long
/// subject becomes `~` and its SHA-256 (`~` never appears in an encoded subject).
pub fn user_space(prefix: &str, subject: &str) -> String {
    let only_dots = subject.bytes().all(|b| b == b'.');
    let mut segment = String::with_capacity(subject.len());
    for &b in subject.as_bytes() {
        if (b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) && !only_dots {
            segment.push(b as char);
        } else {
            segment.push('%');
            segment.push_str(&hex(&[b]).to_ascii_uppercase());
        }
    }
    if segment.len() > MAX_SUBJECT_SEGMENT {
        use sha2::Digest;
        segment = format!("~{}", hex(&sha2::Sha256::digest(subject.as_bytes())));
    }
    format!("{prefix}{segment}/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_are_one_segment_and_never_shared() {
        assert_eq!(user_space("uploads/", "alice"), "uploads/alice/");
        assert_eq!(user_space("uploads/", "auth0|42"), "uploads/auth0%7C42/");
        assert_eq!(user_space("uploads/", ".."), "uploads/%2E%2E/");
        assert_eq!(user_space("uploads/", "a/b"), "uploads/a%2Fb/");
        // `%` itself is encoded, so a subject cannot spell another's encoding.
        assert_ne!(user_space("p/", "a%2Fb"), user_space("p/", "a/b"));
        let long = "x".repeat(500);
        let space = user_space("p/", &long);
        assert!(
            space.starts_with("p/~") && space.len() == 2 + 1 + 64 + 1,
            "{space}"
        );
        assert_ne!(space, user_space("p/", &"x".repeat(501)));
        for subject in ["alice", "Alice", "al ice", "ALICE", "a.b", "a_b", "é"] {
            let space = user_space("p/", subject);
            assert_eq!(space.matches('/').count(), 2, "{space}");
        }
    }

    #[test]
    fn authorization_headers() {
        let value = http::HeaderValue::from_static("Bearer abc.def.ghi");
        assert_eq!(
            Caller::from_authorization(Some(&value)),
            Caller::Bearer("abc.def.ghi")
        );
        let value = http::HeaderValue::from_static("bearer  xyz ");
        assert_eq!(
            Caller::from_authorization(Some(&value)),
            Caller::Bearer("xyz")
        );
        let value = http::HeaderValue::from_static("Basic dXNlcg==");
        assert_eq!(Caller::from_authorization(Some(&value)), Caller::Bearer(""));
        assert_eq!(Caller::from_authorization(None), Caller::Anonymous);
    }
}
