//! Rate-limiting desktop notifications: a burst of 500 Aquarium issues makes one
//! notification, then one summary, not 500.

use std::collections::BTreeMap;

use loopline_core::{Notice, NoticeKind};

/// Per kind: the first notice passes at once; the rest within `window_ms` are counted and
/// come out as one summary when the window ends.
#[derive(Debug)]
pub struct NoticeGate {
    window_ms: i64,
    open: BTreeMap<NoticeKind, Window>,
}

#[derive(Debug)]
struct Window {
    ends_at_ms: i64,
    held: u64,
}

impl NoticeGate {
    pub fn new(window_ms: i64) -> Self {
        NoticeGate {
            window_ms,
            open: BTreeMap::new(),
        }
    }

    /// `count` notices of one kind arrived at `now_ms`; `first` describes the first of them.
    /// Returns the notification to show now, if any.
    pub fn offer(&mut self, first: Notice, count: u64, now_ms: i64) -> Option<Notice> {
        if count == 0 {
            return None;
        }
        let window_ms = self.window_ms;
        match self.open.get_mut(&first.kind) {
            Some(w) if now_ms < w.ends_at_ms => {
                w.held += count;
                None
            }
            _ => {
                self.open.insert(
                    first.kind,
                    Window {
                        ends_at_ms: now_ms + window_ms,
                        held: count - 1,
                    },
                );
                Some(first)
            }
        }
    }

    /// The summaries of windows that ended by `now_ms` with notices held back.
    pub fn flush(&mut self, now_ms: i64) -> Vec<Notice> {
        let mut out = Vec::new();
        let ended: Vec<NoticeKind> = self
            .open
            .iter()
            .filter(|(_, w)| w.ends_at_ms <= now_ms)
            .map(|(k, _)| *k)
            .collect();
        for kind in ended {
            if let Some(w) = self.open.remove(&kind) {
                if w.held > 0 {
                    out.push(summary(kind, w.held));
                    // The summary opens a window of its own, so a steady stream makes one
                    // notification per window.
                    self.open.insert(
                        kind,
                        Window {
                            ends_at_ms: now_ms + self.window_ms,
                            held: 0,
                        },
                    );
                }
            }
        }
        out
    }

    /// When `flush` next has something to say; `None` when nothing is held (no timer needed).
    pub fn next_flush_at(&self) -> Option<i64> {
        self.open
            .values()
            .filter(|w| w.held > 0)
            .map(|w| w.ends_at_ms)
            .min()
    }
}

fn summary(kind: NoticeKind, n: u64) -> Notice {
    let s = if n == 1 { "" } else { "s" };
    let (title, body) = match kind {
        NoticeKind::RunEnded => (
            format!("{n} more retrain run{s} ended"),
            "The Runs page has each run's outcome.".to_string(),
        ),
        NoticeKind::AquariumIssue => (
            format!("{n} more Aquarium issue{s} arrived"),
            "The Issues page lists them, ready to review and export.".to_string(),
        ),
        NoticeKind::WebhookOff => (
            format!("{n} more webhook{s} changed in Label Studio"),
            "The timeline says which, and what Loopline did.".to_string(),
        ),
        NoticeKind::TunnelDown => (
            "The tunnel is still going up and down".to_string(),
            "Settings → Tunnel shows its state and the last error.".to_string(),
        ),
        NoticeKind::LoopCheckFailed => (
            format!("{n} more loop check{s} failed"),
            "Setup shows the failed step and how to fix it.".to_string(),
        ),
        NoticeKind::CatchUp => (
            format!("{n} more catch-up{s} found missed annotations"),
            "The timeline has one entry per gap.".to_string(),
        ),
        NoticeKind::Automation => (
            format!("{n} more automation notice{s}"),
            "`loopline automation show ID` (or the automation's page) lists each delivery."
                .to_string(),
        ),
    };
    Notice { kind, title, body }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(n: u32) -> Notice {
        Notice {
            kind: NoticeKind::AquariumIssue,
            title: format!("Aquarium issue {n} arrived"),
            body: String::new(),
        }
    }

    #[test]
    fn a_burst_of_500_makes_one_notification_and_one_summary() {
        let mut gate = NoticeGate::new(60_000);
        let mut shown = Vec::new();
        for i in 0..500 {
            shown.extend(gate.offer(issue(i), 1, 1_000 + i as i64));
        }
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].title, "Aquarium issue 0 arrived");
        assert!(
            gate.flush(30_000).is_empty(),
            "nothing before the window ends"
        );
        assert_eq!(gate.next_flush_at(), Some(61_000));
        let later = gate.flush(61_000);
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].title, "499 more Aquarium issues arrived");
        assert_eq!(gate.next_flush_at(), None, "no timer while nothing is held");
    }

    #[test]
    fn kinds_are_limited_separately_and_a_quiet_kind_passes_again() {
        let mut gate = NoticeGate::new(60_000);
        assert!(gate.offer(issue(1), 1, 0).is_some());
        let run = Notice {
            kind: NoticeKind::RunEnded,
            title: "Retrain run 2 succeeded".into(),
            body: String::new(),
        };
        assert!(gate.offer(run, 1, 10).is_some(), "another kind is not held");
        assert!(gate.flush(60_000).is_empty(), "nothing was held back");
        assert!(gate.offer(issue(2), 1, 60_001).is_some(), "a new window");
    }

    #[test]
    fn a_batch_counts_as_many() {
        let mut gate = NoticeGate::new(60_000);
        assert!(gate.offer(issue(1), 3, 0).is_some());
        assert_eq!(
            gate.flush(60_000)[0].title,
            "2 more Aquarium issues arrived"
        );
    }
}
