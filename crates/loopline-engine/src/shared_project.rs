//! "Working with others": before a start-a-pipeline automation is added, the project's
//! webhooks in Label Studio are read. A webhook that goes to another Loopline (another
//! laptop, or another data directory on this one) and is sent for new annotations means
//! that Loopline counts them too: if it also starts the pipeline, every threshold starts
//! two runs. The user is told, and goes on only when they say so.

use loopline_cloud::label_studio_hooks::LooplineHook;
use loopline_core::{ApiError, ErrorCode};

use crate::Engine;

/// How the refusal tells the user to go on all the same.
pub const GO_ON_FLAG: &str = "--even-if-shared";

impl Engine {
    /// Refuses (`shared_project`) when another Loopline receives the project's annotations.
    /// Without a Label Studio connection there is nothing to read, and the check passes.
    pub(crate) async fn check_project_not_shared(
        &self,
        source_id: &str,
        project: i64,
    ) -> Result<(), ApiError> {
        let ls = match self.label_studio().await {
            Ok(ls) => ls,
            Err(e) if e.code == ErrorCode::NotConnected => return Ok(()),
            Err(e) => return Err(e),
        };
        let source = self.store.source(source_id, self.clock.now_ms()).await?;
        let hooks = ls
            .loopline_hooks(project, &source.hook_path)
            .await
            .map_err(|e| {
                ApiError::new(
                    e.code,
                    format!(
                        "Loopline could not read project {project}'s webhooks in Label Studio to check that no other Loopline starts this pipeline too: {} Try again, or add {GO_ON_FLAG} to skip the check.",
                        e.message
                    ),
                )
            })?;
        let mut others = Vec::new();
        for hook in hooks {
            if !self.is_local_source(hook.source_id.as_deref()).await? {
                others.push(hook);
            }
        }
        if others.is_empty() {
            return Ok(());
        }
        Err(ApiError::new(
            ErrorCode::SharedProject,
            shared_message(project, &others),
        ))
    }

    /// A source of this data directory: its webhook is this Loopline's own.
    async fn is_local_source(&self, id: Option<&str>) -> Result<bool, ApiError> {
        let Some(id) = id else { return Ok(false) };
        Ok(self
            .store
            .list_sources(self.clock.now_ms())
            .await?
            .iter()
            .any(|s| s.id == id))
    }
}

fn shared_message(project: i64, others: &[LooplineHook]) -> String {
    let which: Vec<String> = others
        .iter()
        .map(|h| format!("webhook {} to {}", h.id, h.url))
        .collect();
    format!(
        "Another Loopline already receives project {project}'s new annotations ({}). If it starts this pipeline too, each laptop will start a run at every threshold. Remove that webhook in Label Studio (Project › Settings › Webhooks) or that Loopline's automation, or add {GO_ON_FLAG} to add this one anyway.",
        which.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_each_webhook_and_the_way_on() {
        let m = shared_message(
            7,
            &[LooplineHook {
                id: 12,
                url: "https://laptop2.bore.pub/hooks/src_23456789abcd".into(),
                source_id: Some("src_23456789abcd".into()),
            }],
        );
        assert!(m.contains("project 7"), "{m}");
        assert!(
            m.contains("webhook 12 to https://laptop2.bore.pub/hooks/src_23456789abcd"),
            "{m}"
        );
        assert!(m.contains(GO_ON_FLAG), "{m}");
    }
}
