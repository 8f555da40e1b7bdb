//! The digests of recently stored bodies, for flagging a repeated delivery as a duplicate.
//!
//! Kept in memory by the writer (the request path never queries for them) and bounded both
//! ways: entries leave once they are older than the duplicate window, in arrival order, at
//! a constant cost per event; and at most `RECENT_CAP` are kept, so a flood of distinct
//! bodies cannot grow the map without limit. (It was one map pruned by a full scan after
//! every batch once it held 50,000 entries: with distinct bodies arriving at thousands per
//! second that scan ran on every commit, and the map held the whole window in memory.)

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// The most digests kept. A duplicate older than this many newer originals is not flagged;
/// at the rates webhooks arrive in practice the window runs out long before.
pub(crate) const RECENT_CAP: usize = 100_000;

/// An original delivery: its event id and when it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seen {
    pub id: i64,
    pub at_ms: i64,
}

#[derive(Default)]
pub(crate) struct RecentDigests {
    /// Source → body digest → the original. Per source first, so a lookup borrows the
    /// request's `&str` instead of building a key.
    by_source: HashMap<Arc<str>, HashMap<[u8; 32], Seen>>,
    /// Every entry in arrival order, to expire the oldest first.
    order: VecDeque<(Arc<str>, [u8; 32], Seen)>,
}

impl RecentDigests {
    pub(crate) fn get(&self, source: &str, digest: &[u8; 32]) -> Option<Seen> {
        self.by_source.get(source)?.get(digest).copied()
    }

    /// Records an original; replaces an older original of the same body.
    pub(crate) fn insert(&mut self, source: &str, digest: [u8; 32], seen: Seen) {
        let name = match self.by_source.get_key_value(source) {
            Some((name, _)) => name.clone(),
            None => Arc::from(source),
        };
        self.by_source
            .entry(name.clone())
            .or_default()
            .insert(digest, seen);
        self.order.push_back((name, digest, seen));
        if self.order.len() > RECENT_CAP {
            self.pop_oldest();
        }
    }

    /// Forgets the originals that arrived more than `window_ms` before `now_ms`.
    pub(crate) fn expire(&mut self, now_ms: i64, window_ms: i64) {
        while self
            .order
            .front()
            .is_some_and(|(_, _, seen)| now_ms - seen.at_ms > window_ms)
        {
            self.pop_oldest();
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    fn pop_oldest(&mut self) {
        let Some((name, digest, seen)) = self.order.pop_front() else {
            return;
        };
        if let Some(digests) = self.by_source.get_mut(&name) {
            // The same body may have become an original again since (after the window
            // ran out): only this entry's own original goes.
            if digests.get(&digest) == Some(&seen) {
                digests.remove(&digest);
            }
            if digests.is_empty() {
                self.by_source.remove(&name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(id: i64, at_ms: i64) -> Seen {
        Seen { id, at_ms }
    }

    #[test]
    fn finds_an_original_by_source_and_digest() {
        let mut r = RecentDigests::default();
        r.insert("a", [1; 32], seen(1, 0));
        assert_eq!(r.get("a", &[1; 32]), Some(seen(1, 0)));
        assert_eq!(
            r.get("b", &[1; 32]),
            None,
            "another source's body is not a duplicate"
        );
        assert_eq!(r.get("a", &[2; 32]), None);
    }

    #[test]
    fn originals_expire_oldest_first_at_the_window() {
        let mut r = RecentDigests::default();
        r.insert("a", [1; 32], seen(1, 1_000));
        r.insert("a", [2; 32], seen(2, 2_000));
        r.expire(11_000, 10_000);
        assert_eq!(
            r.get("a", &[1; 32]),
            Some(seen(1, 1_000)),
            "exactly at the window"
        );
        r.expire(11_001, 10_000);
        assert_eq!(r.get("a", &[1; 32]), None);
        assert_eq!(r.get("a", &[2; 32]), Some(seen(2, 2_000)));
        assert_eq!(r.len(), 1);
        r.expire(100_000, 10_000);
        assert_eq!(r.len(), 0);
        assert!(
            r.by_source.is_empty(),
            "no empty per-source maps are left behind"
        );
    }

    #[test]
    fn an_expired_entry_does_not_remove_a_newer_original_of_the_same_body() {
        let mut r = RecentDigests::default();
        r.insert("a", [1; 32], seen(1, 0));
        // The window ran out for event 1 without an expiry pass; event 9 is the new original.
        r.insert("a", [1; 32], seen(9, 20_000));
        r.expire(20_000, 10_000);
        assert_eq!(r.get("a", &[1; 32]), Some(seen(9, 20_000)));
    }

    /// A distinct digest per number.
    fn digest(i: i64) -> [u8; 32] {
        let mut d = [0u8; 32];
        d[..8].copy_from_slice(&i.to_le_bytes());
        d
    }

    #[test]
    fn holds_at_most_the_cap_dropping_the_oldest() {
        let mut r = RecentDigests::default();
        let n = RECENT_CAP as i64 + 10;
        for i in 0..n {
            r.insert("a", digest(i), seen(i, 0));
        }
        assert_eq!(r.len(), RECENT_CAP);
        assert_eq!(r.get("a", &digest(0)), None, "the oldest went first");
        assert!(r.get("a", &digest(n - 1)).is_some());
    }
}
