//! The labeling setup through an in-memory Label Studio and IAM: the plan does nothing, a
//! run creates the project, the user, both storages (keys handed over, never kept), a rerun
//! changes nothing and hands out no key, an exact title decides (and two projects with it
//! are refused), a failed sync is read from the storage's status, a refused config change
//! keeps Label Studio's reason, and pasted keys come from the keychain. Against a real Label
//! Studio and moto: e2e/test_setup_labeling.py.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use common::fake_label_studio::{FakeLabelStudio, FakeUsers};
use common::{receiving_with, Running};
use loopline_cloud::label_studio_setup::ProjectInfo;
use loopline_core::{
    ErrorCode, LabelingRequest, Sensitive, SetupReport, StepStatus, StorageCredentials,
};

struct World {
    r: Running,
    ls: Arc<FakeLabelStudio>,
    users: Arc<FakeUsers>,
}

async fn world() -> World {
    world_with(vec![Duration::ZERO; 2]).await
}

async fn world_with(delays: Vec<Duration>) -> World {
    let ls = Arc::new(FakeLabelStudio::default());
    ls.images.store(1800, Ordering::SeqCst);
    let users = Arc::new(FakeUsers::default());
    let (l, u) = (ls.clone(), users.clone());
    let r = receiving_with(move |o| {
        o.labeling = Some(l);
        o.users = Some(u);
        o.setup_retry_delays = Some(delays);
    })
    .await;
    World { r, ls, users }
}

fn ask() -> LabelingRequest {
    LabelingRequest {
        project_title: "Birds".into(),
        labels: ["Beak", "Head", "Wing", "Body"].map(String::from).to_vec(),
        bucket: Some("sagemaker-birds".into()),
        region: Some("eu-west-1".into()),
        ..Default::default()
    }
}

fn statuses(r: &SetupReport) -> Vec<(String, StepStatus)> {
    r.steps.iter().map(|s| (s.key.clone(), s.status)).collect()
}

fn step<'a>(r: &'a SetupReport, key: &str) -> &'a loopline_core::SetupStep {
    r.steps.iter().find(|s| s.key == key).unwrap()
}

#[tokio::test]
async fn a_first_run_creates_everything_once_and_a_second_changes_nothing() {
    let w = world().await;
    let plan = w.r.engine.setup_label_studio(ask(), true).await.unwrap();
    assert!(
        plan.steps[..4]
            .iter()
            .all(|s| s.status == StepStatus::Planned),
        "{plan:?}"
    );
    assert!(step(&plan, "ls.project")
        .detail
        .as_deref()
        .unwrap()
        .contains("<PolygonLabels"));
    assert!(step(&plan, "ls.credentials")
        .detail
        .as_deref()
        .unwrap()
        .contains("arn:aws:s3:::sagemaker-birds/bird-images/*"));
    assert_eq!(w.ls.writes.load(Ordering::SeqCst), 0, "a plan does nothing");
    assert!(w.users.users.lock().unwrap().is_empty());

    let done = w.r.engine.setup_label_studio(ask(), false).await.unwrap();
    let want = |s: StepStatus| {
        vec![
            ("ls.project".to_string(), s),
            ("ls.credentials".to_string(), s),
            ("ls.source".to_string(), s),
            ("ls.target".to_string(), s),
            ("ls.webhook".to_string(), StepStatus::Skipped),
        ]
    };
    assert_eq!(statuses(&done), want(StepStatus::Created), "{done:?}");
    assert!(
        step(&done, "ls.source")
            .summary
            .contains("Synced 1,800 new images → 1,800 new tasks"),
        "{}",
        step(&done, "ls.source").summary
    );
    let given = w.ls.keys_given.lock().unwrap().clone();
    assert_eq!(given.len(), 2);
    assert!(given
        .iter()
        .all(|(id, secret)| id.as_deref() == Some("AKIAFAKE00000000") && secret.is_some()));
    let everything = format!("{done:?}{:?}", w.r.engine.setup_status().await.unwrap());
    assert!(
        !everything.contains("fake-secret-0"),
        "the key is handed to Label Studio only"
    );
    let choice = w.r.engine.labeling_choice().await.unwrap().unwrap();
    assert_eq!(choice.title, "Birds");

    w.ls.images.store(1805, Ordering::SeqCst);
    let again = w.r.engine.setup_label_studio(ask(), false).await.unwrap();
    assert_eq!(step(&again, "ls.source").status, StepStatus::Updated);
    assert!(step(&again, "ls.source")
        .summary
        .contains("Synced 5 new images"));
    let third = w.r.engine.setup_label_studio(ask(), false).await.unwrap();
    assert_eq!(statuses(&third), want(StepStatus::Unchanged), "{third:?}");
    assert_eq!(
        w.users.keys_made.load(Ordering::SeqCst),
        1,
        "a rerun hands out no key"
    );
    assert_eq!(w.ls.projects.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn titles_match_exactly_and_two_projects_with_one_title_are_refused() {
    let w = world().await;
    for (id, title) in [(7, "Birds 2"), (8, "Birds")] {
        w.ls.projects.lock().unwrap().push(ProjectInfo {
            id,
            title: title.into(),
            label_config: "<View/>".into(),
            task_number: 0,
        });
    }
    w.ls.next_id.store(100, Ordering::SeqCst);
    let found = w.r.engine.setup_label_studio(ask(), false).await.unwrap();
    let p = step(&found, "ls.project");
    assert_eq!(
        p.status,
        StepStatus::Updated,
        "the exact title's project, its config brought in step"
    );
    assert!(p.resource.contains("project 8"), "{}", p.resource);

    w.ls.projects.lock().unwrap().push(ProjectInfo {
        id: 9,
        title: "Birds".into(),
        label_config: "<View/>".into(),
        task_number: 0,
    });
    let twice = w.r.engine.setup_label_studio(ask(), false).await.unwrap();
    let e = step(&twice, "ls.project").error.clone().unwrap();
    assert!(
        e.message.contains("ids 8, 9") && e.message.contains("--project"),
        "{}",
        e.message
    );
    assert_eq!(
        step(&twice, "ls.source").status,
        StepStatus::Skipped,
        "waits for the project"
    );

    *w.ls.refuse_config.lock().unwrap() =
        Some("Created annotations use the label 'Car', which the new config drops.".into());
    let refused =
        w.r.engine
            .setup_label_studio(
                LabelingRequest {
                    project: Some(9),
                    labels: vec!["Beak".into()],
                    ..ask()
                },
                false,
            )
            .await
            .unwrap();
    let e = step(&refused, "ls.project").error.clone().unwrap();
    assert!(
        e.message.contains("label 'Car'") && e.message.contains("keep the labels"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn a_failed_sync_is_read_from_the_storage_status() {
    let w = world().await;
    w.ls.sync_failures.lock().unwrap().push_back((
        "failed".into(),
        "Traceback (most recent call last):\n  ...\nbotocore.exceptions.ClientError: AccessDenied when calling ListObjectsV2\n".into(),
    ));
    let done = w.r.engine.setup_label_studio(ask(), false).await.unwrap();
    let s = step(&done, "ls.source");
    assert_eq!(s.status, StepStatus::Failed);
    let e = s.error.clone().unwrap();
    assert_eq!(e.code, ErrorCode::LsStorageFailed);
    assert!(
        e.message.contains("ended 'failed'")
            && e.message
                .contains("AccessDenied when calling ListObjectsV2"),
        "{}",
        e.message
    );
    // The storage exists; a rerun syncs it again instead of creating another.
    let again = w.r.engine.setup_label_studio(ask(), false).await.unwrap();
    assert_eq!(step(&again, "ls.source").status, StepStatus::Updated);
    assert_eq!(w.ls.imports.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn pasted_keys_come_from_the_keychain_and_none_means_no_keys() {
    let w = world().await;
    let keys = LabelingRequest {
        storage_credentials: StorageCredentials::Keys,
        access_key_id: Some("AKIAUSERGIVEN1234".into()),
        secret_key_secret: Some("ls-storage-secret".into()),
        ..ask()
    };
    let missing =
        w.r.engine
            .setup_label_studio(keys.clone(), false)
            .await
            .unwrap();
    let e = step(&missing, "ls.credentials").error.clone().unwrap();
    assert_eq!(e.code, ErrorCode::SecretUnavailable);
    assert!(
        e.message.contains("loopline secret set ls-storage-secret"),
        "{}",
        e.message
    );
    assert_eq!(step(&missing, "ls.source").status, StepStatus::Skipped);

    w.r.engine
        .set_secret(
            "ls-storage-secret",
            Sensitive::new("user-given-secret".to_string()),
        )
        .await
        .unwrap();
    let done = w.r.engine.setup_label_studio(keys, false).await.unwrap();
    let c = step(&done, "ls.credentials");
    assert_eq!(c.resource, "access key AKIA…1234");
    assert!(!format!("{done:?}").contains("user-given-secret"));
    assert!(w
        .ls
        .keys_given
        .lock()
        .unwrap()
        .iter()
        .all(|(id, s)| id.as_deref() == Some("AKIAUSERGIVEN1234")
            && s.as_deref() == Some("user-given-secret")));
    assert_eq!(w.users.keys_made.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_loop_check_needs_a_verified_tunnel_and_leaves_no_marker_behind() {
    let w = world().await;
    w.r.engine.setup_label_studio(ask(), false).await.unwrap();
    let project = w.r.engine.labeling_choice().await.unwrap().unwrap().project;
    let report = w.r.engine.check_loop("src_x", project).await.unwrap();
    let reach = step(&report, "check.reach");
    assert_eq!(reach.status, StepStatus::Failed);
    assert_eq!(
        reach.error.as_ref().unwrap().code,
        ErrorCode::TunnelUnreachable
    );
    let last = step(&report, "check.loop");
    assert_eq!(last.status, StepStatus::Failed);
    assert!(
        w.ls.annotations.lock().unwrap().is_empty(),
        "nothing was annotated"
    );
    let status = w.r.engine.setup_status().await.unwrap();
    assert_eq!(
        status
            .iter()
            .find(|s| s.key == "check.loop")
            .unwrap()
            .status,
        StepStatus::Failed
    );
}

const USER: &str = "loopline-label-studio-sagemaker-birds";

fn refused() -> loopline_core::ApiError {
    loopline_core::ApiError::new(
        ErrorCode::LsStorageFailed,
        "Label Studio could not read s3://sagemaker-birds/bird-images/ with these keys.",
    )
}

#[tokio::test]
async fn a_key_no_storage_took_is_deleted_in_the_same_run_and_the_next_run_goes_on() {
    let w = world().await;
    *w.ls.refuse_storages.lock().unwrap() = Some(refused());
    // Three failed runs in a row: each makes a key, and each deletes it again.
    for run in 1..=3 {
        let failed = w.r.engine.setup_label_studio(ask(), false).await.unwrap();
        assert_eq!(step(&failed, "ls.source").status, StepStatus::Failed);
        assert_eq!(step(&failed, "ls.target").status, StepStatus::Failed);
        assert!(
            w.users.keys_of(USER).is_empty(),
            "run {run}: the key went nowhere, so it is gone"
        );
        let c = step(&failed, "ls.credentials");
        assert_ne!(c.status, StepStatus::Failed, "run {run}: {c:?}");
        assert!(
            c.summary
                .contains("No storage took the new access key AKIA…")
                && c.summary.contains("deleted it again"),
            "run {run}: {}",
            c.summary
        );
    }
    assert_eq!(w.users.keys_made.load(Ordering::SeqCst), 3);
    assert!(w.ls.keys_given.lock().unwrap().is_empty());

    // Label Studio can read the bucket now: the next run makes both storages with one key.
    *w.ls.refuse_storages.lock().unwrap() = None;
    let done = w.r.engine.setup_label_studio(ask(), false).await.unwrap();
    assert_eq!(step(&done, "ls.source").status, StepStatus::Created);
    assert_eq!(step(&done, "ls.target").status, StepStatus::Created);
    assert!(step(&done, "ls.credentials")
        .summary
        .contains("A new access key went to Label Studio"));
    let kept = w.users.keys_of(USER);
    assert_eq!(kept, vec!["AKIAFAKE00000003".to_string()]);
    assert!(w
        .ls
        .keys_given
        .lock()
        .unwrap()
        .iter()
        .all(|(id, _)| id.as_deref() == Some("AKIAFAKE00000003")));
    assert_eq!(w.users.most_keys.load(Ordering::SeqCst), 1, "never two");
    let everything = format!("{done:?}{:?}", w.r.engine.setup_status().await.unwrap());
    assert!(!everything.contains("fake-secret"), "no secret is shown");
}

#[tokio::test]
async fn a_key_that_cannot_be_deleted_fails_the_step_and_says_how_to_delete_it() {
    let w = world().await;
    *w.ls.refuse_storages.lock().unwrap() = Some(refused());
    *w.users.refuse_delete.lock().unwrap() = Some(loopline_core::ApiError::new(
        ErrorCode::AwsAccessDenied,
        "User is not authorized to perform: iam:DeleteAccessKey.",
    ));
    let failed = w.r.engine.setup_label_studio(ask(), false).await.unwrap();
    let c = step(&failed, "ls.credentials");
    assert_eq!(c.status, StepStatus::Failed);
    let e = c.error.clone().unwrap();
    assert!(
        e.message.contains("AKIA…0000")
            && e.message.contains("iam:DeleteAccessKey")
            && e.message
                .contains(&format!("aws iam delete-access-key --user-name {USER}")),
        "{}",
        e.message
    );
    assert!(!format!("{failed:?}").contains("fake-secret"));
}

#[tokio::test]
async fn a_user_out_of_keys_is_told_which_keys_it_has_and_how_to_free_one() {
    let w = world().await;
    w.r.engine.setup_label_studio(ask(), false).await.unwrap();
    // An older Loopline leaked a key; the storages (removed since) need a new one.
    w.users
        .users
        .lock()
        .unwrap()
        .get_mut(USER)
        .unwrap()
        .1
        .push("AKIALEAKED0000LOST".into());
    w.ls.imports.lock().unwrap().clear();
    w.ls.exports.lock().unwrap().clear();
    let out = w.r.engine.setup_label_studio(ask(), false).await.unwrap();
    let e = step(&out, "ls.credentials").error.clone().unwrap();
    assert!(
        e.message
            .contains("AKIA…0000 (made 2026-12-01T10:00:00Z, never used)")
            && e.message.contains("AKIA…LOST")
            && e.message
                .contains(&format!("aws iam list-access-keys --user-name {USER}"))
            && e.message.contains("delete-access-key"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn a_cancelled_labeling_setup_stops_retrying_keeps_what_was_done_and_deletes_the_unused_key()
{
    // An hour between tries: only Cancel ends the wait.
    let w = world_with(vec![Duration::from_secs(3600); 3]).await;
    *w.ls.refuse_storages.lock().unwrap() = Some(refused());
    let (engine, req) = (
        w.r.engine.clone(),
        LabelingRequest {
            source: Some("src_x".into()),
            ..ask()
        },
    );
    let setup = tokio::spawn(async move { engine.setup_label_studio(req, false).await });
    // Once Label Studio refused the source storage, the setup waits an hour to try again.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while w.ls.refusals.load(Ordering::SeqCst) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "never tried");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(w.r.engine.cancel_setup(loopline_core::SetupWork::Labeling));
    let done = tokio::time::timeout(Duration::from_secs(10), setup)
        .await
        .expect("Cancel ends the retries at once")
        .unwrap()
        .unwrap();
    assert_eq!(
        step(&done, "ls.project").status,
        StepStatus::Created,
        "kept"
    );
    let source = step(&done, "ls.source");
    assert_eq!(source.status, StepStatus::Failed);
    assert_eq!(source.error.as_ref().unwrap().code, ErrorCode::Cancelled);
    assert_eq!(
        w.ls.refusals.load(Ordering::SeqCst),
        1,
        "no try after Cancel"
    );
    let target = step(&done, "ls.target");
    assert_eq!(
        target.status,
        StepStatus::Failed,
        "not made, and not skipped quietly"
    );
    assert!(
        target
            .summary
            .contains("Cancelled before the target storage was made"),
        "{}",
        target.summary
    );
    assert_eq!(step(&done, "ls.webhook").status, StepStatus::Skipped);
    assert!(
        step(&done, "ls.credentials")
            .summary
            .contains("deleted it again"),
        "{:?}",
        step(&done, "ls.credentials")
    );
    assert!(w.users.keys_of(USER).is_empty());
}
