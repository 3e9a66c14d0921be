//! One request through the gateway: check the launch's token, put the real key in
//! its place, forward to the launch's current upstream, and pass the response back
//! as it streams while the meter reads its usage and the quota headers are noted.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{HeaderMap, Request, Response, StatusCode};
use serde_json::json;

use super::api::Api;
use super::body::{MeteredBody, Translating};
use super::forward::RequestBody;
use super::lease::Resolved;
use super::meter::Meter;
use super::translate::Translation;
use super::{Metered, Observation, QuotaSeen, Report, Shared};
use crate::store::now_ms;

/// What the client receives: the upstream's body, or the gateway's own answer.
pub type GatewayBody = Either<MeteredBody, Full<Bytes>>;

/// Where the client put its token, so the real key goes in the same place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Header(&'static str),
    Bearer,
    Query,
    /// In the path (`/l/TOKEN/...`): a launch with the CLI's own login, whose
    /// credential headers pass through untouched.
    Path,
}

/// The path prefix of a launch whose CLI authenticates itself.
pub const PATH_PREFIX: &str = "/l/";

const X_API_KEY: &str = "x-api-key";
const X_GOOG_API_KEY: &str = "x-goog-api-key";

/// Headers that belong to one hop, never forwarded; `accept-encoding` is dropped
/// so the provider answers uncompressed and the meter can read it.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "te",
    "trailer",
    "host",
    "accept-encoding",
];

fn credential(req: &Request<Incoming>) -> Option<(String, Place)> {
    if let Some(rest) = req.uri().path().strip_prefix(PATH_PREFIX) {
        let token = rest.split('/').next().unwrap_or_default();
        return Some((token.to_owned(), Place::Path));
    }
    let headers = req.headers();
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(key) = text(X_API_KEY) {
        return Some((key.to_owned(), Place::Header(X_API_KEY)));
    }
    if let Some(token) = text("authorization").and_then(|v| v.strip_prefix("Bearer ")) {
        return Some((token.trim().to_owned(), Place::Bearer));
    }
    if let Some(key) = text(X_GOOG_API_KEY) {
        return Some((key.to_owned(), Place::Header(X_GOOG_API_KEY)));
    }
    req.uri()
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("key="))
        .map(|key| (key.to_owned(), Place::Query))
}

/// Serves one request.
pub async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<GatewayBody>, Infallible> {
    Ok(serve(&shared, req).await.unwrap_or_else(|refused| refused))
}

/// A request the gateway took: its launch, what it asks of which API, and the
/// budget reservation made for it.
struct Accepted {
    launch: Resolved,
    token: String,
    place: Place,
    api: Api,
    model_in_path: Option<String>,
    reservation: Option<i64>,
    /// The exchange is translated into the upstream's API (`translate`).
    translation: Option<Translation>,
    /// Code Assist's `retrieveUserQuota`: its answer holds Gemini's quotas.
    quota_answer: bool,
}

/// Why a request goes no further: its status and the message the CLI shows.
type Stop = (StatusCode, String);

async fn serve(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<GatewayBody>, Response<GatewayBody>> {
    let mut accepted =
        accept(shared, &req).map_err(|(api, (status, why))| refusal(api, status, &why))?;
    let in_flight = shared
        .in_flight
        .begin(accepted.launch.info.task_id.as_deref());
    let (mut parts, body) = req.into_parts();
    let sent = async {
        let path_and_query = prepare(
            &mut parts,
            &accepted.launch,
            &accepted.token,
            accepted.place,
        )
        .map_err(|why| (StatusCode::BAD_GATEWAY, why))?;
        // A Responses request to an OpenAI-kind provider is kept, in case the provider
        // has only Chat Completions (a 404): it is then sent again, translated.
        let retry = accepted.api == Api::OpenAiResponses
            && accepted.translation.is_none()
            && accepted.launch.upstream.kind == crate::presets::ProviderKind::Openai;
        let (path_and_query, body, held, log) =
            outgoing(shared, &accepted, &mut parts, path_and_query, body, retry).await?;
        let send = |path: String, body: RequestBody, parts: hyper::http::request::Parts| {
            let upstream = &accepted.launch.upstream;
            async move {
                super::forward::send(shared, upstream, &parts, &path, body)
                    .await
                    .map_err(|why| (StatusCode::BAD_GATEWAY, why))
            }
        };
        let (response, provider) = send(path_and_query, body, parts.clone()).await?;
        match held {
            Some(bytes) if response.status() == StatusCode::NOT_FOUND => {
                shared.mark_chat_only(&accepted.launch.upstream.base_url);
                let (path, bytes) = translated_request(
                    Translation::ResponsesToChat,
                    &accepted.launch,
                    &mut parts,
                    &bytes,
                )?;
                let sent = send(path, Either::Right(Full::new(bytes)), parts.clone()).await?;
                Ok::<_, Stop>((sent.0, sent.1, log, Some(Translation::ResponsesToChat)))
            }
            _ => Ok((response, provider, log, None)),
        }
    }
    .await;
    let (response, provider, log) = match sent {
        Ok((response, provider, log, translated)) => {
            if translated.is_some() {
                accepted.translation = translated;
            }
            (response, provider, log)
        }
        Err((status, why)) => {
            unreserve(shared, &accepted);
            return Err(refusal(accepted.api, status, &why));
        }
    };
    let at_ms = now_ms();
    note_windows(shared, &accepted, &provider, response.headers(), at_ms);
    Ok(metered(
        shared, accepted, provider, response, log, in_flight, at_ms,
    ))
}

/// The launch behind the request's token, and its budget's leave to spend.
fn accept(shared: &Shared, req: &Request<Incoming>) -> Result<Accepted, (Api, Stop)> {
    let Some((token, place)) = credential(req) else {
        let why =
            "aiswitch gateway: this request has no launch token; start the agent through aiswitch";
        return Err((
            Api::of(req.uri().path()),
            (StatusCode::UNAUTHORIZED, why.to_owned()),
        ));
    };
    let path = match place {
        Place::Path => &req.uri().path()[PATH_PREFIX.len() + token.len()..],
        _ => req.uri().path(),
    };
    let api = Api::of(path);
    let model_in_path = Api::model_in_path(path).map(str::to_owned);
    let Some(launch) = shared.table.resolve(&token, now_ms()) else {
        let why = "aiswitch gateway: unknown or ended launch token; start the agent through aiswitch again";
        return Err((api, (StatusCode::UNAUTHORIZED, why.to_owned())));
    };
    // Only requests that spend go through the budget (model lists do not).
    let reservation = match shared.admission.as_ref().filter(|_| api != Api::Other) {
        Some(admit) => {
            admit(&launch).map_err(|refused| (api, (StatusCode::TOO_MANY_REQUESTS, refused)))?
        }
        None => None,
    };
    use crate::presets::ProviderKind::{Anthropic, Openai};
    let translation = match (api, launch.upstream.kind) {
        (Api::AnthropicMessages, Openai) => Some(Translation::AnthropicToChat),
        (Api::OpenAiResponses, Openai) if shared.is_chat_only(&launch.upstream.base_url) => {
            Some(Translation::ResponsesToChat)
        }
        (Api::OpenAiChat, Anthropic) => Some(Translation::ChatToAnthropic),
        (Api::OpenAiResponses, Anthropic) => Some(Translation::ResponsesToAnthropic),
        _ => None,
    };
    Ok(Accepted {
        launch,
        token,
        place,
        api,
        model_in_path,
        reservation,
        translation,
        quota_answer: path.ends_with(":retrieveUserQuota"),
    })
}

/// A request that went no further hands its reservation back.
fn unreserve(shared: &Shared, accepted: &Accepted) {
    if accepted.reservation.is_none() {
        return;
    }
    let launch = &accepted.launch;
    let _ = shared.sink.send(Report {
        observation: Observation::Usage(Metered {
            at_ms: now_ms(),
            info: launch.info.clone(),
            launch: super::lease::short_id(&accepted.token).to_owned(),
            preset: launch.upstream.preset.clone(),
            provider: launch.upstream.provider(),
            model: None,
            tokens: Default::default(),
            status: 0,
            metered: false,
            reservation: accepted.reservation,
        }),
        _pending: shared.in_flight.begin(launch.info.task_id.as_deref()),
    });
}

/// The path and body as they go upstream. The CLI asks for the model it was
/// started with; after a switch (or a fall-back) to a preset with another model,
/// the request carries that one (Gemini's in the path, the others' in the JSON
/// body). The body is held when the model is put in it or it is logged.
async fn outgoing(
    shared: &Shared,
    accepted: &Accepted,
    parts: &mut hyper::http::request::Parts,
    mut path_and_query: String,
    body: Incoming,
    hold: bool,
) -> Result<(String, RequestBody, Option<Bytes>, Option<std::fs::File>), Stop> {
    let launch = &accepted.launch;
    let model = launch
        .upstream
        .model
        .clone()
        .filter(|m| Some(m) != launch.launch_model.as_ref());
    if let (Some(model), Some(asked)) = (&model, Api::model_in_path(&path_and_query)) {
        path_and_query = path_and_query.replacen(
            &format!("/models/{asked}:"),
            &format!("/models/{model}:"),
            1,
        );
    }
    let rewrite = model.filter(|_| !matches!(accepted.api, Api::Gemini | Api::Other));
    if rewrite.is_none() && shared.body_log.is_none() && accepted.translation.is_none() && !hold {
        return Ok((path_and_query, Either::Left(body), None, None));
    }
    let mut bytes = body
        .collect()
        .await
        .map_err(|e| {
            let why = format!("aiswitch gateway: the request body was cut off: {e}");
            (StatusCode::BAD_REQUEST, why)
        })?
        .to_bytes();
    if let Some(translation) = accepted.translation {
        (path_and_query, bytes) = translated_request(translation, launch, parts, &bytes)?;
    }
    if let Some(model) = &rewrite {
        bytes = with_model(bytes, model);
        parts.headers.remove(header::CONTENT_LENGTH);
    }
    let log = shared.body_log.as_ref().and_then(|log| {
        log.request(
            &format!("{} {path_and_query}", parts.method),
            &parts.headers,
            &bytes,
        )
    });
    let held = hold.then(|| bytes.clone());
    Ok((path_and_query, Either::Right(Full::new(bytes)), held, log))
}

/// A client's request body as the request `translation` makes of it, with the
/// preset's model, and the headers the provider expects: (path, body).
fn translated_request(
    translation: Translation,
    launch: &Resolved,
    parts: &mut hyper::http::request::Parts,
    bytes: &Bytes,
) -> Result<(String, Bytes), Stop> {
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        let why = "aiswitch gateway: the request is not JSON".to_owned();
        return Err((StatusCode::BAD_REQUEST, why));
    };
    let mut translated = translation.request(&request);
    // The CLI names its own models; the provider gets the preset's.
    if let Some(model) = &launch.upstream.model {
        translated["model"] = json!(model);
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    if upstream_api(translation) == Api::AnthropicMessages {
        // Anthropic takes its key in `x-api-key`, and wants a version.
        if let Some(bearer) = parts.headers.remove(header::AUTHORIZATION)
            && let Some(key) = bearer.to_str().ok().and_then(|b| b.strip_prefix("Bearer "))
            && let Ok(value) = HeaderValue::from_str(key)
        {
            parts.headers.insert("x-api-key", value);
        }
        parts
            .headers
            .entry("anthropic-version")
            .or_insert(HeaderValue::from_static("2023-06-01"));
    } else {
        // A Chat provider takes its key as a bearer token, and knows no Anthropic headers.
        if let Some(key) = parts.headers.remove("x-api-key") {
            let mut bearer = b"Bearer ".to_vec();
            bearer.extend_from_slice(key.as_bytes());
            if let Ok(value) = HeaderValue::from_bytes(&bearer) {
                parts.headers.insert(header::AUTHORIZATION, value);
            }
        }
        parts.headers.remove("anthropic-version");
        parts.headers.remove("anthropic-beta");
    }
    Ok((
        translation.path().to_owned(),
        Bytes::from(translated.to_string()),
    ))
}

/// The API the provider speaks in a translated exchange (what the meter reads).
fn upstream_api(translation: Translation) -> Api {
    match translation {
        Translation::AnthropicToChat | Translation::ResponsesToChat => Api::OpenAiChat,
        Translation::ChatToAnthropic | Translation::ResponsesToAnthropic => Api::AnthropicMessages,
    }
}

/// Reports the response's quota windows; one that ran out moves the launch to its
/// preset's fallback for the next request.
fn note_windows(
    shared: &Shared,
    accepted: &Accepted,
    provider: &str,
    headers: &HeaderMap,
    at_ms: i64,
) {
    let windows = super::quota::windows(headers, at_ms);
    if windows.is_empty() {
        return;
    }
    let launch = &accepted.launch;
    let task = launch.info.task_id.as_deref();
    if let Some(window) = windows.iter().find(|w| w.exhausted())
        && let Some(moved) = shared.table.fall_back(&accepted.token, window.resets_at_ms)
    {
        let _ = shared.sink.send(Report {
            observation: Observation::FellBack(moved, window.clone()),
            _pending: shared.in_flight.begin(task),
        });
    }
    let _ = shared.sink.send(Report {
        observation: Observation::Quota(QuotaSeen {
            at_ms,
            preset: launch.upstream.preset.clone(),
            provider: provider.to_owned(),
            windows,
        }),
        _pending: shared.in_flight.begin(task),
    });
}

/// The upstream's response as the client gets it: streamed through, metered on
/// the way, its usage reported once it ends.
fn metered(
    shared: &Shared,
    accepted: Accepted,
    provider: String,
    response: Response<Incoming>,
    mut log: Option<std::fs::File>,
    in_flight: super::InFlightGuard,
    at_ms: i64,
) -> Response<GatewayBody> {
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let meter = Meter::new(
        accepted.translation.map_or(accepted.api, upstream_api),
        content_type,
    );
    let translating = accepted.translation.map(|translation| {
        if content_type.is_some_and(|t| t.starts_with("text/event-stream")) {
            Translating::Stream(translation.stream())
        } else {
            Translating::Whole {
                translation,
                status: parts.status.as_u16(),
                buffer: Vec::new(),
            }
        }
    });
    let status = parts.status.as_u16();
    let quota_tap = (accepted.quota_answer && (200..300).contains(&status))
        .then(|| quota_tap(shared, &accepted.launch.upstream.preset, &provider, at_ms));
    let sink = shared.sink.clone();
    let Accepted {
        launch,
        token,
        model_in_path,
        reservation,
        ..
    } = accepted;
    let launch_id = super::lease::short_id(&token).to_owned();
    let on_end = Box::new(move |meter: Meter| {
        let reading = meter.finish();
        if reading.metered || reservation.is_some() {
            let _ = sink.send(Report {
                _pending: in_flight,
                observation: Observation::Usage(Metered {
                    at_ms,
                    info: launch.info,
                    launch: launch_id,
                    preset: launch.upstream.preset.clone(),
                    provider,
                    model: reading.model.or(model_in_path),
                    tokens: reading.tokens,
                    status,
                    metered: reading.metered,
                    reservation,
                }),
            });
        }
    });
    if let Some(file) = log.as_mut() {
        super::body_log::response(file, status, &parts.headers);
    }
    let mut body = MeteredBody::new(body, meter, on_end).with_log(log);
    if let Some(tap) = quota_tap {
        body = body.tapped(tap);
    }
    if let Some(translating) = translating {
        parts.headers.remove(header::CONTENT_LENGTH);
        body = body.translated(translating);
    }
    Response::from_parts(parts, Either::Left(body))
}

/// What reads Code Assist's `retrieveUserQuota` answer into quota windows of `preset`.
fn quota_tap(shared: &Shared, preset: &str, provider: &str, at_ms: i64) -> super::body::Tap {
    let sink = shared.sink.clone();
    let pending = shared.in_flight.begin(None);
    let (preset, provider) = (preset.to_owned(), provider.to_owned());
    Box::new(move |answer: &[u8]| {
        let windows = super::quota::code_assist_windows(answer);
        if !windows.is_empty() {
            let _ = sink.send(Report {
                observation: Observation::Quota(QuotaSeen {
                    at_ms,
                    preset,
                    provider,
                    windows,
                }),
                _pending: pending,
            });
        }
    })
}

/// The request as it goes upstream, but for its URL: the path and query to append
/// to a base URL, and the headers with the real key in the token's place and no
/// hop-by-hop ones.
fn prepare(
    parts: &mut hyper::http::request::Parts,
    launch: &Resolved,
    token: &str,
    place: Place,
) -> Result<String, String> {
    let mut path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    if place == Place::Path {
        path_and_query = path_and_query[PATH_PREFIX.len() + token.len()..].to_owned();
    }
    // The CLI's own login: its credential goes on untouched.
    let key = match launch.upstream.api_key() {
        Some(key) => key,
        None if place == Place::Path => "",
        None => {
            return Err(format!(
                "aiswitch gateway: preset {} has no key; start the agent through aiswitch again",
                launch.upstream.preset
            ));
        }
    };
    if place == Place::Query {
        path_and_query = path_and_query.replace(
            &format!("key={token}"),
            &format!("key={}", percent_encode(key)),
        );
    }
    strip_hop_by_hop(&mut parts.headers);
    let credential_error = |_| {
        format!(
            "aiswitch gateway: the key of preset {} cannot be sent in a header",
            launch.upstream.preset
        )
    };
    match place {
        Place::Header(name) => {
            let value = HeaderValue::from_str(key).map_err(credential_error)?;
            parts.headers.insert(HeaderName::from_static(name), value);
        }
        Place::Bearer => {
            let value =
                HeaderValue::from_str(&format!("Bearer {key}")).map_err(credential_error)?;
            parts.headers.insert(header::AUTHORIZATION, value);
        }
        Place::Query | Place::Path => {}
    }
    Ok(path_and_query)
}

/// A JSON request body with its `model` replaced; anything else unchanged.
fn with_model(body: Bytes, model: &str) -> Bytes {
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(serde_json::Value::Object(mut request)) if request.contains_key("model") => {
            request.insert("model".into(), serde_json::Value::String(model.to_owned()));
            serde_json::to_vec(&request).map_or(body, Bytes::from)
        }
        _ => body,
    }
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The gateway's own answer, in the error format of the API the client speaks,
/// so the CLI shows the message.
pub fn refusal(api: Api, status: StatusCode, message: &str) -> Response<GatewayBody> {
    let body = match api {
        Api::AnthropicMessages => {
            json!({"type": "error", "error": {"type": anthropic_type(status), "message": message}})
        }
        Api::Gemini => {
            json!({"error": {"code": status.as_u16(), "message": message, "status": google_status(status)}})
        }
        _ => {
            json!({"error": {"message": message, "type": openai_type(status), "code": status.as_u16()}})
        }
    };
    let mut response = Response::new(Either::Right(Full::new(Bytes::from(body.to_string()))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn anthropic_type(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "authentication_error",
        StatusCode::TOO_MANY_REQUESTS => "rate_limit_error",
        _ => "api_error",
    }
}

fn openai_type(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "invalid_request_error",
        StatusCode::TOO_MANY_REQUESTS => "insufficient_quota",
        _ => "server_error",
    }
}

fn google_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "UNAUTHENTICATED",
        StatusCode::TOO_MANY_REQUESTS => "RESOURCE_EXHAUSTED",
        _ => "UNAVAILABLE",
    }
}
