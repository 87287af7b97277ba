//! The authenticated mode (AUTH_ISSUER + AUTH_AUDIENCE) against the test OIDC issuer
//! (`local_s3::issuer`, a real HTTP server): the signer's own verification (the local server),
//! API Gateway's verified claims (Lambda), one user never getting a key or a form in another's
//! space, and every refusal a 401 JSON error the page can read (CORS).

mod common;

use http::Method;
use serde_json::{Value, json};
use shared::{ErrorBody, ErrorCode, SignResponse};
use signer::auth::{Caller, Verifier};
use signer::key::UploadId;
use signer::step::Step;
use signer::time::UnixTime;
use signer::{Config, Incoming, Signer};

const AUDIENCE: &str = "page-client";
const ORIGIN: &str = "https://page.example";
const SECRET: &str = "a token secret of at least 32 bytes!";

fn runtime() -> tokio::runtime::Runtime {
    // Worker threads serve the issuer while the test blocks on the signer.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn now() -> UnixTime {
    UnixTime::now()
}

/// A test issuer, and a signer for it whose keys came from it by discovery.
fn setup(rt: &tokio::runtime::Runtime) -> (local_s3::issuer::Issuer, Signer) {
    let issuer = rt
        .block_on(local_s3::issuer::start(
            local_s3::issuer::IssuerConfig { token_seconds: 600 },
            ([127, 0, 0, 1], 0).into(),
        ))
        .unwrap();
    let verifier = rt
        .block_on(signer::oidc::fetch_verifier(&issuer.url()))
        .expect("discovery and JWKS");
    let url = issuer.url();
    let vars = [
        ("UPLOAD_BUCKET", "auth-bucket"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "SECRET"),
        ("UPLOAD_TOKEN_SECRET", SECRET),
        ("ALLOWED_ORIGINS", ORIGIN),
        ("AUTH_ISSUER", url.as_str()),
        ("AUTH_AUDIENCE", AUDIENCE),
    ];
    let signer = Signer::new(Config::from_pairs(&vars).unwrap()).with_verifier(verifier);
    (issuer, signer)
}

fn token(issuer: &str, subject: &str) -> String {
    local_s3::issuer::mint(issuer, AUDIENCE, subject, now().0 + 600)
}

fn post(
    signer: &Signer,
    path: &str,
    body: &Value,
    caller: Caller,
    id: u8,
) -> http::Response<String> {
    let body = body.to_string();
    signer.handle(
        &Incoming {
            method: &Method::POST,
            path,
            origin: Some(ORIGIN),
            body: body.as_bytes(),
            caller,
            origin_secret: None,
        },
        now(),
        UploadId([id; 16]),
    )
}

fn file() -> Value {
    json!({"filename": "report.pdf", "contentType": "application/pdf", "size": 1000})
}

fn code(response: &http::Response<String>) -> ErrorCode {
    serde_json::from_str::<ErrorBody>(response.body())
        .unwrap_or_else(|e| panic!("{e}: {}", response.body()))
        .error
        .code
}

fn unauthorized(response: &http::Response<String>, expected: ErrorCode) {
    assert_eq!(response.status(), 401, "{}", response.body());
    assert_eq!(code(response), expected);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    // The page can read why: the refusal carries the CORS header of an allowed origin.
    assert_eq!(response.headers()["access-control-allow-origin"], ORIGIN);
}

/// The S3 call a `multipart/create` of a 100 MB file by `token`'s user asks for.
fn create(signer: &Signer, token: &str, id: u8) -> signer::step::S3Call {
    let big = json!({"filename": "big.bin", "contentType": "application/octet-stream", "size": 100_000_000});
    let step = signer.begin(
        &Incoming {
            method: &Method::POST,
            path: "/multipart/create",
            origin: Some(ORIGIN),
            body: big.to_string().as_bytes(),
            caller: Caller::Bearer(token),
            origin_secret: None,
        },
        now(),
        UploadId([id; 16]),
    );
    let Step::Call(call) = step else {
        panic!("create calls S3")
    };
    call
}

fn signed(response: &http::Response<String>) -> SignResponse {
    assert_eq!(response.status(), 200, "{}", response.body());
    serde_json::from_str(response.body()).unwrap()
}

#[test]
fn only_good_tokens_get_forms() {
    let rt = runtime();
    let (issuer, signer) = setup(&rt);
    let url = issuer.url();
    unauthorized(
        &post(&signer, "/sign", &file(), Caller::Anonymous, 1),
        ErrorCode::SignInRequired,
    );
    unauthorized(
        &post(&signer, "/sign", &file(), Caller::Bearer(""), 1),
        ErrorCode::SignInRequired,
    );
    let forged = local_s3::issuer::sign_claims(
        &json!({"iss": url, "aud": AUDIENCE, "sub": "alice", "exp": now().0 + 600}),
        local_s3::issuer::FOREIGN_KEY_PEM,
    );
    let other_audience = local_s3::issuer::mint(&url, "another-client", "alice", now().0 + 600);
    let other_issuer =
        local_s3::issuer::mint("https://evil.example", AUDIENCE, "alice", now().0 + 600);
    let mistyped_exp = local_s3::issuer::sign_claims(
        &json!({"iss": url, "aud": AUDIENCE, "sub": "alice", "exp": "never"}),
        local_s3::issuer::KEY_PEM,
    );
    let good = token(&url, "alice");
    let mut tampered = good.clone();
    tampered.insert(good.find('.').unwrap() + 3, 'x');
    for bad in [
        forged.as_str(),
        &other_audience,
        &other_issuer,
        &mistyped_exp,
        &tampered,
        "not.a.jwt",
        "x",
    ] {
        unauthorized(
            &post(&signer, "/sign", &file(), Caller::Bearer(bad), 1),
            ErrorCode::SignInRequired,
        );
    }
    let expired = local_s3::issuer::mint(&url, AUDIENCE, "alice", now().0 - 120);
    unauthorized(
        &post(&signer, "/sign", &file(), Caller::Bearer(&expired), 1),
        ErrorCode::SessionExpired,
    );
    // A multipart create is refused before anything reaches S3.
    unauthorized(
        &post(
            &signer,
            "/multipart/create",
            &json!({"filename": "big.bin", "contentType": "application/octet-stream", "size": 100_000_000}),
            Caller::Anonymous,
            1,
        ),
        ErrorCode::SignInRequired,
    );
    // The rules stay public: the page reads them before anyone signs in.
    let rules = signer.handle(
        &Incoming {
            method: &Method::GET,
            path: "/rules",
            origin: Some(ORIGIN),
            body: b"",
            caller: Caller::Anonymous,
            origin_secret: None,
        },
        now(),
        UploadId([1; 16]),
    );
    assert_eq!(rules.status(), 200);

    let form = signed(&post(&signer, "/sign", &file(), Caller::Bearer(&good), 1));
    assert_eq!(
        form.key,
        format!("uploads/alice/{}/report.pdf", "01".repeat(16))
    );
    assert_eq!(form.fields.get("key"), Some(form.key.as_str()));
    // Cognito's access tokens name the client in `client_id`, not `aud`.
    let access = local_s3::issuer::sign_claims(
        &json!({"iss": url, "client_id": AUDIENCE, "sub": "carol", "exp": now().0 + 600, "token_use": "access"}),
        local_s3::issuer::KEY_PEM,
    );
    assert!(
        signed(&post(&signer, "/sign", &file(), Caller::Bearer(&access), 2))
            .key
            .starts_with("uploads/carol/")
    );
}

#[test]
fn one_user_never_writes_into_another_users_space() {
    let rt = runtime();
    let (issuer, signer) = setup(&rt);
    let (alice, bob) = (token(&issuer.url(), "alice"), token(&issuer.url(), "bob"));
    let alices = signed(&post(&signer, "/sign", &file(), Caller::Bearer(&alice), 1));
    // Bob with Alice's upload token (a retry of her file): refused, nothing signed.
    let mut retry = file();
    retry["token"] = json!(alices.token);
    let response = post(&signer, "/sign", &retry, Caller::Bearer(&bob), 2);
    assert_eq!(response.status(), 403, "{}", response.body());
    assert_eq!(code(&response), ErrorCode::InvalidToken);
    // Alice herself gets the same key again.
    assert_eq!(
        signed(&post(&signer, "/sign", &retry, Caller::Bearer(&alice), 3)).key,
        alices.key
    );
    // Names that try to climb out stay in Bob's space.
    for name in [
        "../alice/report.pdf",
        "/uploads/alice/x",
        "..\\alice\\x",
        "alice/../../x",
    ] {
        let mut body = file();
        body["filename"] = json!(name);
        let form = signed(&post(&signer, "/sign", &body, Caller::Bearer(&bob), 4));
        assert!(
            form.key.starts_with("uploads/bob/0404"),
            "{name}: {}",
            form.key
        );
    }
    // A subject that looks like a path or another user is one segment of its own.
    let tricky = token(&issuer.url(), "../alice");
    let form = signed(&post(&signer, "/sign", &file(), Caller::Bearer(&tricky), 5));
    assert!(form.key.starts_with("uploads/..%2Falice/"), "{}", form.key);

    // Multipart: create plans in the caller's space (the S3 call's URL says where) ...
    let call = create(&signer, &alice, 6);
    assert!(call.url.contains("/uploads/alice/0606"), "{}", call.url);
    // ... and a multipart token of Alice's is refused for Bob on every later call.
    let claims = shared::UploadClaims {
        upload_id: Some("upload-1".into()),
        part_size: Some(8 * 1024 * 1024),
        ..shared::UploadClaims::single(
            "uploads/alice/0606/big.bin".into(),
            "application/octet-stream".into(),
            100_000_000,
            now().0 + 3600,
        )
    };
    let multipart_token = signer::token::TokenSecret::new(SECRET.as_bytes())
        .unwrap()
        .issue(&claims);
    for (path, body) in [
        (
            "/multipart/sign-parts",
            json!({"token": multipart_token, "parts": [{"number": 1, "md5": "1B2M2Y8AsgTpgAmY7PhCfg=="}]}),
        ),
        ("/multipart/list", json!({"token": multipart_token})),
        ("/multipart/complete", json!({"token": multipart_token})),
        ("/multipart/abort", json!({"token": multipart_token})),
    ] {
        let response = post(&signer, path, &body, Caller::Bearer(&bob), 7);
        assert_eq!(response.status(), 403, "{path}: {}", response.body());
        assert_eq!(code(&response), ErrorCode::InvalidToken, "{path}");
    }
    let response = post(
        &signer,
        "/multipart/sign-parts",
        &json!({"token": multipart_token, "parts": [{"number": 1, "md5": "1B2M2Y8AsgTpgAmY7PhCfg=="}]}),
        Caller::Bearer(&alice),
        7,
    );
    assert_eq!(response.status(), 200, "{}", response.body());
}

/// Issue #20: what runs after an upload can name its uploader. Every signed-in form records the
/// user on the object (`x-amz-meta-uploader`, their key segment, pinned in the policy so a form
/// without it or naming another is refused), and so does every multipart create (a signed
/// header of S3's CreateMultipartUpload).
#[test]
fn each_object_records_its_uploader() {
    let rt = runtime();
    let (issuer, signer) = setup(&rt);
    let alice = token(&issuer.url(), "auth0|42");
    let form = signed(&post(&signer, "/sign", &file(), Caller::Bearer(&alice), 1));
    assert!(form.key.starts_with("uploads/auth0%7C42/"), "{}", form.key);
    assert_eq!(form.fields.get("x-amz-meta-uploader"), Some("auth0%7C42"));
    use base64::Engine as _;
    let policy: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(form.fields.get("policy").unwrap())
            .unwrap(),
    )
    .unwrap();
    assert!(
        policy["conditions"]
            .as_array()
            .unwrap()
            .contains(&json!({"x-amz-meta-uploader": "auth0%7C42"})),
        "{policy}"
    );
    let call = create(&signer, &alice, 2);
    let header = |name: &str| {
        call.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("x-amz-meta-uploader"), Some("auth0%7C42"));
    assert!(
        header("authorization").is_some_and(|a| a.contains("x-amz-meta-uploader")),
        "the uploader is a signed header"
    );
}

#[test]
fn under_lambda_only_the_authorizers_claims_count() {
    let vars = [
        ("UPLOAD_BUCKET", "example-uploads"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLEROLE"),
        ("AWS_SECRET_ACCESS_KEY", "role/secret"),
        ("ALLOWED_ORIGINS", "https://uploads.example.com"),
        ("UPLOAD_TOKEN_SECRET", SECRET),
        (
            "AUTH_ISSUER",
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example",
        ),
        ("AUTH_AUDIENCE", "4example7clientid"),
    ];
    // No verifier: as under Lambda, where API Gateway's JWT authorizer checks the token.
    let signer = Signer::new(Config::from_pairs(&vars).unwrap());
    let now = UnixTime(1_795_995_600);
    let event = include_str!("events/apigw_v2_sign_jwt.json");
    let request = lambda_http::request::from_str(event).unwrap();
    let response = signer::lambda::respond(&signer, &request, now, UploadId([0x5a; 16]));
    assert_eq!(response.status(), 200);
    let lambda_http::Body::Text(text) = response.body() else {
        panic!("text")
    };
    let form: SignResponse = serde_json::from_str(text).unwrap();
    assert_eq!(
        form.key,
        format!(
            "uploads/3f6c2a9e-7d41-4b8e-a1c5-0e9d8b7a6f51/{}/cat.png",
            "5a".repeat(16)
        )
    );
    // The same request without the authorizer's claims (a Function URL, a route without the
    // authorizer): its bearer token is not trusted.
    let mut bare: Value = serde_json::from_str(event).unwrap();
    bare["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("authorizer");
    let request = lambda_http::request::from_str(&bare.to_string()).unwrap();
    let response = signer::lambda::respond(&signer, &request, now, UploadId([0x5a; 16]));
    assert_eq!(response.status(), 401);
    // Claims for another issuer (a misconfigured authorizer) are refused too.
    let mut other: Value = serde_json::from_str(event).unwrap();
    other["requestContext"]["authorizer"]["jwt"]["claims"]["iss"] = json!("https://evil.example");
    let request = lambda_http::request::from_str(&other.to_string()).unwrap();
    assert_eq!(
        signer::lambda::respond(&signer, &request, now, UploadId([0x5a; 16])).status(),
        401
    );
}

#[test]
fn the_local_server_checks_tokens_over_http() {
    let rt = runtime();
    let issuer = rt
        .block_on(local_s3::issuer::start(
            local_s3::issuer::IssuerConfig { token_seconds: 600 },
            ([127, 0, 0, 1], 0).into(),
        ))
        .unwrap();
    let url = issuer.url();
    let signer = common::SignerProcess::start(&[
        ("UPLOAD_BUCKET", "auth-bucket"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "SECRET"),
        ("ALLOWED_ORIGINS", ORIGIN),
        ("AUTH_ISSUER", &url),
        ("AUTH_AUDIENCE", AUDIENCE),
    ]);
    let body = file().to_string();
    let preflight = common::request(
        signer.addr,
        "OPTIONS",
        "/sign",
        &[
            ("Origin", ORIGIN),
            (
                "Access-Control-Request-Headers",
                "authorization,content-type",
            ),
        ],
        b"",
    );
    assert!(
        preflight
            .header("access-control-allow-headers")
            .unwrap_or_default()
            .contains("authorization")
    );
    let refused = common::request(
        signer.addr,
        "POST",
        "/sign",
        &[("Origin", ORIGIN), ("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(refused.status, 401, "{}", refused.text());
    assert_eq!(common::json(&refused)["error"]["code"], "SignInRequired");
    assert_eq!(refused.header("access-control-allow-origin"), Some(ORIGIN));
    let bearer = format!("Bearer {}", token(&url, "alice"));
    let answer = common::request(
        signer.addr,
        "POST",
        "/sign",
        &[("Origin", ORIGIN), ("Authorization", &bearer)],
        body.as_bytes(),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(
        common::json(&answer)["key"]
            .as_str()
            .unwrap()
            .starts_with("uploads/alice/")
    );
    drop(signer);
    drop(issuer);
}

#[test]
fn configuration_of_the_mode() {
    let base = [
        ("UPLOAD_BUCKET", "b-u-c"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "SECRET"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut vars = base.to_vec();
        vars.extend_from_slice(extra);
        Config::from_pairs(&vars)
    };
    assert!(with(&[]).unwrap().auth.is_none());
    let err = with(&[("AUTH_ISSUER", "https://id.example")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("go together"), "{err}");
    let err = with(&[("AUTH_AUDIENCE", "x")]).unwrap_err().to_string();
    assert!(err.contains("go together"), "{err}");
    let err = with(&[("AUTH_ISSUER", "http://id.example"), ("AUTH_AUDIENCE", "x")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("https"), "{err}");
    let err = with(&[("AUTH_ISSUER", ""), ("AUTH_AUDIENCE", "x")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("AUTH_ISSUER is set but empty"), "{err}");
    assert!(
        with(&[
            ("AUTH_ISSUER", "http://127.0.0.1:9002"),
            ("AUTH_AUDIENCE", "x")
        ])
        .is_ok()
    );
    // A JWKS without a usable key, or a shared-secret key, is refused.
    assert!(Verifier::from_jwks(br#"{"keys":[]}"#).is_err());
    assert!(
        Verifier::from_jwks(br#"{"keys":[{"kty":"oct","k":"c2VjcmV0","alg":"HS256"}]}"#).is_err()
    );
    assert!(Verifier::from_jwks(local_s3::issuer::jwks().as_bytes()).is_ok());
}

#[test]
fn a_signer_whose_issuer_cannot_be_reached_does_not_start() {
    let mut signer = std::process::Command::new(env!("CARGO_BIN_EXE_signer"))
        .env_clear()
        .envs([
            ("UPLOAD_BUCKET", "auth-bucket"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "SECRET"),
            ("SIGNER_ADDR", "127.0.0.1:0"),
            ("AUTH_ISSUER", "http://127.0.0.1:9"),
            ("AUTH_AUDIENCE", AUDIENCE),
        ])
        .output()
        .unwrap();
    assert_eq!(signer.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&std::mem::take(&mut signer.stderr)).into_owned();
    assert!(stderr.contains("sign-in issuer"), "{stderr}");
}

/// Issue #24: the local server reads the issuer's keys again when a token names a key id it
/// lacks (a rotation), at most once a minute however many such tokens come; a key with no
/// `alg` is taken for its type's algorithm.
#[test]
fn the_local_server_reads_the_issuers_keys_again_for_a_new_key_id_once_a_minute() {
    use local_s3::issuer::{FOREIGN_KEY_PEM, NEXT_KEY_PEM, sign_claims};
    let rt = runtime();
    let issuer = rt
        .block_on(local_s3::issuer::start(
            local_s3::issuer::IssuerConfig { token_seconds: 600 },
            ([127, 0, 0, 1], 0).into(),
        ))
        .unwrap();
    let url = issuer.url();
    let signer = common::SignerProcess::start(&[
        ("UPLOAD_BUCKET", "auth-bucket"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "SECRET"),
        ("ALLOWED_ORIGINS", ORIGIN),
        ("AUTH_ISSUER", &url),
        ("AUTH_AUDIENCE", AUDIENCE),
    ]);
    assert_eq!(issuer.jwks_fetches(), 1, "read once at start");
    let sign = |token: &str| {
        let bearer = format!("Bearer {token}");
        common::request(
            signer.addr,
            "POST",
            "/sign",
            &[("Origin", ORIGIN), ("Authorization", &bearer)],
            file().to_string().as_bytes(),
        )
    };
    let claims = |subject: &str| json!({"iss": url, "aud": AUDIENCE, "sub": subject, "exp": now().0 + 600, "token_use": "id"});
    // A known key id reads nothing again.
    assert_eq!(sign(&token(&url, "alice")).status, 200);
    assert_eq!(issuer.jwks_fetches(), 1);
    // The issuer rotates: a token by its new key (published without `alg`) is taken.
    issuer.rotate();
    let answer = sign(&sign_claims(&claims("bob"), NEXT_KEY_PEM));
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(
        common::json(&answer)["key"]
            .as_str()
            .unwrap()
            .starts_with("uploads/bob/")
    );
    assert_eq!(issuer.jwks_fetches(), 2);
    // Made-up key ids, within the minute: refused, and the keys are not read again.
    for n in 0..5 {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(format!("made-up-{n}"));
        let key = jsonwebtoken::EncodingKey::from_ec_pem(FOREIGN_KEY_PEM.as_bytes()).unwrap();
        let forged = jsonwebtoken::encode(&header, &claims("mallory"), &key).unwrap();
        let refused = sign(&forged);
        assert_eq!(refused.status, 401, "{}", refused.text());
    }
    assert_eq!(issuer.jwks_fetches(), 2);
    drop(signer);
    drop(issuer);
}

#[test]
fn keys_without_alg_are_taken_for_their_type_and_an_alg_must_fit_the_type() {
    let ec = |alg: &str| {
        format!(
            r#"{{"keys":[{{"kty":"EC","crv":"P-256","x":"BFuJt7Hc-lXMB1RBgKI1533gfBeKqSzaLIR6YOdjigI","y":"fsuIgblRaQ4BPaRL9Bc9egG3Hy7lAmYmmvKfmp2Wt7M","kid":"test-issuer-1"{alg}}}]}}"#
        )
    };
    let config = signer::auth::AuthConfig {
        issuer: "https://id.example".into(),
        audience: AUDIENCE.into(),
    };
    let token = local_s3::issuer::mint("https://id.example", AUDIENCE, "alice", now().0 + 600);
    let without = Verifier::from_jwks(ec("").as_bytes()).unwrap();
    assert_eq!(without.verify(&token, &config, now()), Ok("alice".into()));
    let named = Verifier::from_jwks(ec(r#","alg":"ES256""#).as_bytes()).unwrap();
    assert_eq!(named.verify(&token, &config, now()), Ok("alice".into()));
    // An EC key said to be for RS256 (or HS256) is no key.
    assert!(Verifier::from_jwks(ec(r#","alg":"RS256""#).as_bytes()).is_err());
    assert!(Verifier::from_jwks(ec(r#","alg":"HS256""#).as_bytes()).is_err());
    // An unknown key id is worth reading the keys again; a known one or none is not.
    assert!(!named.names_unknown_key(&token));
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("rotated".into());
    let key = jsonwebtoken::EncodingKey::from_ec_pem(local_s3::issuer::KEY_PEM.as_bytes()).unwrap();
    let rotated = jsonwebtoken::encode(&header, &json!({"sub": "a"}), &key).unwrap();
    assert!(named.names_unknown_key(&rotated));
    assert!(!named.names_unknown_key("not a token"));
}
