//! The Lambda edge on saved API Gateway HTTP API (payload 2.0) and Function URL events, parsed with
//! `lambda_http::request::from_str` exactly as the runtime does, answered at a fixed time and id.

mod common;

use base64::Engine;
use lambda_http::{Body, Response};
use serde_json::Value;
use signer::key::UploadId;
use signer::time::UnixTime;
use signer::{Config, Signer, lambda};

const ORIGIN: &str = "https://uploads.example.com";
const NOW: UnixTime = UnixTime(1_795_995_600); // 2026-11-29T23:40:00Z

fn signer() -> Signer {
    common::signer(&[
        ("UPLOAD_BUCKET", "example-uploads"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLEROLE"),
        ("AWS_SECRET_ACCESS_KEY", "role/secret"),
        ("AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjEXAMPLETOKEN=="),
        ("ALLOWED_ORIGINS", ORIGIN),
        ("ALLOWED_CONTENT_TYPES", "image/*"),
    ])
}

fn respond(event: &str) -> Response<Body> {
    let request = lambda_http::request::from_str(event).expect("a valid saved event");
    lambda::respond(&signer(), &request, NOW, UploadId([0x5a; 16]))
}

fn body_json(response: &Response<Body>) -> Value {
    match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap(),
        other => panic!("expected a text body, got {other:?}"),
    }
}

fn header<'a>(response: &'a Response<Body>, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

fn check_error(event: &str, status: u16, code: &str) -> Response<Body> {
    let response = respond(event);
    assert_eq!(response.status().as_u16(), status, "{:?}", response.body());
    assert_eq!(body_json(&response)["error"]["code"], code);
    assert_eq!(header(&response, "content-type"), Some("application/json"));
    response
}

fn check_signed(event: &str, filename: &str) {
    let response = respond(event);
    assert_eq!(response.status().as_u16(), 200, "{:?}", response.body());
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some(ORIGIN)
    );
    assert_eq!(header(&response, "vary"), Some("Origin"));
    let body = body_json(&response);
    let key = format!("uploads/5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a/{filename}");
    assert_eq!(body["method"], "POST");
    assert_eq!(
        body["url"],
        "https://example-uploads.s3.eu-west-1.amazonaws.com"
    );
    assert_eq!(body["key"], key.as_str());
    assert_eq!(body["expiresAt"], "2026-11-29T23:50:00Z");
    let fields = &body["fields"];
    assert_eq!(fields["key"], key.as_str());
    assert_eq!(
        fields["x-amz-credential"],
        "ASIAEXAMPLEROLE/20261129/eu-west-1/s3/aws4_request"
    );
    assert_eq!(fields["x-amz-date"], "20261129T234000Z");
    // Lambda role credentials carry a session token: it must be in the form and in the policy.
    assert_eq!(
        fields["x-amz-security-token"],
        "IQoJb3JpZ2luX2VjEXAMPLETOKEN=="
    );
    let policy = base64::engine::general_purpose::STANDARD
        .decode(fields["policy"].as_str().unwrap())
        .unwrap();
    let policy: Value = serde_json::from_slice(&policy).unwrap();
    let conditions = policy["conditions"].as_array().unwrap();
    assert!(
        conditions.contains(
            &serde_json::json!({"x-amz-security-token": "IQoJb3JpZ2luX2VjEXAMPLETOKEN=="})
        )
    );
    assert!(conditions.contains(&serde_json::json!({"key": key})));
}

#[test]
fn api_gateway_http_api_sign() {
    check_signed(include_str!("events/apigw_v2_sign.json"), "cat.png");
}

/// `/sign/batch` under `/api` (as CloudFront forwards it): each file its own answer, the first
/// signed under the batch's first key id, the second refused by the rules.
#[test]
fn api_gateway_sign_batch() {
    let response = respond(include_str!("events/apigw_v2_sign_batch.json"));
    assert_eq!(response.status().as_u16(), 200, "{:?}", response.body());
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some(ORIGIN)
    );
    let body = body_json(&response);
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let id: String = UploadId([0x5a; 16])
        .nth(0)
        .0
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(results[0]["key"], format!("uploads/{id}/cat.png").as_str());
    assert_eq!(results[0]["fields"]["x-amz-date"], "20261129T234000Z");
    assert_eq!(results[1]["error"]["code"], "ContentTypeNotAllowed");
}

#[test]
fn api_gateway_named_stage_is_not_part_of_the_route() {
    check_signed(include_str!("events/apigw_v2_stage_sign.json"), "cat.png");
}

#[test]
fn function_url_base64_body() {
    check_signed(
        include_str!("events/function_url_sign_base64.json"),
        "고양이 #1.png",
    );
}

#[test]
fn rules() {
    let response = respond(include_str!("events/apigw_v2_rules.json"));
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some(ORIGIN)
    );
    let rules: shared::UploadRules = serde_json::from_value(body_json(&response)).unwrap();
    assert_eq!(rules.prefix, "uploads/");
    assert_eq!(rules.allowed_content_types[0].as_str(), "image/*");
}

#[test]
fn preflight() {
    let response = respond(include_str!("events/function_url_preflight.json"));
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some(ORIGIN)
    );
    assert!(
        header(&response, "access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
    assert_eq!(
        header(&response, "access-control-allow-headers"),
        Some("content-type, authorization")
    );
}

#[test]
fn errors_are_4xx_error_bodies() {
    let refused = check_error(
        include_str!("events/function_url_other_origin.json"),
        403,
        "OriginNotAllowed",
    );
    assert_eq!(header(&refused, "access-control-allow-origin"), None);
    assert_eq!(header(&refused, "vary"), Some("Origin"));
    check_error(
        include_str!("events/function_url_malformed.json"),
        400,
        "MalformedRequest",
    );
    let wrong_method = check_error(
        include_str!("events/function_url_put_rules.json"),
        405,
        "MethodNotAllowed",
    );
    assert_eq!(header(&wrong_method, "allow"), Some("GET, HEAD, OPTIONS"));
    check_error(
        include_str!("events/function_url_unknown_path.json"),
        404,
        "NotFound",
    );
}

/// Behind CloudFront (`ORIGIN_SECRET` set, as the template sets it): the saved event as it comes
/// through the distribution, which adds `X-Origin-Secret`, is signed; the same event straight to
/// the API's execute-api address, without it or with another, is refused.
#[test]
fn behind_cloudfront_only_requests_through_it_are_answered() {
    const SECRET: &str = "0f6c5e2a-3d4b-4e1f-9a8b-7c6d5e4f3a2b";
    let event: Value = serde_json::from_str(include_str!("events/apigw_v2_sign.json")).unwrap();
    let vars = [
        ("UPLOAD_BUCKET", "example-uploads"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLEROLE"),
        ("AWS_SECRET_ACCESS_KEY", "role/secret"),
        ("ALLOWED_ORIGINS", ORIGIN),
        ("ALLOWED_CONTENT_TYPES", "image/*"),
        ("ORIGIN_SECRET", SECRET),
    ];
    let signer = Signer::new(Config::from_pairs(&vars).unwrap());
    let answer = |secret: Option<&str>| {
        let mut event = event.clone();
        if let Some(secret) = secret {
            event["headers"]["x-origin-secret"] = Value::from(secret);
        }
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        lambda::respond(&signer, &request, NOW, UploadId([0x5a; 16]))
    };
    assert_eq!(answer(Some(SECRET)).status().as_u16(), 200);
    for wrong in [None, Some("0f6c5e2a-3d4b-4e1f-9a8b-7c6d5e4f3a2c")] {
        let refused = answer(wrong);
        assert_eq!(refused.status().as_u16(), 403);
        assert_eq!(body_json(&refused)["error"]["code"], "OriginNotAllowed");
    }
}
