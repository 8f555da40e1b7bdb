//! What Quit leaves for the next start. The outbox is durable, so quitting loses nothing;
//! the user is told what resumes.

use loopline_core::{ApiError, QuitPlan};

use crate::Engine;

/// "1 retrain start", "2 exports to a labeling service".
fn phrase(kind: &str, n: i64) -> String {
    let (one, many) = match kind {
        loopline_store::RETRAIN_START => ("retrain start", "retrain starts"),
        loopline_store::AQUARIUM_EXPORT => (
            "export to a labeling service",
            "exports to a labeling service",
        ),
        crate::tunnel::LS_HOOK_URL => (
            "Label Studio webhook update",
            "Label Studio webhook updates",
        ),
        _ => ("delivery", "deliveries"),
    };
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn quit_plan_of(unfinished: &[(String, i64)], setup_running: bool) -> QuitPlan {
    let mut resumes: Vec<String> = unfinished
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| phrase(k, *n))
        .collect();
    if setup_running {
        resumes
            .push("the setup step in progress (run it again; it picks up where it stopped)".into());
    }
    let message = if resumes.is_empty() {
        "Loopline quit. Nothing was in progress.".to_string()
    } else {
        format!(
            "Loopline quit. Nothing is lost: {} will resume when Loopline starts again.",
            join(&resumes)
        )
    };
    QuitPlan { resumes, message }
}

fn join(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

impl Engine {
    /// What quitting now leaves for the next start.
    pub async fn quit_plan(&self) -> Result<QuitPlan, ApiError> {
        let unfinished = self.store.outbox_unfinished_by_kind().await?;
        Ok(quit_plan_of(
            &unfinished,
            self.storage_setup_job().map(|j| j.running).unwrap_or(false),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_what_resumes_and_nothing_when_idle() {
        assert_eq!(
            quit_plan_of(&[], false).message,
            "Loopline quit. Nothing was in progress."
        );
        let plan = quit_plan_of(
            &[
                (loopline_store::RETRAIN_START.into(), 1),
                (loopline_store::AQUARIUM_EXPORT.into(), 2),
            ],
            false,
        );
        assert_eq!(
            plan.message,
            "Loopline quit. Nothing is lost: 1 retrain start and 2 exports to a labeling service will resume when Loopline starts again."
        );
    }
}
