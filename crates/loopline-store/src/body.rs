//! How a payload's bytes are kept: as they came, or LZ4-compressed.
//!
//! Webhook bodies are mostly repeated keys and punctuation: the 5.6 KB `ANNOTATION_CREATED`
//! fixture packs to 2.5 KB, an Aquarium issue with hundreds of elements to about a third.
//! Every stored byte is written twice (the write-ahead log, then the database file), so
//! compressing pays for itself: A/B runs of B1's load (`/proc` per-thread CPU, alternated
//! to even out the hypervisor's noise) showed LZ4 adding ~10 µs of request CPU and taking
//! about as much off SQLite's and the kernel's writing, while disk writes fell from 16 to
//! 12 KB per event and the database to less than half its size. Below 1 KiB there is
//! little to gain. Decoding gives back the exact bytes received, so nothing a sender said
//! is altered.

use bytes::Bytes;
use loopline_core::{ApiError, ErrorCode};

/// Bodies shorter than this are kept as they are.
const COMPRESS_FROM: usize = 1024;
/// The largest body the receiver accepts is 32 MiB by default; a stored length beyond this
/// can only be damage, and is refused rather than allocated.
const MAX_DECODED: usize = 1 << 30;

/// The `body_codec` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyCodec {
    Raw = 0,
    Lz4 = 1,
}

/// A body ready for the `events` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBody {
    pub codec: BodyCodec,
    /// What goes in the `body` column. Shared, not copied, with the request's own buffer.
    pub bytes: Bytes,
    /// The length of the body as received.
    pub len: usize,
}

impl StoredBody {
    /// Compresses when that saves at least an eighth; keeps the bytes as they are otherwise.
    pub fn encode(raw: impl Into<Bytes>) -> StoredBody {
        let raw: Bytes = raw.into();
        if raw.len() >= COMPRESS_FROM {
            let packed = lz4_flex::block::compress(&raw);
            if packed.len() <= raw.len() - raw.len() / 8 {
                return StoredBody {
                    codec: BodyCodec::Lz4,
                    bytes: packed.into(),
                    len: raw.len(),
                };
            }
        }
        StoredBody::raw(raw)
    }

    /// Bytes kept exactly as given (empty bodies of rejected attempts, tests).
    pub fn raw(bytes: impl Into<Bytes>) -> StoredBody {
        let bytes: Bytes = bytes.into();
        StoredBody {
            codec: BodyCodec::Raw,
            len: bytes.len(),
            bytes,
        }
    }
}

/// The body as it was received, from what the `events` row holds.
pub(crate) fn decode(
    id: i64,
    codec: i64,
    stored: Vec<u8>,
    len: Option<i64>,
) -> Result<Vec<u8>, ApiError> {
    match codec {
        0 => Ok(stored),
        1 => {
            let len = len
                .and_then(|l| usize::try_from(l).ok())
                .filter(|l| *l <= MAX_DECODED)
                .ok_or_else(|| unreadable(id, "its stored length is missing or impossible"))?;
            let raw = lz4_flex::block::decompress(&stored, len)
                .map_err(|e| unreadable(id, &e.to_string()))?;
            if raw.len() != len {
                return Err(unreadable(id, "it decoded to a different length"));
            }
            Ok(raw)
        }
        other => Err(unreadable(
            id,
            &format!("it was stored by a newer Loopline (body codec {other})"),
        )),
    }
}

fn unreadable(id: i64, why: &str) -> ApiError {
    ApiError::new(
        ErrorCode::DbCorrupt,
        format!(
            "The body of event {id} cannot be read back: {why}. The rest of the event is intact; \
             if this persists, restore the database from a backup."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_byte_for_byte() {
        let json =
            br#"{"action": "ANNOTATION_CREATED", "project": {"label_config": "<View>...</View>"}}"#
                .repeat(300);
        for raw in [&b""[..], b"{}", &json[..], &[0xff, 0xfe, 0x00][..]] {
            let s = StoredBody::encode(raw.to_vec());
            assert_eq!(s.len, raw.len());
            let back = decode(1, s.codec as i64, s.bytes.to_vec(), Some(s.len as i64)).unwrap();
            assert_eq!(back, raw);
        }
        assert_eq!(StoredBody::encode(json.clone()).codec, BodyCodec::Lz4);
        assert_eq!(StoredBody::encode(&b"{}"[..]).codec, BodyCodec::Raw);
        // A typical few-kilobyte webhook is compressed; a tiny one is not worth it.
        let typical = br#"{"id": 12, "result": [{"value": {"x": 1.5}}]}"#.repeat(40);
        assert_eq!(StoredBody::encode(typical).codec, BodyCodec::Lz4);
        let tiny = br#"{"action": "PROJECT_UPDATED", "project": {"id": 3}}"#.repeat(10);
        assert!(tiny.len() < COMPRESS_FROM);
        assert_eq!(StoredBody::encode(tiny).codec, BodyCodec::Raw);
    }

    #[test]
    fn incompressible_bodies_stay_raw() {
        // A xorshift stream: no repetition for LZ4 to find.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let noise: Vec<u8> = (0..32768)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let s = StoredBody::encode(noise.clone());
        assert_eq!(s.codec, BodyCodec::Raw);
        assert_eq!(s.bytes, noise);
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        let s = StoredBody::encode(br#"{"a": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}"#.repeat(500));
        assert_eq!(s.codec, BodyCodec::Lz4);
        let mut broken = s.bytes.to_vec();
        broken.truncate(broken.len() / 2);
        let e = decode(7, 1, broken, Some(s.len as i64)).unwrap_err();
        assert_eq!(e.code, ErrorCode::DbCorrupt);
        assert!(e.message.contains("event 7"), "{}", e.message);
        assert!(decode(7, 1, s.bytes.to_vec(), None).is_err());
        assert!(decode(7, 1, s.bytes.to_vec(), Some(1 << 40)).is_err());
        assert!(decode(7, 9, s.bytes.to_vec(), Some(10)).is_err());
    }
}
