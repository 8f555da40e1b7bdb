//! Two outbox workers on one data directory (the app and `loopline serve`), against moto
//! as the local AWS. moto ignores `ClientRequestToken`, so only the lease keeps the second
//! worker from starting a run the first is calling AWS for right now.

mod common;

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::annotation_created;
use loopline_cloud::aws::{Aws, AwsAuth};
use loopline_cloud::pipelines::{PipelineService, StartedExecution};
use loopline_cloud::sagemaker::{CallError, ExecutionState, ListedExecution, SageMaker};
use loopline_core::{Counter, Overlap, PipelineParam, RunStatus, RunStep, SourceKind};
use loopline_engine::secrets::MemorySecrets;
use loopline_engine::{Engine, EngineOptions, RuleRequest, SystemClock};
use tokio::sync::Notify;

const REGION: &str = "eu-west-1";
const PIPELINE: &str = "loopline-lease-test";

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn moto_binary() -> Option<PathBuf> {
    let cache = std::env::var_os("LOOPLINE_CACHE")
        .map(PathBuf::from)
        .or_else(|| dirs_home().map(|h| h.join(".cache/loopline")))?;
    let bin = cache.join("venv/bin/moto_server");
    bin.exists().then_some(bin)
}

fn dirs_home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// moto on 127.0.0.1, or `None` (a visible skip) on a laptop without the test venv. In CI a
/// peer that cannot start fails the test.
fn start_moto() -> Option<(Moto, String)> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let Some(bin) = moto_binary() else {
        assert!(
            !ci,
            "moto_server is not installed (scripts/install.sh --test installs it)"
        );
        eprintln!("SKIPPED: moto_server not installed; run scripts/install.sh --test");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let moto = Moto(child);
    for _ in 0..300 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((moto, format!("http://127.0.0.1:{port}")));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("moto_server did not listen on {port} within 30 s");
}

/// The real SageMaker client, held at the start call until the test lets it go: the first
/// worker is "calling AWS right now" while the second one looks.
struct Held {
    inner: SageMaker,
    entered: Notify,
    release: Notify,
}

#[async_trait]
impl PipelineService for Held {
    async fn start(
        &self,
        pipeline: &str,
        token: &str,
        params: &[PipelineParam],
        description: &str,
    ) -> Result<StartedExecution, CallError> {
        self.entered.notify_one();
        self.release.notified().await;
        PipelineService::start(&self.inner, pipeline, token, params, description).await
    }
    async fn recent_executions(&self, p: &str) -> Result<Vec<ListedExecution>, CallError> {
        PipelineService::recent_executions(&self.inner, p).await
    }
    async fn describe(&self, arn: &str) -> Result<ExecutionState, CallError> {
        PipelineService::describe(&self.inner, arn).await
    }
    async fn steps(&self, arn: &str) -> Result<Option<Vec<RunStep>>, CallError> {
        PipelineService::steps(&self.inner, arn).await
    }
    fn region(&self) -> String {
        REGION.into()
    }
}

async fn create_pipeline(endpoint: &str) {
    let definition = serde_json::json!({"Version": "2020-12-01", "Parameters": [{"Name": "Count", "Type": "String"}], "Steps": []});
    let resp = reqwest::Client::new()
        .post(endpoint)
        .header("x-amz-target", "SageMaker.CreatePipeline")
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential=testing/20261202/{REGION}/sagemaker/aws4_request, SignedHeaders=host, Signature=0"),
        )
        .body(
            serde_json::json!({
                "PipelineName": PIPELINE,
                "PipelineDefinition": definition.to_string(),
                "RoleArn": "arn:aws:iam::123456789012:role/sagemaker",
                "ClientRequestToken": "loopline-lease-test-create-0000000000",
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
}

async fn open(dir: &std::path::Path, pipelines: Option<Arc<dyn PipelineService>>) -> Arc<Engine> {
    Arc::new(
        Engine::open(EngineOptions {
            data_dir: Some(dir.to_path_buf()),
            secrets: Some(Arc::new(MemorySecrets::default())),
            pipelines,
            ..Default::default()
        })
        .await
        .unwrap(),
    )
}

#[tokio::test]
async fn two_engines_on_one_data_dir_start_one_execution() {
    let Some((_moto, endpoint)) = start_moto() else {
        return;
    };
    // The only test in this binary: the SDK's default chain reads these.
    std::env::set_var("AWS_ENDPOINT_URL", &endpoint);
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_REGION", REGION);
    create_pipeline(&endpoint).await;

    let dir = tempfile::tempdir().unwrap();
    let aws = Aws::load(AwsAuth::DefaultChain, Some(REGION), Arc::new(SystemClock))
        .await
        .unwrap();
    let held = Arc::new(Held {
        inner: SageMaker::new(aws.clone()).unwrap(),
        entered: Notify::new(),
        release: Notify::new(),
    });
    let first = open(dir.path(), Some(held.clone())).await;
    let addr = first
        .start_receiver("127.0.0.1:0", false, false)
        .await
        .unwrap();
    let src = first
        .add_source(SourceKind::LabelStudio, "LS", None)
        .await
        .unwrap();
    first
        .add_rule(RuleRequest {
            source_id: src.id.clone(),
            project_id: 7,
            every: 1,
            pipeline: PIPELINE.into(),
            params: vec![PipelineParam {
                name: "Count".into(),
                value: "{count}".into(),
            }],
            counter: Counter::Useful,
            overlap: Overlap::Parallel,
            dry_run: false,
            start_time_limit_secs: 60,
            start_count: Some(0),
            name: None,
            dataset_automation: None,
            even_if_shared: None,
        })
        .await
        .unwrap();
    let status = reqwest::Client::new()
        .post(format!("http://{addr}/hooks/{}", src.id))
        .header("x-loopline-token", src.token.clone().unwrap())
        .header("content-type", "application/json")
        .body(annotation_created(7, 1, 1))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 200);
    assert_eq!(first.evaluate_rules().await.unwrap(), 1);

    // The first worker claims the run and is inside its call to AWS.
    let worker = first.clone();
    let in_flight = tokio::spawn(async move { worker.drain_outbox().await.unwrap() });
    held.entered.notified().await;

    // A second process starts on the same data directory (as after a restart) and drains.
    let second = open(dir.path(), None).await;
    assert_eq!(
        second.drain_outbox().await.unwrap(),
        0,
        "the run is the first worker's"
    );

    held.release.notify_one();
    assert_eq!(in_flight.await.unwrap(), 1);
    assert_eq!(second.drain_outbox().await.unwrap(), 0);

    let executions = SageMaker::new(aws)
        .unwrap()
        .recent_executions(PIPELINE)
        .await
        .unwrap();
    assert_eq!(
        executions.len(),
        1,
        "one execution, not two: {executions:?}"
    );
    let runs = second.list_runs(10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Executing);
    assert_eq!(
        runs[0].execution_arn.as_deref(),
        Some(executions[0].arn.as_str())
    );
    second.shutdown().await;
    first.shutdown().await;
}
