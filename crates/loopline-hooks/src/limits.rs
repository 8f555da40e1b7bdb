use std::collections::HashMap;
use std::sync::Mutex;

/// What the receiver accepts. Set from the user's settings, overridable on `serve`.
#[derive(Debug, Clone)]
pub struct ReceiverLimits {
    /// Larger bodies get 413. Default 32 MiB.
    pub max_body_bytes: usize,
    /// Requests per second per source before 429; 0 turns the limit off.
    pub rate_per_source: f64,
    /// How far above the rate a burst may go.
    pub burst_per_source: f64,
    /// A malformed body is stored only up to this many bytes.
    pub malformed_cap: usize,
    /// Rejected attempts recorded per source per second (a flood is counted, not stored).
    pub rejected_records_per_sec: f64,
    pub rejected_records_burst: f64,
}

impl Default for ReceiverLimits {
    fn default() -> Self {
        ReceiverLimits {
            max_body_bytes: 32 * 1024 * 1024,
            rate_per_source: 200.0,
            burst_per_source: 1000.0,
            malformed_cap: 64 * 1024,
            rejected_records_per_sec: 1.0,
            rejected_records_burst: 20.0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

/// Token buckets keyed by source id. Time comes from the caller.
#[derive(Default)]
pub struct Buckets(Mutex<HashMap<String, (Bucket, u64)>>);

impl Buckets {
    /// Takes one token: `Some(n)` when allowed, where `n` counts the refusals since the last
    /// allowed one (so a record can say how many were suppressed); `None` when refused.
    pub fn take(&self, key: &str, now_ms: i64, rate: f64, burst: f64) -> Option<u64> {
        if rate <= 0.0 {
            return Some(0);
        }
        let Ok(mut map) = self.0.lock() else {
            return Some(0);
        };
        let entry = map.entry(key.to_string()).or_insert((
            Bucket {
                tokens: burst,
                at_ms: now_ms,
            },
            0,
        ));
        let elapsed = (now_ms - entry.0.at_ms).max(0) as f64 / 1000.0;
        entry.0.tokens = (entry.0.tokens + elapsed * rate).min(burst);
        entry.0.at_ms = now_ms;
        if entry.0.tokens >= 1.0 {
            entry.0.tokens -= 1.0;
            let suppressed = entry.1;
            entry.1 = 0;
            Some(suppressed)
        } else {
            entry.1 += 1;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Buckets;

    #[test]
    fn bucket_allows_a_burst_then_the_rate() {
        let b = Buckets::default();
        for _ in 0..5 {
            assert!(b.take("s", 0, 1.0, 5.0).is_some());
        }
        assert!(b.take("s", 0, 1.0, 5.0).is_none());
        assert!(b.take("s", 10, 1.0, 5.0).is_none());
        assert_eq!(
            b.take("s", 1000, 1.0, 5.0),
            Some(2),
            "two refusals were counted"
        );
        assert!(
            b.take("other", 0, 1.0, 5.0).is_some(),
            "buckets are per key"
        );
        assert!(
            b.take("s", 1000, 0.0, 0.0).is_some(),
            "rate 0 means no limit"
        );
    }
}
