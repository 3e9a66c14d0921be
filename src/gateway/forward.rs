//! Sending a request upstream: to the launch's base URL, or — when the preset lists
//! more than one — to the first that answers, trying the next on a connect error, a
//! 5xx or no response in time (a response that has started is never retried). A
//! simple circuit breaker per base URL skips one that failed three times in a row for
//! 30 seconds (unless it is the last left to try).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Request, Response, Uri};

use super::Shared;
use super::upstream::{Upstream, host};

/// A request body going upstream: streamed through, or held for a retry.
pub type RequestBody = Either<Incoming, Full<Bytes>>;

/// Failures in a row that open a breaker.
const TRIP_AFTER: u32 = 3;
/// How long an open breaker skips its base URL.
const OPEN_FOR: Duration = Duration::from_secs(30);
/// How long a failover-enabled request waits for the response to start.
const FIRST_BYTE: Duration = Duration::from_secs(120);

/// Each base URL's recent failures.
#[derive(Debug, Default)]
pub struct Breakers {
    state: Mutex<HashMap<String, (u32, Option<Instant>)>>,
}

impl Breakers {
    fn is_open(&self, base: &str) -> bool {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state
            .get(base)
            .and_then(|(_, until)| *until)
            .is_some_and(|until| Instant::now() < until)
    }

    fn record(&self, base: &str, ok: bool) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let entry = state.entry(base.to_owned()).or_default();
        if ok {
            *entry = (0, None);
        } else {
            entry.0 += 1;
            if entry.0 >= TRIP_AFTER {
                entry.1 = Some(Instant::now() + OPEN_FOR);
            }
        }
    }
}

/// Sends the request to the upstream (failing over between its base URLs); the
/// response and the host that answered.
pub async fn send(
    shared: &Shared,
    upstream: &Upstream,
    parts: &Parts,
    path_and_query: &str,
    body: RequestBody,
) -> Result<(Response<Incoming>, String), String> {
    if upstream.alternates.is_empty() {
        let request = build(parts, &upstream.base_url, path_and_query, body)?;
        return match shared.client.request(request).await {
            Ok(response) => Ok((response, upstream.provider())),
            Err(e) => Err(unreachable(upstream, &upstream.base_url, &e.to_string())),
        };
    }
    // Several base URLs: the body is held so it can be sent again.
    let bytes = body
        .collect()
        .await
        .map_err(|e| format!("aiswitch gateway: the request body was cut off: {e}"))?
        .to_bytes();
    let bases: Vec<&str> = upstream.bases().collect();
    let mut last_error = String::new();
    for (i, base) in bases.iter().enumerate() {
        let last = i + 1 == bases.len();
        if !last && shared.breakers.is_open(base) {
            continue;
        }
        let request = build(
            parts,
            base,
            path_and_query,
            Either::Right(Full::new(bytes.clone())),
        )?;
        let outcome = tokio::time::timeout(FIRST_BYTE, shared.client.request(request)).await;
        match outcome {
            Ok(Ok(response)) if !response.status().is_server_error() || last => {
                shared
                    .breakers
                    .record(base, !response.status().is_server_error());
                return Ok((response, host(base)));
            }
            Ok(Ok(response)) => {
                last_error = format!("answered {}", response.status());
                tracing::warn!(base, status = %response.status(), "upstream failed; trying the next");
            }
            Ok(Err(e)) => {
                last_error = e.to_string();
                tracing::warn!(base, error = %e, "upstream unreachable; trying the next");
            }
            Err(_) => {
                last_error = format!("no answer in {} s", FIRST_BYTE.as_secs());
                tracing::warn!(base, "upstream timed out; trying the next");
            }
        }
        shared.breakers.record(base, false);
    }
    Err(unreachable(
        upstream,
        bases.last().copied().unwrap_or_default(),
        &last_error,
    ))
}

fn unreachable(upstream: &Upstream, base: &str, why: &str) -> String {
    format!(
        "aiswitch gateway: cannot reach {} for preset {}: {why}",
        host(base),
        upstream.preset
    )
}

/// The request for one base URL.
fn build(
    parts: &Parts,
    base: &str,
    path_and_query: &str,
    body: RequestBody,
) -> Result<Request<RequestBody>, String> {
    let uri: Uri = format!("{base}{path_and_query}")
        .parse()
        .map_err(|e| format!("aiswitch gateway: the base URL {base} is not a URL ({e})"))?;
    let mut request = Request::new(body);
    *request.method_mut() = parts.method.clone();
    *request.headers_mut() = parts.headers.clone();
    if let Some(host) = uri
        .authority()
        .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    {
        request.headers_mut().insert(header::HOST, host);
    }
    *request.uri_mut() = uri;
    *request.version_mut() = hyper::Version::HTTP_11;
    Ok(request)
}
