//! Dataset-version automations through the in-memory S3 and Label Studio and the injected
//! clock: a version holds exactly the annotation objects listed at its trigger, is written
//! once (a manifest already there is only recorded), waits for the annotation that made it,
//! keeps the last K manifests and never touches an annotation object; versions diff by key
//! and ETag, labels side by side.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use common::fake_label_studio::FakeLabelStudio;
use common::fake_s3::{Bucket, FakeS3};
use common::manual_clock::ManualClock;
use common::{annotation_created, receiving_with, Running};
use loopline_cloud::label_studio_setup::ProjectInfo;
use loopline_cloud::s3::ObjectStore;
use loopline_core::{
    manifest_key, AutomationAction, AutomationRequest, AutomationTrigger, CreatedSource,
    DatasetManifest, DeliveryStatus, ErrorCode, FireMode, SourceKind,
};
use sha2::{Digest, Sha256};

const T0: i64 = 1_790_000_000_000;
const BUCKET: &str = "birds-data";
const LABEL_CONFIG: &str = "<View><Image name=\"image\" value=\"$image\"/></View>";

fn annotation(id: i64, labels: &[&str], cancelled: bool) -> Bytes {
    let result: Vec<serde_json::Value> = labels
        .iter()
        .map(|l| serde_json::json!({"type": "polygonlabels", "value": {"points": [[1, 1], [2, 2], [3, 1]], "polygonlabels": [l]}}))
        .collect();
    Bytes::from(
        serde_json::json!({"id": id, "was_cancelled": cancelled, "result": result,
            "task": {"id": id, "data": {"image": format!("s3://{BUCKET}/bird-images/{id}.jpg")}}})
        .to_string(),
    )
}

struct World {
    r: Running,
    src: CreatedSource,
    s3: Arc<FakeS3>,
    clock: Arc<ManualClock>,
}

async fn world() -> World {
    let s3 = Arc::new(FakeS3::new("us-east-1"));
    s3.buckets.lock().unwrap().insert(
        BUCKET.into(),
        Bucket {
            region: "us-east-1".into(),
            ..Default::default()
        },
    );
    let ls = Arc::new(FakeLabelStudio::default());
    ls.projects.lock().unwrap().push(ProjectInfo {
        id: 7,
        title: "Birds".into(),
        label_config: LABEL_CONFIG.into(),
        task_number: 3,
    });
    let clock = Arc::new(ManualClock::new(T0));
    let (store, labeling, c) = (s3.clone(), ls.clone(), clock.clone());
    let r = receiving_with(move |o| {
        o.object_store = Some(store);
        o.labeling = Some(labeling);
        o.clock = Some(c);
    })
    .await;
    let src = r.add(SourceKind::LabelStudio, None).await;
    World { r, src, s3, clock }
}

impl World {
    async fn put(&self, id: i64, labels: &[&str], cancelled: bool) {
        self.s3
            .put_object(
                BUCKET,
                &format!("annotations/{id}"),
                annotation(id, labels, cancelled),
                "application/json",
                "",
            )
            .await
            .unwrap();
    }

    async fn automation(&self, keep: i64) -> String {
        let req = AutomationRequest {
            name: "freeze birds".into(),
            trigger: AutomationTrigger {
                source_id: self.src.id.clone(),
                actions: vec!["ANNOTATION_CREATED".into()],
                project_id: Some(7),
                conditions: vec![],
                fire: FireMode::Each,
            },
            action: AutomationAction::DatasetVersion {
                bucket: BUCKET.into(),
                prefix: None,
                region: Some("us-east-1".into()),
                keep,
            },
            dry_run: false,
            start_count: None,
            even_if_shared: None,
        };
        self.r.engine.add_automation(req).await.unwrap().id
    }

    /// Label Studio's webhook for annotation `id`, judged and delivered.
    async fn annotate(&self, id: i64) {
        let (status, _) = self
            .r
            .post_ls(&self.src, &annotation_created(7, id, id))
            .await;
        assert_eq!(status, 200);
        self.r.engine.evaluate_automations().await.unwrap();
        self.r.engine.drain_outbox().await.unwrap();
    }

    fn manifest(&self, automation: &str, version: &str) -> Option<DatasetManifest> {
        self.s3
            .object(BUCKET, &manifest_key(automation, version))
            .map(|(body, _, _)| serde_json::from_slice(&body).unwrap())
    }
}

#[tokio::test]
async fn a_version_holds_the_objects_at_its_trigger_with_labels_and_project() {
    let w = world().await;
    let id = w.automation(10).await;
    w.put(1, &["Beak", "Wing"], false).await;
    w.put(2, &["Beak"], false).await;
    w.put(3, &["Head"], true).await;
    w.annotate(2).await;

    let m = w.manifest(&id, "v1").expect("v1 written");
    let keys: Vec<&str> = m.objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(
        keys,
        vec!["annotations/1", "annotations/2", "annotations/3"]
    );
    assert!(m.objects.iter().all(|o| o.etag.len() == 32 && o.size > 0));
    assert_eq!(m.labels.get("Beak"), Some(&2));
    assert_eq!(m.labels.get("Wing"), Some(&1));
    assert_eq!(
        m.labels.get("Head"),
        None,
        "a cancelled annotation is not counted"
    );
    assert_eq!(m.cancelled, 1);
    let p = m.project.as_ref().unwrap();
    assert_eq!(p.id, 7);
    assert_eq!(
        p.label_config_sha256,
        format!("{:x}", Sha256::digest(LABEL_CONFIG))
    );
    assert_eq!(m.trigger.action.as_deref(), Some("ANNOTATION_CREATED"));
    assert_eq!(
        m.uri,
        format!("s3://{BUCKET}/datasets/{id}/v1/manifest.json")
    );

    let detail = w.r.engine.automation_detail(&id).await.unwrap();
    assert_eq!(detail.deliveries[0].status, DeliveryStatus::Delivered);
    assert_eq!(
        detail.deliveries[0].response.as_deref(),
        Some(m.uri.as_str())
    );
    let listed = w.r.engine.list_dataset_versions(None).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].version.as_str(), listed[0].kept), ("v1", true));
    assert_eq!(w.r.engine.dataset_manifest("v1").await.unwrap(), m);
    assert_eq!(
        w.r.engine
            .dataset_manifest(&format!("{id}/v1"))
            .await
            .unwrap(),
        m
    );
}

#[tokio::test]
async fn a_manifest_already_written_is_recorded_not_written_again() {
    let w = world().await;
    let id = w.automation(10).await;
    w.put(1, &["Beak"], false).await;
    // A worker killed after its PUT and before recording it left v1 behind.
    let earlier = Bytes::from_static(b"{\"written\": \"by the killed worker\"}");
    w.s3.put_object(
        BUCKET,
        &manifest_key(&id, "v1"),
        earlier.clone(),
        "application/json",
        "",
    )
    .await
    .unwrap();
    let puts = w.s3.puts.load(Ordering::SeqCst);
    w.annotate(1).await;
    assert_eq!(
        w.s3.puts.load(Ordering::SeqCst),
        puts,
        "nothing written again"
    );
    assert_eq!(
        w.s3.object(BUCKET, &manifest_key(&id, "v1")).unwrap().0,
        earlier
    );
    let detail = w.r.engine.automation_detail(&id).await.unwrap();
    assert_eq!(detail.deliveries[0].status, DeliveryStatus::Delivered);
    // A duplicate of the webhook and another drain change nothing either.
    w.annotate(1).await;
    assert_eq!(w.s3.puts.load(Ordering::SeqCst), puts);
    assert_eq!(
        w.r.engine
            .automation_detail(&id)
            .await
            .unwrap()
            .automation
            .fired,
        1
    );
}

#[tokio::test]
async fn it_waits_for_the_annotation_that_made_it() {
    let w = world().await;
    let id = w.automation(10).await;
    w.put(1, &["Beak"], false).await;
    w.annotate(2).await; // Label Studio has not written annotation 2 yet
    let detail = w.r.engine.automation_detail(&id).await.unwrap();
    assert_eq!(detail.deliveries[0].status, DeliveryStatus::Pending);
    assert!(w.manifest(&id, "v1").is_none());
    w.put(2, &["Wing"], false).await;
    w.clock.advance_ms(60_000);
    w.r.engine.drain_outbox().await.unwrap();
    let m = w
        .manifest(&id, "v1")
        .expect("written once the annotation is there");
    assert_eq!(m.objects.len(), 2);
    assert_eq!(
        w.r.engine.automation_detail(&id).await.unwrap().deliveries[0].status,
        DeliveryStatus::Delivered
    );
}

#[tokio::test]
async fn the_last_k_are_kept_and_versions_diff_by_key_and_etag() {
    let w = world().await;
    let id = w.automation(2).await;
    let gets = || w.s3.gets.load(std::sync::atomic::Ordering::SeqCst);
    w.put(1, &["Beak"], false).await;
    w.annotate(1).await;
    assert_eq!(gets(), 1);
    w.put(2, &["Wing"], false).await;
    w.annotate(2).await;
    assert_eq!(
        gets(),
        2,
        "only the new annotation is read; 1's ETag is unchanged"
    );
    w.put(3, &["Head"], false).await;
    w.put(1, &["Beak", "Beak"], false).await; // annotation 1 edited
    w.s3.delete_object(BUCKET, "annotations/2").await.unwrap();
    w.annotate(3).await;
    assert_eq!(
        gets(),
        4,
        "the new one and the edited one (a new ETag) are read"
    );

    assert!(w.manifest(&id, "v1").is_none(), "older than the last 2");
    assert!(w.manifest(&id, "v2").is_some() && w.manifest(&id, "v3").is_some());
    let annotations: Vec<String> =
        w.s3.keys(BUCKET)
            .into_iter()
            .filter(|k| k.starts_with("annotations/"))
            .collect();
    assert_eq!(
        annotations,
        vec!["annotations/1", "annotations/3"],
        "annotations untouched"
    );

    let listed = w.r.engine.list_dataset_versions(Some(&id)).await.unwrap();
    let kept: Vec<(String, bool)> = listed.iter().map(|v| (v.version.clone(), v.kept)).collect();
    assert_eq!(
        kept,
        vec![
            ("v1".into(), false),
            ("v2".into(), true),
            ("v3".into(), true)
        ]
    );
    let gone = w.r.engine.dataset_manifest("v1").await.unwrap_err();
    assert_eq!(gone.code, ErrorCode::NotFound);
    assert!(
        gone.message.contains("older than the last 2"),
        "{}",
        gone.message
    );

    let d = w.r.engine.dataset_diff("v2", "v3").await.unwrap();
    assert_eq!(d.added, vec!["annotations/3"]);
    assert_eq!(d.changed, vec!["annotations/1"]);
    assert_eq!(d.removed, vec!["annotations/2"]);
    let beak = d.labels.iter().find(|l| l.label == "Beak").unwrap();
    assert_eq!((beak.from, beak.to), (1, 2));
    let wing = d.labels.iter().find(|l| l.label == "Wing").unwrap();
    assert_eq!((wing.from, wing.to), (1, 0));
}

#[tokio::test]
async fn a_wrong_bucket_or_version_is_refused_in_words() {
    let w = world().await;
    let mut req = AutomationRequest {
        name: "x".into(),
        trigger: AutomationTrigger {
            source_id: w.src.id.clone(),
            actions: vec!["ANNOTATION_CREATED".into()],
            project_id: None,
            conditions: vec![],
            fire: FireMode::Each,
        },
        action: AutomationAction::DatasetVersion {
            bucket: "Not_A_Bucket".into(),
            prefix: None,
            region: Some("us-east-1".into()),
            keep: 3,
        },
        dry_run: false,
        start_count: None,
        even_if_shared: None,
    };
    let e = w.r.engine.add_automation(req.clone()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArgument, "{}", e.message);
    req.action = AutomationAction::DatasetVersion {
        bucket: "some-other-bucket".into(),
        prefix: None,
        region: None,
        keep: 3,
    };
    let e = w.r.engine.add_automation(req).await.unwrap_err();
    assert!(e.message.contains("--region"), "{}", e.message);
    let e = w.r.engine.dataset_manifest("latest").await.unwrap_err();
    assert!(e.message.contains("v1, v2"), "{}", e.message);
}
