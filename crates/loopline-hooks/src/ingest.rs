//! `POST /hooks/{source_id}`: persist, then acknowledge.
//!
//! Label Studio sends each webhook once, with a one-second timeout and no retry, so the 2xx
//! goes out only after the event is committed; every refusal has its own status and a
//! `{code, message}` body that says what to fix.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use loopline_core::{ApiError, ErrorCode, EventKind, EventStatus, SourceKind};
use loopline_store::{NewEvent, StoredBody};
use sha2::{Digest, Sha256};

use crate::auth::{matches_any, presented_token, verify_standard_webhook, Refusal};
use crate::body_read::{drain_unread, read_body, BodyRead};
use crate::sources::SourceEntry;
use crate::HooksState;
use loopline_payloads::parse::{parse, Parsed};
use loopline_payloads::redact::mask_header;

fn error(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Response {
    (status, Json(ApiError::new(code, message))).into_response()
}

pub(crate) async fn receive(
    state: State<Arc<HooksState>>,
    source_id: Path<String>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limits = state.limits();
    let limit = limits.max_body_bytes;
    let mut unread = Some(body);
    let mut resp = receive_body(state, source_id, peer, headers, &mut unread, limits).await;
    // A refusal is often decided before the body is read (a wrong token costs us no
    // parsing). Answering while the sender still uploads, and closing, resets the
    // connection under its answer (`body_read.rs`), so the body is read and dropped first.
    if let Some(body) = unread {
        // A body over the limit is read further than one that was refused unread: a
        // sender over the limit most needs to read why (the sizes stay bounded).
        let too_large = resp.status() == StatusCode::PAYLOAD_TOO_LARGE;
        drain_unread(body, limit, too_large).await;
    }
    // And said in the answer: the sender must not send its next webhook on this connection
    // as it closes, and lose it ("connection closed before message completed").
    if resp.status().is_client_error() || resp.status().is_server_error() {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

async fn receive_body(
    State(state): State<Arc<HooksState>>,
    Path(source_id): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: &mut Option<Body>,
    limits: crate::ReceiverLimits,
) -> Response {
    let now_ms = state.clock.now_ms();
    let remote = Some(peer.to_string());
    let Some(mut source) = state.source(&source_id).await else {
        return error(
            StatusCode::NOT_FOUND,
            ErrorCode::SourceNotFound,
            format!("No source '{source_id}' here. Check the hook URL in the sender (Loopline's Sources screen shows it)."),
        );
    };

    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limits.max_body_bytes) {
        return too_large(limits.max_body_bytes);
    }

    // Token sources are checked before the body is read: an unauthenticated sender
    // should cost us as little as possible.
    if source.kind != SourceKind::Generic {
        if let Err(refusal) = check_token(&source, &headers, now_ms) {
            match state.reloaded(&source.id).await {
                Some(fresh) if check_token(&fresh, &headers, now_ms).is_ok() => source = fresh,
                _ => return reject(&state, &source, &headers, remote, now_ms, refusal).await,
            }
        }
    }

    // Token sources are rate limited only once authenticated, so a sender without the
    // token cannot use up the allowance of Label Studio's real deliveries (which are never
    // retried). Its refusals are counted apart, in `reject`.
    if source.kind != SourceKind::Generic {
        if let Some(limited) = rate_limited(&state, &source, now_ms) {
            return limited;
        }
    }

    // From here on this request will most likely become an event: tell the writer.
    let announced = state.writer.incoming();
    let Some(body) = body.take() else {
        return unreadable_body();
    };
    let bytes: Bytes = match read_body(body, limits.max_body_bytes).await {
        BodyRead::Whole(b) => b,
        BodyRead::TooLarge => return too_large(limits.max_body_bytes),
        BodyRead::Unreadable => return unreadable_body(),
    };

    if source.kind == SourceKind::Generic {
        let mut keys = source.live_keys(now_ms);
        if verify_standard_webhook(&headers, &bytes, &keys, now_ms).is_err() {
            if let Some(fresh) = state.reloaded(&source.id).await {
                keys = fresh.live_keys(now_ms);
                source = fresh;
            }
        }
        if keys.is_empty() {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::SecretUnavailable,
                format!(
                    "The signing secret of source '{}' is not loaded (is the keychain unlocked?). Nothing was stored; retry later.",
                    source.name
                ),
            );
        }
        if let Err(refusal) = verify_standard_webhook(&headers, &bytes, &keys, now_ms) {
            return reject(&state, &source, &headers, remote, now_ms, refusal).await;
        }
        // A signed source's signature needs the body, so its allowance is taken here.
        if let Some(limited) = rate_limited(&state, &source, now_ms) {
            return limited;
        }
    }

    if let Some(coding) = headers.get(header::CONTENT_ENCODING) {
        let coding = String::from_utf8_lossy(coding.as_bytes());
        if !is_identity_coding(&coding) {
            // RFC 7694: refuse a coding we do not decode, and say which one we accept.
            let mut resp = error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                format!(
                    "Content-Encoding '{coding}' is not supported. Send the webhook body uncompressed; nothing from this request was stored."
                ),
            );
            resp.headers_mut().insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_static("identity"),
            );
            return resp;
        }
    }
    if let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        if !is_json_content_type(ct) {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                format!(
                    "Content-Type '{ct}' is not JSON. Send the webhook body as application/json."
                ),
            );
        }
    }

    let headers_json = headers_to_json(&headers);
    let body_sha256: [u8; 32] = Sha256::digest(&bytes).into();
    match parse(&bytes) {
        Ok(parsed) => {
            let event = new_event(
                &source.id,
                now_ms,
                remote,
                headers_json,
                bytes.clone(),
                body_sha256,
                parsed,
            );
            match state.writer.write_announced(event, Some(announced)).await {
                Ok(stored) => {
                    let mut body = serde_json::json!({ "event_id": stored.id, "status": stored.status.as_str() });
                    if let Some(original) = stored.duplicate_of {
                        body["duplicate_of"] = original.into();
                    }
                    (StatusCode::OK, Json(body)).into_response()
                }
                Err(e) => store_failed(e),
            }
        }
        Err(not_json) => {
            let cap = limits.malformed_cap.min(bytes.len());
            let event = NewEvent {
                source_id: source.id.clone(),
                received_at_ms: now_ms,
                remote_addr: remote,
                headers_json,
                body: StoredBody::encode(bytes.slice(..cap)),
                body_sha256,
                body_truncated: cap < bytes.len(),
                kind: EventKind::Unknown.as_str(),
                action: None,
                project_id: None,
                project_name: None,
                summary: format!("Malformed body: {}", not_json.message),
                status: EventStatus::Malformed,
                parsed_json: None,
                replay_of: None,
                check_duplicate: false,
            };
            match state.writer.write_announced(event, Some(announced)).await {
                Ok(stored) => (
                    StatusCode::BAD_REQUEST,
                    Json(serde_json::json!({
                        "code": ErrorCode::MalformedJson.as_str(),
                        "message": format!("{} It was kept as event {} so you can see what was sent.", not_json.message, stored.id),
                        "event_id": stored.id,
                    })),
                )
                    .into_response(),
                Err(e) => store_failed(e),
            }
        }
    }
}

/// Builds the stored form of a parsed event; shared with replays and test events. The
/// body is encoded here, on the request's own thread, not on the writer's.
pub fn new_event(
    source_id: &str,
    now_ms: i64,
    remote: Option<String>,
    headers_json: String,
    body: impl Into<Bytes>,
    body_sha256: [u8; 32],
    parsed: Parsed,
) -> NewEvent {
    NewEvent {
        source_id: source_id.to_string(),
        received_at_ms: now_ms,
        remote_addr: remote,
        headers_json,
        body: StoredBody::encode(body),
        body_sha256,
        body_truncated: false,
        kind: parsed.kind().as_str(),
        parsed_json: Some(parsed.to_json()),
        action: parsed.action,
        project_id: parsed.project_id,
        project_name: parsed.project_name,
        summary: parsed.summary,
        status: EventStatus::Processed,
        replay_of: None,
        check_duplicate: true,
    }
}

fn check_token(source: &SourceEntry, headers: &HeaderMap, now_ms: i64) -> Result<(), Refusal> {
    let (presented, name) = match source.kind {
        SourceKind::LabelStudio => (presented_token(headers), "X-Loopline-Token"),
        SourceKind::Aquarium => (
            headers
                .get("x-aquarium-secret")
                .and_then(|v| v.to_str().ok())
                .map(str::trim),
            "X-Aquarium-Secret",
        ),
        SourceKind::Generic => return Ok(()),
    };
    // An Aquarium source added without a secret: Aquarium sends one only when set.
    if source.kind == SourceKind::Aquarium && !source.secret_required {
        return Ok(());
    }
    let presented = presented.ok_or(Refusal::Missing(name))?;
    if matches_any(presented, &source.live_digests(now_ms)) {
        Ok(())
    } else {
        Err(Refusal::Mismatch(name))
    }
}

async fn reject(
    state: &HooksState,
    source: &SourceEntry,
    headers: &HeaderMap,
    remote: Option<String>,
    now_ms: i64,
    refusal: Refusal,
) -> Response {
    let limits = state.limits();
    // Record the attempt (never its body), unless this source is being flooded: then the
    // attempts are counted and the next record says how many were not stored.
    if let Some(suppressed) = state.rejections.take(
        &source.id,
        now_ms,
        limits.rejected_records_per_sec,
        limits.rejected_records_burst,
    ) {
        let mut summary = format!("Rejected: {}", refusal.describe());
        if suppressed > 0 {
            summary.push_str(&format!(
                " (and {suppressed} more rejected attempts not recorded)"
            ));
        }
        let event = NewEvent {
            source_id: source.id.clone(),
            received_at_ms: now_ms,
            remote_addr: remote,
            headers_json: headers_to_json(headers),
            body: StoredBody::raw(Vec::new()),
            body_sha256: [0; 32],
            body_truncated: false,
            kind: match source.kind {
                SourceKind::LabelStudio => EventKind::LabelStudio,
                SourceKind::Aquarium => EventKind::Aquarium,
                SourceKind::Generic => EventKind::Generic,
            }
            .as_str(),
            action: None,
            project_id: None,
            project_name: None,
            summary,
            status: EventStatus::Rejected,
            parsed_json: None,
            replay_of: None,
            check_duplicate: false,
        };
        if let Err(e) = state.writer.write(event).await {
            tracing::warn!(code = %e.code, "could not record a rejected attempt");
        }
    }
    let fix = match source.kind {
        SourceKind::LabelStudio => "Set the webhook's X-Loopline-Token header to the source's token (rotate the source for a new one).",
        SourceKind::Aquarium => "Paste Aquarium's webhook secret into the source again (Sources → Rotate).",
        SourceKind::Generic => "Sign with the source's secret per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature).",
    };
    error(
        StatusCode::UNAUTHORIZED,
        ErrorCode::Unauthorized,
        format!("Not authorized: {}. {fix}", refusal.describe()),
    )
}

/// The source's allowance, taken by an authenticated request: `Some` is the 429 to send.
fn rate_limited(state: &HooksState, source: &SourceEntry, now_ms: i64) -> Option<Response> {
    let limits = state.limits();
    let allowed = state.rate.take(
        &source.id,
        now_ms,
        limits.rate_per_source,
        limits.burst_per_source,
    );
    if allowed.is_some() {
        return None;
    }
    let mut resp = error(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::RateLimited,
        format!(
            "Source '{}' sent more than {} requests per second. Slow down and retry; nothing from this request was stored.",
            source.name, limits.rate_per_source
        ),
    );
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    Some(resp)
}

/// A body that broke off or whose chunked framing is invalid: the sender's fault, not a
/// size problem. Nothing was stored, and nothing was acknowledged.
fn unreadable_body() -> Response {
    error(
        StatusCode::BAD_REQUEST,
        ErrorCode::MalformedBody,
        "The request body could not be read: it was cut short or its chunked encoding is broken. Nothing was stored; send the webhook again.",
    )
}

fn too_large(limit: usize) -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        format!(
            "The body is larger than the receiver's limit of {} MiB. Send less per webhook, or raise the limit (loopline serve --max-body-mib).",
            limit / (1024 * 1024)
        ),
    )
}

fn store_failed(e: ApiError) -> Response {
    let mut resp = error(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::StoreUnavailable,
        e.message,
    );
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    resp
}

fn is_json_content_type(ct: &str) -> bool {
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json"
        || mime == "text/json"
        || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// No coding at all, spelled out (`identity`) or listed empty.
fn is_identity_coding(coding: &str) -> bool {
    coding
        .split(',')
        .map(str::trim)
        .all(|c| c.is_empty() || c.eq_ignore_ascii_case("identity"))
}

/// Headers as stored: `[[name, value], …]` in arrival order, credentials masked.
pub fn headers_to_json(headers: &HeaderMap) -> String {
    // Written straight into one buffer (serde_json escaping the strings): this runs for
    // every request, and a list of string pairs first cost two allocations per header.
    let mut out: Vec<u8> = Vec::with_capacity(64 * headers.len() + 2);
    out.push(b'[');
    for (i, (k, v)) in headers.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let value = String::from_utf8_lossy(v.as_bytes());
        out.push(b'[');
        let _ = serde_json::to_writer(&mut out, k.as_str());
        out.push(b',');
        let _ = serde_json::to_writer(&mut out, &mask_header(k.as_str(), &value));
        out.push(b']');
    }
    out.push(b']');
    String::from_utf8(out).unwrap_or_else(|_| "[]".to_string())
}
