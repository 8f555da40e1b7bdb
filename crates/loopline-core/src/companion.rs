//! Loopline as a companion that stays: what its tray icon shows, what closing the window
//! does, what notifies, and whether it starts at login.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The tray icon's state at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CompanionLevel {
    /// Receiving, and nothing needs the user.
    Ok,
    /// Something needs the user: the tunnel is down, setup is incomplete, a run failed, a
    /// webhook Label Studio turned off.
    Attention,
    /// A run is executing, or an export or upload is being delivered.
    Working,
}

/// What the tray shows: its icon and tooltip, and the lines of its menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CompanionStatus {
    pub level: CompanionLevel,
    /// One line for the tooltip: "Loopline: receiving", "Loopline needs attention: …".
    pub headline: String,
    /// Everything that needs attention, or is in progress, one sentence each.
    pub reasons: Vec<String>,
    /// The public base URL the tunnel gives, when there is one.
    pub public_url: Option<String>,
    /// "Tunnel: reachable (bore)", "Tunnel: not configured".
    pub tunnel: String,
    /// "Next retrain: 12 of 16 (train)"; `None` without a rule.
    pub next_retrain: Option<String>,
    /// "Last event: ANNOTATION_CREATED from Birds at 10:42"; `None` before the first.
    pub last_event: Option<String>,
    /// When the newest event arrived (ms since the epoch), for "n minutes ago".
    pub last_event_at_ms: Option<i64>,
}

/// What closing the window does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CloseAction {
    /// Hide the window; receiving, the tunnel, the outbox and the monitor go on.
    #[default]
    KeepReceiving,
    /// Quit Loopline (the outbox is durable: its work resumes at the next start).
    Quit,
}

/// What raises a desktop notification. Every switch is on by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct NotificationPrefs {
    pub run_ended: bool,
    pub aquarium_issue: bool,
    /// Label Studio turned Loopline's webhook off, or it was deleted.
    pub webhook_off: bool,
    /// The tunnel has been down for more than a minute.
    pub tunnel_down: bool,
    pub loop_check_failed: bool,
    /// A catch-up found annotations whose webhooks never arrived.
    pub catch_up: bool,
    /// A notify automation with --desktop fired.
    pub automation: bool,
}

impl Default for NotificationPrefs {
    fn default() -> Self {
        NotificationPrefs {
            run_ended: true,
            aquarium_issue: true,
            webhook_off: true,
            tunnel_down: true,
            loop_check_failed: true,
            catch_up: true,
            automation: true,
        }
    }
}

/// Each kind of desktop notification, as the settings switch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    RunEnded,
    AquariumIssue,
    WebhookOff,
    TunnelDown,
    LoopCheckFailed,
    CatchUp,
    /// A notify automation's desktop notice.
    Automation,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 7] = [
        NoticeKind::RunEnded,
        NoticeKind::AquariumIssue,
        NoticeKind::WebhookOff,
        NoticeKind::TunnelDown,
        NoticeKind::LoopCheckFailed,
        NoticeKind::CatchUp,
        NoticeKind::Automation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::RunEnded => "run_ended",
            NoticeKind::AquariumIssue => "aquarium_issue",
            NoticeKind::WebhookOff => "webhook_off",
            NoticeKind::TunnelDown => "tunnel_down",
            NoticeKind::LoopCheckFailed => "loop_check_failed",
            NoticeKind::CatchUp => "catch_up",
            NoticeKind::Automation => "automation",
        }
    }

    pub fn parse(s: &str) -> Option<NoticeKind> {
        NoticeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl NotificationPrefs {
    pub fn allows(&self, kind: NoticeKind) -> bool {
        match kind {
            NoticeKind::RunEnded => self.run_ended,
            NoticeKind::AquariumIssue => self.aquarium_issue,
            NoticeKind::WebhookOff => self.webhook_off,
            NoticeKind::TunnelDown => self.tunnel_down,
            NoticeKind::LoopCheckFailed => self.loop_check_failed,
            NoticeKind::CatchUp => self.catch_up,
            NoticeKind::Automation => self.automation,
        }
    }

    pub fn set(&mut self, kind: NoticeKind, on: bool) {
        let slot = match kind {
            NoticeKind::RunEnded => &mut self.run_ended,
            NoticeKind::AquariumIssue => &mut self.aquarium_issue,
            NoticeKind::WebhookOff => &mut self.webhook_off,
            NoticeKind::TunnelDown => &mut self.tunnel_down,
            NoticeKind::LoopCheckFailed => &mut self.loop_check_failed,
            NoticeKind::CatchUp => &mut self.catch_up,
            NoticeKind::Automation => &mut self.automation,
        };
        *slot = on;
    }
}

/// The companion's settings (`loopline settings show|set`, and Settings in the app).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct CompanionPrefs {
    pub on_close: CloseAction,
    pub notify: NotificationPrefs,
    /// Whether the first close has already said that Loopline keeps receiving.
    pub close_noticed: bool,
}

/// One desktop notification, decided by the engine and shown by the shell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Notice {
    pub kind: NoticeKind,
    pub title: String,
    pub body: String,
}

/// Whether Loopline starts when the user logs in, and the entry that makes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AutostartStatus {
    pub enabled: bool,
    /// Where the login entry lives (on Linux, a `.desktop` file under
    /// `$XDG_CONFIG_HOME/autostart`).
    pub entry: Option<String>,
    /// What the entry starts: the app with `--hidden`.
    pub command: Option<String>,
}

/// What Quit leaves for the next start (the outbox is durable, so nothing is lost).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct QuitPlan {
    /// One phrase per kind of unfinished work: "1 retrain start", "2 exports".
    pub resumes: Vec<String>,
    /// The sentence to show: "Quitting. 1 retrain start resumes when Loopline starts again."
    pub message: String,
}
