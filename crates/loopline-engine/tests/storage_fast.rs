//! The storage setup through an in-memory S3: plan first, then act, then a second run that
//! changes nothing; resuming after a cancel; multipart files and their abort on failure;
//! names taken and buckets in another region explained. The same flow against moto is in
//! e2e/test_setup_storage.py.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::fake_s3::FakeS3;
use common::{receiving_with, Running};
use loopline_core::{ErrorCode, SetupReport, StepStatus, StorageRequest, UploadProgress};
use loopline_engine::ProgressFn;

const BUCKET: &str = "sagemaker-birds-test";

async fn with_fake() -> (Running, Arc<FakeS3>) {
    let fake = Arc::new(FakeS3::new("eu-west-1"));
    let f = fake.clone();
    let r = receiving_with(move |o| o.object_store = Some(f)).await;
    (r, fake)
}

fn images(dir: &Path) {
    std::fs::create_dir_all(dir.join("nested")).unwrap();
    for i in 0..5 {
        std::fs::write(dir.join(format!("bird-{i}.jpg")), vec![i as u8; 1000 + i]).unwrap();
    }
    std::fs::write(dir.join("nested/wing.png"), b"png bytes").unwrap();
    std::fs::write(dir.join("notes.txt"), b"not an image").unwrap();
}

fn request(dir: &Path) -> StorageRequest {
    StorageRequest {
        bucket: BUCKET.into(),
        region: "eu-west-1".into(),
        images_dir: Some(dir.display().to_string()),
        ..Default::default()
    }
}

fn status(report: &SetupReport, key: &str) -> StepStatus {
    report.steps.iter().find(|s| s.key == key).unwrap().status
}

fn summary<'a>(report: &'a SetupReport, key: &str) -> &'a str {
    &report.steps.iter().find(|s| s.key == key).unwrap().summary
}

#[tokio::test]
async fn plan_then_act_then_nothing_to_do() {
    let (r, fake) = with_fake().await;
    let dir = tempfile::tempdir().unwrap();
    images(dir.path());

    let plan = r
        .engine
        .setup_storage(request(dir.path()), true, None, None)
        .await
        .unwrap();
    assert!(plan.planned);
    assert_eq!(status(&plan, "s3.bucket"), StepStatus::Planned);
    assert!(summary(&plan, "s3.bucket").contains("eu-west-1"));
    assert_eq!(plan.steps[0].resource, format!("s3://{BUCKET}/"));
    assert_eq!(status(&plan, "s3.images"), StepStatus::Planned);
    assert!(
        summary(&plan, "s3.images").starts_with("Upload 6 images"),
        "{}",
        summary(&plan, "s3.images")
    );
    assert!(summary(&plan, "s3.images").contains("1 skipped (not images)"));
    assert_eq!(
        fake.creates.load(Ordering::SeqCst),
        0,
        "a plan does nothing"
    );
    assert!(fake.buckets.lock().unwrap().is_empty());
    assert_eq!(
        r.engine.setup_status().await.unwrap()[0].status,
        StepStatus::Planned,
        "a plan records nothing"
    );

    let seen: Arc<Mutex<Vec<UploadProgress>>> = Arc::default();
    let s = seen.clone();
    let progress: ProgressFn =
        Arc::new(move |p: &UploadProgress| s.lock().unwrap().push(p.clone()));
    let done = r
        .engine
        .setup_storage(request(dir.path()), false, Some(progress), None)
        .await
        .unwrap();
    assert_eq!(status(&done, "s3.bucket"), StepStatus::Created);
    assert_eq!(status(&done, "s3.public_access"), StepStatus::Updated);
    assert_eq!(status(&done, "s3.layout"), StepStatus::Created);
    assert_eq!(status(&done, "s3.images"), StepStatus::Uploaded);
    assert_eq!(
        summary(&done, "s3.images"),
        "6 uploaded, 0 already there, 1 skipped (not images)."
    );
    let keys = fake.keys(BUCKET);
    assert_eq!(keys.len(), 6, "{keys:?}");
    assert!(keys.contains(&"bird-images/nested/wing.png".to_string()));
    assert!(keys.iter().all(|k| !k.ends_with('/')), "no folder objects");
    let (_, ct, sha) = fake.object(BUCKET, "bird-images/nested/wing.png").unwrap();
    assert_eq!(ct, "image/png");
    assert_eq!(sha.len(), 64);
    assert_eq!(
        fake.object(BUCKET, "bird-images/bird-0.jpg").unwrap().1,
        "image/jpeg"
    );
    assert!(fake.buckets.lock().unwrap()[BUCKET].blocked);
    let last = seen.lock().unwrap().last().cloned().unwrap();
    assert!(last.finished);
    assert_eq!(
        (last.files_done, last.files_total, last.files_skipped),
        (6, 6, 1)
    );
    assert_eq!(last.bytes_done, last.bytes_total);

    let puts = fake.puts.load(Ordering::SeqCst);
    let again = r
        .engine
        .setup_storage(request(dir.path()), false, None, None)
        .await
        .unwrap();
    for step in &again.steps {
        assert_eq!(step.status, StepStatus::Unchanged, "{step:?}");
    }
    assert_eq!(
        summary(&again, "s3.images"),
        "0 uploaded, 6 already there, 1 skipped (not images)."
    );
    assert_eq!(
        fake.puts.load(Ordering::SeqCst),
        puts,
        "nothing uploaded twice"
    );
    assert_eq!(fake.creates.load(Ordering::SeqCst), 1);

    // A file changed in place, same size: its hash differs, so it goes up again.
    std::fs::write(dir.path().join("bird-0.jpg"), vec![9u8; 1000]).unwrap();
    let changed = r
        .engine
        .setup_storage(request(dir.path()), false, None, None)
        .await
        .unwrap();
    assert_eq!(
        summary(&changed, "s3.images"),
        "1 uploaded, 5 already there, 1 skipped (not images)."
    );
    assert_eq!(
        fake.heads.load(Ordering::SeqCst),
        1,
        "only the same-size file whose ETag differs is asked for its stored hash"
    );
    let status = r.engine.setup_status().await.unwrap();
    let storage: Vec<_> = status.iter().filter(|s| s.key.starts_with("s3.")).collect();
    assert_eq!(storage.len(), 4);
    assert!(storage.iter().all(|s| s.status.is_done()), "{status:?}");
    assert_eq!(
        r.engine.storage_layout().await.unwrap().unwrap().images,
        "bird-images"
    );
}

#[tokio::test]
async fn a_cancelled_upload_resumes_where_it_stopped() {
    let (r, fake) = with_fake().await;
    let dir = tempfile::tempdir().unwrap();
    for i in 0..40 {
        std::fs::write(dir.path().join(format!("{i:02}.jpg")), vec![1u8; 500]).unwrap();
    }
    let cancel = Arc::new(AtomicBool::new(false));
    let c = cancel.clone();
    // Cancel once a few files are up: the rest must wait for the rerun.
    let progress: ProgressFn = Arc::new(move |p: &UploadProgress| {
        if p.files_uploaded >= 5 {
            c.store(true, Ordering::SeqCst);
        }
    });
    let first = r
        .engine
        .setup_storage(request(dir.path()), false, Some(progress), Some(cancel))
        .await
        .unwrap();
    let step = first.steps.iter().find(|s| s.key == "s3.images").unwrap();
    assert_eq!(step.status, StepStatus::Failed);
    assert_eq!(step.error.as_ref().unwrap().code, ErrorCode::Cancelled);
    assert!(
        step.summary.contains("run the setup again"),
        "{}",
        step.summary
    );
    let up = fake.keys(BUCKET).len();
    assert!(
        (5..40).contains(&up),
        "{up} went up before the cancel took hold"
    );

    let second = r
        .engine
        .setup_storage(request(dir.path()), false, None, None)
        .await
        .unwrap();
    assert_eq!(
        summary(&second, "s3.images"),
        format!("{} uploaded, {up} already there.", 40 - up)
    );
    assert_eq!(
        fake.puts.load(Ordering::SeqCst),
        40,
        "each file went up once"
    );
}

#[tokio::test]
async fn large_files_go_up_in_parts_and_a_failed_one_is_aborted() {
    let (r, fake) = with_fake().await;
    let dir = tempfile::tempdir().unwrap();
    let big: Vec<u8> = (0..(20u32 << 20)).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.path().join("big.tif"), &big).unwrap();
    fake.fail_parts_after.store(1, Ordering::SeqCst);
    let failed = r
        .engine
        .setup_storage(request(dir.path()), false, None, None)
        .await
        .unwrap();
    let step = failed.steps.iter().find(|s| s.key == "s3.images").unwrap();
    assert_eq!(step.status, StepStatus::Failed);
    assert_eq!(step.error.as_ref().unwrap().code, ErrorCode::AwsUnavailable);
    assert_eq!(
        fake.aborts.load(Ordering::SeqCst),
        1,
        "the part upload was aborted"
    );
    assert!(fake.uploads.lock().unwrap().is_empty());
    assert!(fake.keys(BUCKET).is_empty());

    fake.fail_parts_after.store(usize::MAX, Ordering::SeqCst);
    let done = r
        .engine
        .setup_storage(request(dir.path()), false, None, None)
        .await
        .unwrap();
    assert_eq!(status(&done, "s3.images"), StepStatus::Uploaded);
    let (body, ct, _) = fake.object(BUCKET, "bird-images/big.tif").unwrap();
    assert_eq!(body.len(), big.len());
    assert_eq!(&body[..], &big[..], "parts reassemble in order");
    assert_eq!(ct, "image/tiff");
    assert_eq!(
        fake.parts.load(Ordering::SeqCst),
        1 + 3,
        "20 MiB in 8 MiB parts"
    );
}

#[tokio::test]
async fn taken_names_and_other_regions_are_explained() {
    let (r, fake) = with_fake().await;
    fake.foreign
        .lock()
        .unwrap()
        .insert("showcase-bucket".into());
    let req = StorageRequest {
        bucket: "showcase-bucket".into(),
        region: "eu-west-1".into(),
        ..Default::default()
    };
    let report = r
        .engine
        .setup_storage(req, false, None, None)
        .await
        .unwrap();
    let step = &report.steps[0];
    assert_eq!(step.status, StepStatus::Failed);
    let e = step.error.as_ref().unwrap();
    assert_eq!(e.code, ErrorCode::NameTaken);
    assert!(
        e.message.contains("Try 'sagemaker-showcase-bucket-"),
        "{}",
        e.message
    );
    assert_eq!(status(&report, "s3.public_access"), StepStatus::Skipped);

    fake.buckets.lock().unwrap().insert(
        "sagemaker-elsewhere".into(),
        common::fake_s3::Bucket {
            region: "us-east-2".into(),
            ..Default::default()
        },
    );
    let req = StorageRequest {
        bucket: "sagemaker-elsewhere".into(),
        region: "eu-west-1".into(),
        ..Default::default()
    };
    let report = r.engine.setup_storage(req, true, None, None).await.unwrap();
    let e = report.steps[0].error.as_ref().unwrap();
    assert_eq!(e.code, ErrorCode::AwsBadRegion);
    assert!(e.message.contains("--region us-east-2"), "{}", e.message);

    let bad = StorageRequest {
        bucket: "Not_A_Bucket".into(),
        region: "eu-west-1".into(),
        ..Default::default()
    };
    assert_eq!(
        r.engine
            .setup_storage(bad, true, None, None)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidArgument
    );
}
