//! Reading a webhook's body up to the receiver's limit, so that a sender over it still
//! reads the 413.
//!
//! Answering as soon as the limit is passed (or a refusal is decided before the body is
//! read) and closing the connection lost that answer:
//! the sender was still uploading, and a socket closed with unread data in it is reset, so
//! the sender saw "connection reset" instead of the 413 and its message (it happened in
//! `tests/receiver.rs` whenever the machine was busy). So the rest of the body is read and
//! dropped first, as web servers do before they close, within bounds: a sender that goes on
//! past them is answered and cut off.

use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;

/// Read and dropped past the limit before answering, at most.
const DRAIN_MAX_BYTES: usize = 64 * 1024 * 1024;
const DRAIN_MAX_TIME: Duration = Duration::from_secs(5);

pub(crate) enum BodyRead {
    Whole(Bytes),
    /// Past the limit (its size was declared so, or it grew so while read).
    TooLarge,
    /// Cut short, or its chunked framing is invalid.
    Unreadable,
}

/// The whole body when it is at most `limit` bytes.
pub(crate) async fn read_body(mut body: Body, limit: usize) -> BodyRead {
    let declared = axum::body::HttpBody::size_hint(&body).lower() as usize;
    if declared > limit {
        drain_up_to(body, declared, DRAIN_MAX_BYTES).await;
        return BodyRead::TooLarge;
    }
    // Most bodies arrive in one frame: kept as it is, never copied (B1's ingest rate).
    let mut first: Option<Bytes> = None;
    let mut rest = bytes::BytesMut::new();
    let mut len = 0;
    loop {
        match body.frame().await {
            None => {
                return BodyRead::Whole(match first {
                    Some(one) if rest.is_empty() => one,
                    Some(one) => {
                        let mut all = bytes::BytesMut::with_capacity(len);
                        all.extend_from_slice(&one);
                        all.extend_from_slice(&rest);
                        all.freeze()
                    }
                    None => Bytes::new(),
                })
            }
            Some(Err(_)) => return BodyRead::Unreadable,
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                len += data.len();
                if len > limit {
                    drain_up_to(body, len, DRAIN_MAX_BYTES).await;
                    return BodyRead::TooLarge;
                }
                if first.is_none() {
                    first = Some(data);
                } else {
                    rest.extend_from_slice(&data);
                }
            }
        }
    }
}

/// Reads a body the answer did not need and drops it: up to the limit a body it needed could
/// have been, or, for a body refused as too large, up to the bounds above. Anything larger
/// is answered and cut off at once.
pub(crate) async fn drain_unread(body: Body, limit: usize, too_large: bool) {
    let declared = axum::body::HttpBody::size_hint(&body).lower() as usize;
    let max = if too_large {
        DRAIN_MAX_BYTES
    } else {
        limit.min(DRAIN_MAX_BYTES)
    };
    drain_up_to(body, declared, max).await;
}

/// Reads what is left of the body and drops it, up to `max` bytes in all and for at most
/// `DRAIN_MAX_TIME`. `seen`: the bytes already received (or declared).
async fn drain_up_to(mut body: Body, seen: usize, max: usize) {
    if seen > max {
        return;
    }
    let mut seen = seen;
    let _ = tokio::time::timeout(DRAIN_MAX_TIME, async {
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                seen += data.len();
                if seen > max {
                    return;
                }
            }
        }
    })
    .await;
}
