/// The time, passed in so that rules, rate limits and signatures can be tested at any
/// instant without sleeping.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// Randomness, passed in for the same reason: tests can make tokens predictable.
pub trait Entropy: Send + Sync + 'static {
    fn fill(&self, buf: &mut [u8]);
}
