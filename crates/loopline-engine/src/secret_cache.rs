//! Secrets read recently, kept in this process's memory. Each keychain read is a D-Bus
//! round trip that opens a Secret Service session with a Diffie-Hellman exchange on both
//! sides: a forward's signing secret and a notify's Slack URL, read for every delivery, cost
//! about a third of a core at 50 webhooks a second (seen in `scripts/bench b9` with perf).
//!
//! A cached value is used only while the secrets revision (a setting every secret write
//! bumps, in any process on this data directory) is the one it was read under, and for at
//! most `FRESH_MS`, so a change made outside Loopline (the OS keychain's own app) is seen
//! within that time. Values stay in memory only, as they do during any call that uses them.

use std::collections::HashMap;
use std::sync::Mutex;

use loopline_core::Sensitive;

/// The setting every secret write changes.
pub(crate) const SECRETS_REVISION: &str = "secrets.revision";
/// How long a read stands without a revision change.
const FRESH_MS: i64 = 60_000;

type Entry = (Option<Sensitive<String>>, i64);

#[derive(Default)]
pub(crate) struct SecretCache {
    state: Mutex<(String, HashMap<String, Entry>)>,
}

impl SecretCache {
    /// The value read under `revision` less than `FRESH_MS` ago, if any (`Some(None)`: the
    /// secret was not there).
    pub(crate) fn get(
        &self,
        revision: &str,
        name: &str,
        now_ms: i64,
    ) -> Option<Option<Sensitive<String>>> {
        let state = self.state.lock().ok()?;
        if state.0 != revision {
            return None;
        }
        let (value, read_at) = state.1.get(name)?;
        (now_ms.saturating_sub(*read_at) < FRESH_MS && now_ms >= *read_at).then(|| value.clone())
    }

    pub(crate) fn put(
        &self,
        revision: &str,
        name: &str,
        value: Option<Sensitive<String>>,
        now_ms: i64,
    ) {
        if let Ok(mut state) = self.state.lock() {
            if state.0 != revision {
                *state = (revision.to_string(), HashMap::new());
            }
            state.1.insert(name.to_string(), (value, now_ms));
        }
    }

    /// Forgets everything (this process wrote a secret).
    pub(crate) fn clear(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.1.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Option<Sensitive<String>> {
        Some(Sensitive::new(s.to_string()))
    }

    #[test]
    fn a_read_stands_for_its_revision_and_a_minute() {
        let c = SecretCache::default();
        c.put("r1", "fwd", v("a"), 1_000);
        assert_eq!(c.get("r1", "fwd", 1_000 + FRESH_MS - 1), Some(v("a")));
        assert_eq!(
            c.get("r1", "fwd", 1_000 + FRESH_MS),
            None,
            "stale after a minute"
        );
        assert_eq!(
            c.get("r2", "fwd", 1_001),
            None,
            "another process wrote a secret"
        );
        assert_eq!(c.get("r1", "other", 1_001), None);
        assert_eq!(
            c.get("r1", "fwd", 999),
            None,
            "a clock that went back reads again"
        );
    }

    #[test]
    fn a_missing_secret_is_remembered_as_missing_and_clear_forgets() {
        let c = SecretCache::default();
        c.put("r1", "gone", None, 0);
        assert_eq!(c.get("r1", "gone", 1), Some(None));
        c.clear();
        assert_eq!(c.get("r1", "gone", 1), None);
    }
}
