//! The states an outbox item and an export's element go through, as the store keeps them
//! (by name, in TEXT columns): one spelling, checked by the compiler, instead of bare
//! strings in SQL binds and comparisons.

use crate::ExportState;

/// An outbox item's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxState {
    /// Waiting for its next attempt.
    Pending,
    /// Claimed by a worker, whose lease says until when.
    InFlight,
    Done,
    /// Gave up; "retry now" makes it pending again.
    Failed,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::InFlight => "in_flight",
            OutboxState::Done => "done",
            OutboxState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<OutboxState> {
        [
            OutboxState::Pending,
            OutboxState::InFlight,
            OutboxState::Done,
            OutboxState::Failed,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// Where one element of an export stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElementState {
    /// Not sent yet.
    Pending,
    /// Sent, its answer not recorded yet (a crash here is reconciled before sending again).
    Sending,
    Created,
    Skipped,
    Failed,
}

impl ElementState {
    pub fn as_str(self) -> &'static str {
        match self {
            ElementState::Pending => "pending",
            ElementState::Sending => "sending",
            ElementState::Created => "created",
            ElementState::Skipped => "skipped",
            ElementState::Failed => "failed",
        }
    }

    /// A state written by a newer version reads as failed: never sent again blindly.
    pub fn parse(s: &str) -> ElementState {
        [
            ElementState::Pending,
            ElementState::Sending,
            ElementState::Created,
            ElementState::Skipped,
            ElementState::Failed,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
        .unwrap_or(ElementState::Failed)
    }

    /// Still to be delivered (or reconciled).
    pub fn unsent(self) -> bool {
        matches!(self, ElementState::Pending | ElementState::Sending)
    }
}

impl ExportState {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportState::Pending => "pending",
            ExportState::Done => "done",
            ExportState::Failed => "failed",
        }
    }

    /// An unknown state reads as pending: the report then shows its elements as they are.
    pub fn parse(s: &str) -> ExportState {
        match s {
            "done" => ExportState::Done,
            "failed" => ExportState::Failed,
            _ => ExportState::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_the_serde_names() {
        for s in [
            OutboxState::Pending,
            OutboxState::InFlight,
            OutboxState::Done,
            OutboxState::Failed,
        ] {
            assert_eq!(OutboxState::parse(s.as_str()), Some(s));
        }
        for s in ["pending", "sending", "created", "skipped", "failed"] {
            assert_eq!(ElementState::parse(s).as_str(), s);
        }
        assert_eq!(ElementState::parse("from-the-future"), ElementState::Failed);
        for s in [ExportState::Pending, ExportState::Done, ExportState::Failed] {
            assert_eq!(ExportState::parse(s.as_str()), s);
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
