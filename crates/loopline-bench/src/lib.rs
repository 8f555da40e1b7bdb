//! Shared bits of Loopline's benchmarks. Benchmarks print figures and compare against a
//! baseline measured in the same run; they never assert on time.

/// Percentile of sorted samples (microseconds), nearest-rank.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `{"_seq":"n",` followed by the body after its opening brace: still the same object to
/// any parser, a different digest for every n. The width is fixed so every body is the
/// same size.
pub fn distinct_body(body: &[u8], n: u64) -> bytes::Bytes {
    let mut out = Vec::with_capacity(body.len() + 32);
    out.extend_from_slice(format!("{{\"_seq\":\"{n:012}\",").as_bytes());
    out.extend_from_slice(&body[1..]);
    bytes::Bytes::from(out)
}

/// One load run's result.
pub struct Outcome<'a> {
    pub label: &'a str,
    pub ok: u64,
    pub errors: u64,
    pub seconds: f64,
    /// Per acknowledged request, in microseconds, in any order.
    pub latencies_us: Vec<u64>,
    pub connections: usize,
    /// Requests per second asked for; 0 for as fast as possible.
    pub target_rate: f64,
}

/// Prints the one JSON line `scripts/bench` collects for every run.
pub fn print_result(mut o: Outcome) {
    o.latencies_us.sort_unstable();
    let sorted = &o.latencies_us;
    println!(
        "{}",
        serde_json::json!({
            "label": o.label,
            "requests_ok": o.ok,
            "errors": o.errors,
            "seconds": (o.seconds * 100.0).round() / 100.0,
            "rps": (o.ok as f64 / o.seconds).round(),
            "p50_ms": percentile(sorted, 50.0) as f64 / 1000.0,
            "p99_ms": percentile(sorted, 99.0) as f64 / 1000.0,
            "connections": o.connections,
            "target_rate": o.target_rate,
        })
    );
}

#[cfg(test)]
mod tests {
    use super::{distinct_body, percentile};

    #[test]
    fn nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&[], 50.0), 0);
    }

    #[test]
    fn distinct_bodies_stay_one_object_of_one_size() {
        let a = distinct_body(br#"{"action":"X"}"#, 7);
        let b = distinct_body(br#"{"action":"X"}"#, 123_456);
        assert_eq!(&a[..], br#"{"_seq":"000000000007","action":"X"}"#);
        assert_eq!(a.len(), b.len());
        assert_ne!(a, b);
    }
}
