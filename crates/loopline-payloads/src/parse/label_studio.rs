//! Label Studio webhooks: `{action, project, annotation|annotations, task|tasks}`.
//! `ANNOTATIONS_CREATED` carries lists in `annotation` and `task`; a webhook with
//! `send_payload` off sends only `{"action": …}`.

use loopline_core::EventKind;

use super::fields::{humanize_action, list_ids};
use super::{Envelope, Parsed};

fn looks_like_ls_action(action: &str) -> bool {
    !action.is_empty()
        && action
            .chars()
            .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
        && action.contains('_')
}

pub(crate) fn parse(env: &Envelope) -> Option<Parsed> {
    let action = env.action.string()?;
    if !looks_like_ls_action(&action) {
        return None;
    }
    let project = &env.project;
    let mut project_id = project.id.int().or_else(|| project.scalar.int());
    let project_name = project.title.string();

    let annotations = &env.annotation.items;
    let mut annotation_ids: Vec<i64> = annotations.iter().filter_map(|a| a.id).collect();
    annotation_ids.extend(&env.annotations.ids);
    let mut task_ids = env.task.ids.clone();
    task_ids.extend(&env.tasks.ids);

    // The annotation object knows its task and project even when the payload omits them.
    if task_ids.is_empty() {
        task_ids = annotations
            .iter()
            .filter(|a| a.is_object)
            .filter_map(|a| a.task)
            .collect();
        task_ids.dedup();
    }
    if project_id.is_none() {
        project_id = annotations.iter().find_map(|a| a.project);
    }
    let skipped = annotations.iter().any(|a| a.was_cancelled == Some(true));

    let no_payload = !env.project.present
        && !env.annotation.present
        && !env.annotations.present
        && !env.task.present
        && !env.tasks.present;
    let summary = if no_payload {
        format!(
            "{} (no payload: the webhook has send_payload off)",
            humanize_action(&action)
        )
    } else {
        let place = match (&project_name, project_id) {
            (Some(name), _) => format!(" in '{name}'"),
            (None, Some(id)) => format!(" in project {id}"),
            (None, None) => String::new(),
        };
        describe(
            &action,
            &annotation_ids,
            &task_ids,
            skipped,
            &place,
            project_name.as_deref(),
            project_id,
        )
    };

    Some(Parsed {
        kind: Some(EventKind::LabelStudio),
        action: Some(action),
        project_id,
        project_name,
        summary,
        annotation_ids,
        task_ids,
        useful_annotation_number: project.useful_annotation_number.int(),
        total_annotations_number: project.total_annotations_number.int(),
        issue_id: None,
    })
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        one.to_string()
    } else {
        format!("{n} {many}")
    }
}

fn describe(
    action: &str,
    annotations: &[i64],
    tasks: &[i64],
    skipped: bool,
    place: &str,
    title: Option<&str>,
    project_id: Option<i64>,
) -> String {
    let skip = if skipped { " (skipped)" } else { "" };
    let on_tasks = match tasks.len() {
        0 => String::new(),
        1 => format!(" on task {}", tasks[0]),
        _ => format!(" on tasks {}", list_ids(tasks, 5)),
    };
    let project_word = || match (title, project_id) {
        (Some(t), _) => format!("Project '{t}'"),
        // PROJECT_DELETED carries only the id.
        (None, Some(id)) => format!("Project {id}"),
        (None, None) => "Project".to_string(),
    };
    match action {
        "ANNOTATION_CREATED" | "ANNOTATION_UPDATED" => {
            let verb = if action == "ANNOTATION_CREATED" {
                "created"
            } else {
                "updated"
            };
            match annotations.first() {
                Some(a) => format!("Annotation {a} {verb}{on_tasks}{place}{skip}"),
                None => format!("Annotation {verb}{on_tasks}{place}{skip}"),
            }
        }
        "ANNOTATIONS_CREATED" => format!(
            "{} created{on_tasks}{place}{skip}",
            capitalize(&plural(annotations.len(), "1 annotation", "annotations"))
        ),
        "ANNOTATIONS_DELETED" => match annotations.len() {
            1 => format!("Annotation {} deleted{place}", annotations[0]),
            0 => format!("Annotations deleted{place}"),
            _ => format!("Annotations {} deleted{place}", list_ids(annotations, 5)),
        },
        "TASKS_CREATED" | "TASKS_DELETED" => {
            let verb = if action == "TASKS_CREATED" {
                "created"
            } else {
                "deleted"
            };
            match tasks.len() {
                1 => format!("Task {} {verb}{place}", tasks[0]),
                0 => format!("Tasks {verb}{place}"),
                n => format!("{n} tasks {verb}{place}"),
            }
        }
        "PROJECT_CREATED" => format!("{} created", project_word()),
        "PROJECT_UPDATED" => format!("{} updated", project_word()),
        "PROJECT_DELETED" => format!("{} deleted", project_word()),
        other => format!("{}{place}", humanize_action(other)),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
