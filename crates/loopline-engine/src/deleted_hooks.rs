//! What happens when Loopline finds its webhook deleted in Label Studio. By default it is
//! registered again (a deleted webhook silently stops every delivery). Some teams delete it
//! on purpose to pause deliveries; with the `report` policy Loopline leaves it deleted,
//! stops watching it, and says so once on the timeline.

use loopline_core::{ApiError, DeletedHookPolicy, ErrorCode};

use crate::hook_watch::Registered;
use crate::Engine;

const POLICY: &str = "label_studio.deleted_hooks";

impl Engine {
    /// `loopline label-studio hook-policy`
    pub async fn deleted_hook_policy(&self) -> Result<DeletedHookPolicy, ApiError> {
        match self.store.setting(POLICY).await? {
            None => Ok(DeletedHookPolicy::default()),
            Some(v) => DeletedHookPolicy::parse(&v).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidArgument,
                    format!("The saved policy for deleted webhooks ('{v}') cannot be read. Set it again: `loopline label-studio hook-policy --if-deleted recreate|report`."),
                )
            }),
        }
    }

    /// `loopline label-studio hook-policy --if-deleted recreate|report`. Every process
    /// reads it from the data directory, so a running serve or app follows at once.
    pub async fn set_deleted_hook_policy(
        &self,
        policy: DeletedHookPolicy,
    ) -> Result<DeletedHookPolicy, ApiError> {
        self.store.set_setting(POLICY, policy.as_str()).await?;
        Ok(policy)
    }

    /// The webhook is gone from Label Studio and the user chose to be told, not to have it
    /// recreated: forget it (so it is reported once) and write why on the timeline.
    pub(crate) async fn report_deleted_hook(
        &self,
        hook: &Registered,
        context: &str,
    ) -> Result<(), ApiError> {
        self.forget_hook(&hook.source_id, hook.project_id).await?;
        let summary = format!(
            "{context}Loopline's webhook {} on Label Studio project {} was deleted in Label Studio. As you chose, Loopline did not register it again, so Label Studio sends nothing to Loopline for this project. To resume, run `loopline label-studio hook --source {} --project {}`.",
            hook.webhook_id, hook.project_id, hook.source_id, hook.project_id
        );
        tracing::warn!(project = hook.project_id, "{summary}");
        self.record_notice(
            &hook.source_id,
            hook.project_id,
            "LOOPLINE_WEBHOOK_DELETED",
            &summary,
        )
        .await
    }
}
