//! The Lambda edge: the only module that knows `lambda_http`. It turns API Gateway HTTP API and
//! Function URL events into [`Incoming`] requests and the service's answers back into Lambda
//! responses.

use std::sync::Arc;

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response, service_fn};

use crate::answer::Outgoing;
use crate::auth::Caller;
use crate::key::UploadId;
use crate::service::Incoming;
use crate::state::Signer;
use crate::time::UnixTime;

/// Polls the Lambda runtime API for events until the environment is shut down.
pub async fn run(signer: Arc<Signer>) -> Result<(), lambda_http::Error> {
    lambda_http::run(service_fn(move |request: Request| {
        let signer = Arc::clone(&signer);
        async move {
            let response = signer.answer(&incoming(&request)).await;
            Ok::<_, std::convert::Infallible>(into_lambda(response))
        }
    }))
    .await
}

/// Answers one event at a given time with a given id (what the runtime does, minus the clock and
/// the randomness): used by the tests on saved events.
pub fn respond(signer: &Signer, request: &Request, now: UnixTime, id: UploadId) -> Response<Body> {
    into_lambda(signer.handle(&incoming(request), now, id))
}

/// The request as the service sees it. `Body` derefs to its bytes whether it came as text or
/// base64-decoded binary.
fn incoming(request: &Request) -> Incoming<'_> {
    Incoming {
        method: request.method(),
        path: path_without_stage(request),
        origin: crate::service::origin_header(request.headers().get(http::header::ORIGIN)),
        body: request.body(),
        caller: caller(request),
        origin_secret: request
            .headers()
            .get(crate::service::ORIGIN_SECRET_HEADER)
            .and_then(|v| v.to_str().ok()),
    }
}

/// The caller as API Gateway's JWT authorizer verified it: its claims in the event. A bearer
/// token that reached the function without an authorizer (a Function URL, a route without one)
/// is never trusted here: the function does not verify tokens itself under Lambda.
fn caller(request: &Request) -> Caller<'_> {
    let claims = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context
            .authorizer
            .as_ref()
            .and_then(|authorizer| authorizer.jwt.as_ref())
            .map(|jwt| &jwt.claims),
        _ => None,
    };
    match claims.and_then(|claims| Some((claims.get("sub")?, claims.get("iss")))) {
        Some((subject, issuer)) => Caller::Verified {
            subject,
            issuer: issuer.map(String::as_str),
        },
        None => Caller::Anonymous,
    }
}

/// API Gateway puts a named stage in front of the path (`/prod/sign`); the routes do not include it.
fn path_without_stage(request: &Request) -> &str {
    let path = request.uri().path();
    let stage = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.stage.as_deref(),
        _ => None,
    };
    stage
        .filter(|stage| *stage != "$default")
        .and_then(|stage| path.strip_prefix('/')?.strip_prefix(stage))
        .filter(|rest| rest.starts_with('/'))
        .unwrap_or(path)
}

fn into_lambda(response: Outgoing) -> Response<Body> {
    response.map(|body| {
        if body.is_empty() {
            Body::Empty
        } else {
            Body::Text(body)
        }
    })
}
