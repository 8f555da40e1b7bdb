//! The receiver's life: start, move, refuse, stop.

mod common;

use std::sync::Arc;

use loopline_core::{ErrorCode, ReceiverState};
use loopline_engine::secrets::MemorySecrets;
use loopline_engine::{Engine, EngineOptions, DEFAULT_LISTEN};

async fn engine(dir: &tempfile::TempDir) -> Arc<Engine> {
    Arc::new(
        Engine::open(EngineOptions {
            data_dir: Some(dir.path().to_path_buf()),
            secrets: Some(Arc::new(MemorySecrets::default())),
            ..Default::default()
        })
        .await
        .unwrap(),
    )
}

#[tokio::test]
async fn receiver_starts_reports_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&dir).await;
    let mut updates = engine.subscribe_receiver();
    let bound = engine
        .start_receiver("127.0.0.1:0", false, false)
        .await
        .unwrap();
    let status = engine.receiver_status();
    assert_eq!(status.state, ReceiverState::Running);
    assert_eq!(status.listen, bound.to_string());
    assert!(updates.has_changed().unwrap());
    updates.mark_unchanged();
    engine.shutdown().await;
    assert_eq!(engine.receiver_status().state, ReceiverState::Stopped);
    assert!(updates.has_changed().unwrap());
}

#[tokio::test]
async fn taken_port_fails_with_a_suggestion_and_remembering_moves_it() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&dir).await;
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = blocker.local_addr().unwrap().to_string();
    let err = engine
        .start_receiver(&taken, false, true)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::PortInUse);
    let status = engine.receiver_status();
    assert_eq!(status.state, ReceiverState::Failed);
    let suggested = status
        .suggested_listen
        .clone()
        .expect("a free port is offered");
    assert!(err.message.contains(&suggested));
    assert_eq!(
        engine.saved_listen().await.unwrap(),
        DEFAULT_LISTEN,
        "a failed start is not remembered"
    );

    engine
        .start_receiver(&suggested, false, true)
        .await
        .unwrap();
    assert_eq!(engine.receiver_status().state, ReceiverState::Running);
    assert_eq!(engine.saved_listen().await.unwrap(), suggested);
    engine.shutdown().await;
}

#[tokio::test]
async fn public_address_needs_public_flag() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&dir).await;
    let err = engine
        .start_receiver("0.0.0.0:0", false, false)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ListenNotLoopback);
    assert_eq!(engine.receiver_status().state, ReceiverState::Stopped);
}

/// Defect: moving the receiver stopped the running server before binding the new address,
/// so a move to a taken port left no receiver at all (and Label Studio never retries).
#[tokio::test]
async fn a_failed_move_leaves_the_old_receiver_serving() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&dir).await;
    let first = engine
        .start_receiver("127.0.0.1:0", false, false)
        .await
        .unwrap();
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = blocker.local_addr().unwrap().to_string();
    let err = engine
        .start_receiver(&taken, false, true)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::PortInUse);
    assert!(
        err.message.contains(&format!("keeps listening on {first}")),
        "{}",
        err.message
    );
    let status = engine.receiver_status();
    assert_eq!(status.state, ReceiverState::Running);
    assert_eq!(status.listen, first.to_string());
    assert!(
        status.error.is_some(),
        "the status says why the move failed"
    );
    let health = reqwest::get(format!("http://{first}/healthz"))
        .await
        .unwrap();
    assert_eq!(
        health.status().as_u16(),
        200,
        "the old address still answers"
    );
    assert_eq!(engine.saved_listen().await.unwrap(), DEFAULT_LISTEN);

    // A move that works: the new address answers, then the old one is closed.
    let moved = engine
        .start_receiver("127.0.0.1:0", false, false)
        .await
        .unwrap();
    assert_ne!(moved, first);
    let health = reqwest::get(format!("http://{moved}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert!(reqwest::get(format!("http://{first}/healthz"))
        .await
        .is_err());
    engine.shutdown().await;
}

/// Defect: background work (rules, the outbox, the run monitor) started only with the
/// receiver, so an address that failed to parse or bind stopped the whole retrain loop.
#[tokio::test]
async fn background_work_runs_without_a_receiver() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&dir).await;
    engine.start_background("app");
    let err = engine
        .start_receiver("not an address", false, false)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ListenInvalid);
    let info = engine.info().await.unwrap();
    let me = info
        .processes
        .iter()
        .find(|p| p.kind == "app")
        .expect("this process runs background work");
    for task in ["rules", "outbox", "run_monitor", "run_endings"] {
        assert!(
            me.tasks
                .iter()
                .any(|t| t.name == task && t.state == loopline_core::TaskState::Running),
            "{task} runs: {:?}",
            me.tasks
        );
    }
    assert!(info.activity.quiescent);
    engine.shutdown().await;
}

/// A process that stops says so at once: its heartbeat is removed at shutdown, so another
/// process (`aquarium export` asking who will send the rest) never counts a stopped `serve`.
#[tokio::test]
async fn a_stopped_process_is_gone_from_the_list_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let serve = engine(&dir).await;
    let cli = engine(&dir).await;
    serve.start_background("serve");
    // Wait on state: the first heartbeat is written as the task starts.
    let mut seen = false;
    for _ in 0..500 {
        if cli
            .processes()
            .await
            .unwrap()
            .iter()
            .any(|p| p.kind == "serve")
        {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(seen, "the running serve is listed");
    serve.shutdown().await;
    assert!(
        cli.processes().await.unwrap().is_empty(),
        "a stopped serve is not listed"
    );
    cli.shutdown().await;
}
