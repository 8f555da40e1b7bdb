//! The command layer under tauri's mock runtime: no window system, the real engine.

use loopline_core::{ApiError, AppInfo, ErrorCode, ReceiverState, ReceiverStatus};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY,
};
use tauri::webview::InvokeRequest;
use tauri::{App, Manager, WebviewWindow};

use crate::{app_builder, start_engine, EngineSlot, LaunchArgs};

fn app(launch: LaunchArgs) -> (App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let app = app_builder(mock_builder(), launch.clone())
        .build(mock_context(noop_assets()))
        .expect("app builds");
    // The mock runtime never runs the event loop, so run what setup would.
    start_engine(app.handle(), &launch);
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    (app, webview)
}

fn invoke<T: serde::de::DeserializeOwned>(
    webview: &WebviewWindow<MockRuntime>,
    cmd: &str,
    args: serde_json::Value,
) -> Result<T, ApiError> {
    let response = get_ipc_response(
        webview,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    );
    match response {
        Ok(body) => Ok(body.deserialize::<T>().expect("response shape")),
        Err(value) => Err(serde_json::from_value(value).expect("errors are {code, message}")),
    }
}

fn shutdown(app: &App<MockRuntime>) {
    if let Ok(engine) = app.state::<EngineSlot>().engine() {
        tauri::async_runtime::block_on(engine.shutdown());
    }
}

#[test]
fn receiver_status_reports_the_running_receiver() {
    let dir = tempfile::tempdir().unwrap();
    let (app, webview) = app(LaunchArgs {
        data_dir: Some(dir.path().to_path_buf()),
        listen: Some("127.0.0.1:0".into()),
        ..Default::default()
    });
    let status: ReceiverStatus =
        invoke(&webview, "receiver_status", serde_json::json!({})).unwrap();
    assert_eq!(status.state, ReceiverState::Running);
    assert!(status.listen.starts_with("127.0.0.1:"));
    assert_ne!(
        status.listen, "127.0.0.1:0",
        "the bound port is reported, not the asked-for 0"
    );
    assert!(std::net::TcpStream::connect(&status.listen).is_ok());

    let info: AppInfo = invoke(&webview, "app_info", serde_json::json!({})).unwrap();
    assert_eq!(info.data_dir, dir.path().display().to_string());
    assert!(info.schema_version >= 2);

    let startup: Option<ApiError> =
        invoke(&webview, "engine_status", serde_json::json!({})).unwrap();
    assert!(startup.is_none());
    shutdown(&app);
}

#[test]
fn receiver_start_explains_a_taken_port_then_moves() {
    let dir = tempfile::tempdir().unwrap();
    let (app, webview) = app(LaunchArgs {
        data_dir: Some(dir.path().to_path_buf()),
        listen: Some("127.0.0.1:0".into()),
        ..Default::default()
    });
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = blocker.local_addr().unwrap().to_string();
    let err = invoke::<ReceiverStatus>(
        &webview,
        "receiver_start",
        serde_json::json!({ "listen": taken }),
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::PortInUse);

    let status: ReceiverStatus =
        invoke(&webview, "receiver_status", serde_json::json!({})).unwrap();
    // A failed move leaves the running receiver serving, and says why.
    assert_eq!(status.state, ReceiverState::Running);
    assert_eq!(status.error.map(|e| e.code), Some(ErrorCode::PortInUse));
    let suggested = status.suggested_listen.expect("a free port is offered");

    let moved: ReceiverStatus = invoke(
        &webview,
        "receiver_start",
        serde_json::json!({ "listen": suggested }),
    )
    .unwrap();
    assert_eq!(moved.state, ReceiverState::Running);
    assert_eq!(moved.listen, suggested);

    let err = invoke::<ReceiverStatus>(
        &webview,
        "receiver_start",
        serde_json::json!({ "listen": "0.0.0.0:9" }),
    )
    .unwrap_err();
    assert_eq!(
        err.code,
        ErrorCode::ListenNotLoopback,
        "the app never exposes the receiver"
    );
    shutdown(&app);
}

#[test]
fn a_database_the_engine_refuses_is_reported_not_crashed_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("loopline.db"), vec![0x42; 4096]).unwrap();
    let (_app, webview) = app(LaunchArgs {
        data_dir: Some(dir.path().to_path_buf()),
        listen: Some("127.0.0.1:0".into()),
        ..Default::default()
    });
    let startup: Option<ApiError> =
        invoke(&webview, "engine_status", serde_json::json!({})).unwrap();
    assert_eq!(startup.unwrap().code, ErrorCode::DbCorrupt);
    let err =
        invoke::<ReceiverStatus>(&webview, "receiver_status", serde_json::json!({})).unwrap_err();
    assert_eq!(err.code, ErrorCode::EngineUnavailable);
    assert!(err.message.contains("loopline.db"));
}

/// A database damaged in the middle, with a backup taken while it was whole.
fn damaged_with_backup(dir: &std::path::Path) -> loopline_core::DbBackup {
    use std::io::{Seek, SeekFrom, Write};
    let options = || loopline_engine::EngineOptions {
        data_dir: Some(dir.to_path_buf()),
        ..Default::default()
    };
    tauri::async_runtime::block_on(async {
        loopline_engine::Engine::open(options())
            .await
            .unwrap()
            .shutdown()
            .await;
    });
    let db = dir.join("loopline.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1500) \
         INSERT INTO events (source_id, received_at_ms, headers_json, body, kind, action) \
         SELECT 'src_1', x, '{}', randomblob(1500), 'label_studio', 'ANNOTATION_CREATED' FROM n",
        [],
    )
    .unwrap();
    drop(conn);
    let backup = tauri::async_runtime::block_on(async {
        let engine = loopline_engine::Engine::open(options()).await.unwrap();
        let b = engine.backup_database().await.unwrap();
        engine.shutdown().await;
        b
    });
    let pages = std::fs::metadata(&db).unwrap().len() / 4096;
    let mut f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    f.seek(SeekFrom::Start(pages / 2 * 4096)).unwrap();
    f.write_all(&[0xa5; 4 * 4096]).unwrap();
    backup
}

#[test]
fn a_damaged_database_is_explained_and_restored_and_the_engine_then_starts() {
    let dir = tempfile::tempdir().unwrap();
    let backup = damaged_with_backup(dir.path());
    let (app, webview) = app(LaunchArgs {
        data_dir: Some(dir.path().to_path_buf()),
        listen: Some("127.0.0.1:0".into()),
        ..Default::default()
    });
    let startup: Option<ApiError> =
        invoke(&webview, "engine_status", serde_json::json!({})).unwrap();
    assert_eq!(startup.unwrap().code, ErrorCode::DbCorrupt);

    let check: loopline_core::DbCheck =
        invoke(&webview, "db_check", serde_json::json!({})).unwrap();
    assert!(!check.ok);
    assert_eq!(
        check.backups.first().map(|b| (b.path.clone(), b.good)),
        Some((backup.path.clone(), true))
    );

    let restored: loopline_core::DbRestore =
        invoke(&webview, "db_restore", serde_json::json!({})).unwrap();
    assert_eq!(restored.restored_from.taken_at, backup.taken_at);
    let startup: Option<ApiError> =
        invoke(&webview, "engine_status", serde_json::json!({})).unwrap();
    assert_eq!(startup, None, "the engine started on the restored database");
    let status: ReceiverStatus =
        invoke(&webview, "receiver_status", serde_json::json!({})).unwrap();
    assert_eq!(status.state, ReceiverState::Running);

    // With the engine running, the database is in use: a second restore is refused.
    let err = invoke::<loopline_core::DbRestore>(&webview, "db_restore", serde_json::json!({}))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::DbInUse);
    shutdown(&app);
}

#[test]
fn launch_args_are_parsed_like_the_cli() {
    let a = LaunchArgs::parse(
        [
            "--data-dir",
            "/tmp/x",
            "--listen=127.0.0.1:9",
            "--unknown",
            "y",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    assert_eq!(a.data_dir.unwrap().display().to_string(), "/tmp/x");
    assert_eq!(a.listen.as_deref(), Some("127.0.0.1:9"));
}

#[test]
fn timeline_commands_answer_with_pages_and_coded_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (app, webview) = app(LaunchArgs {
        data_dir: Some(dir.path().to_path_buf()),
        listen: Some("127.0.0.1:0".into()),
        ..Default::default()
    });
    let page: loopline_core::EventPage = invoke(
        &webview,
        "events_list",
        serde_json::json!({ "query": { "limit": 10 } }),
    )
    .unwrap();
    assert!(page.events.is_empty());
    assert_eq!(page.next_before_id, None);
    let stats: loopline_core::TimelineStats =
        invoke(&webview, "timeline_stats", serde_json::json!({})).unwrap();
    assert_eq!(stats.total_events, 0);
    let err = invoke::<loopline_core::EventDetail>(
        &webview,
        "event_show",
        serde_json::json!({ "id": 42 }),
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::EventNotFound);
    let err = invoke::<loopline_core::TimelineStats>(
        &webview,
        "retention_set",
        serde_json::json!({ "policy": { "max_days": 0, "max_events": null } }),
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    let sources: Vec<loopline_core::Source> =
        invoke(&webview, "sources_list", serde_json::json!({})).unwrap();
    assert!(sources.is_empty());
    shutdown(&app);
}

/// Fails when `ui/src/api/commands.gen.ts` no longer matches the command declarations.
/// Regenerate with `scripts/gen-bindings`.
#[test]
fn committed_command_types_match_the_declarations() {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        std::path::PathBuf::from,
    );
    let path = dir.join("ui/src/api/commands.gen.ts");
    let generated = crate::command_table::typescript(&crate::commands::specs());
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert!(
        committed == generated,
        "ui/src/api/commands.gen.ts has drifted from src-tauri/src/commands.rs. Run scripts/gen-bindings and commit the result.\n--- generated ---\n{generated}"
    );
}

/// Every declared command is registered in the handler. Called with no arguments, a
/// command that takes some is refused for its arguments (not run), and an unknown name is
/// refused as unknown; commands without arguments are not run here (some reach AWS).
#[test]
fn every_declared_command_is_registered() {
    let dir = tempfile::tempdir().unwrap();
    let (app, webview) = app(LaunchArgs {
        data_dir: Some(dir.path().to_path_buf()),
        listen: Some("127.0.0.1:0".into()),
        ..Default::default()
    });
    let raw = |cmd: &str| {
        get_ipc_response(
            &webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(serde_json::json!({})),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .err()
        .map(|v| v.to_string())
        .unwrap_or_default()
    };
    assert!(raw("no_such_command").contains("not found"));
    let specs = crate::commands::specs();
    let names: std::collections::HashSet<_> = specs.iter().map(|s| s.name).collect();
    assert_eq!(names.len(), specs.len(), "no command declared twice");
    for spec in specs
        .iter()
        .filter(|s| s.args.iter().any(|(_, t)| !t.ends_with("| null")))
    {
        let answer = raw(spec.name);
        assert!(
            !answer.contains("not found"),
            "{} is not registered: {answer}",
            spec.name
        );
        assert!(
            answer.contains("missing required key"),
            "{}: {answer}",
            spec.name
        );
    }
    shutdown(&app);
}

/// Issue 22.20: the engine error screen offers a way forward, not only "restart Loopline":
/// "Try again" once the cause is fixed, and "Use another folder".
#[test]
fn an_engine_that_did_not_open_can_be_retried_or_opened_on_another_folder() {
    let dir = tempfile::tempdir().unwrap();
    // The data directory's path is taken by a file: the engine cannot open it.
    let blocked = dir.path().join("data");
    std::fs::write(&blocked, b"not a folder").unwrap();
    let (opened, webview) = app(LaunchArgs {
        data_dir: Some(blocked.clone()),
        listen: Some("127.0.0.1:0".into()),
        ..Default::default()
    });
    let startup: Option<ApiError> =
        invoke(&webview, "engine_status", serde_json::json!({})).unwrap();
    let first = startup.expect("the engine did not open");

    // Retried before anything changed: the same refusal, and still no engine.
    let again = invoke::<AppInfo>(&webview, "engine_retry", serde_json::json!({})).unwrap_err();
    assert_eq!(again.code, first.code);
    let bad = invoke::<AppInfo>(
        &webview,
        "engine_open_data_dir",
        serde_json::json!({"dataDir": "relative/dir"}),
    )
    .unwrap_err();
    assert_eq!(bad.code, ErrorCode::InvalidArgument);

    // The cause fixed, "Try again" opens it.
    std::fs::remove_file(&blocked).unwrap();
    let info: AppInfo = invoke(&webview, "engine_retry", serde_json::json!({})).unwrap();
    assert!(
        info.db_path.starts_with(blocked.to_str().unwrap()),
        "{info:?}"
    );
    let startup: Option<ApiError> =
        invoke(&webview, "engine_status", serde_json::json!({})).unwrap();
    assert_eq!(startup, None);
    let status: ReceiverStatus =
        invoke(&webview, "receiver_status", serde_json::json!({})).unwrap();
    assert_eq!(status.state, ReceiverState::Running);
    // Running now: another folder is refused (quit and start with --data-dir instead).
    let refused = invoke::<AppInfo>(
        &webview,
        "engine_open_data_dir",
        serde_json::json!({"dataDir": dir.path().join("other").to_str().unwrap()}),
    )
    .unwrap_err();
    assert_eq!(refused.code, ErrorCode::InvalidArgument);
    shutdown(&opened);

    // Another folder, for an app that could not open its own.
    let elsewhere = tempfile::tempdir().unwrap();
    let blocked = elsewhere.path().join("data");
    std::fs::write(&blocked, b"not a folder").unwrap();
    let (second, webview) = app(LaunchArgs {
        data_dir: Some(blocked),
        listen: Some("127.0.0.1:0".into()),
        ..Default::default()
    });
    let other = elsewhere.path().join("fresh");
    let info: AppInfo = invoke(
        &webview,
        "engine_open_data_dir",
        serde_json::json!({"dataDir": other.to_str().unwrap()}),
    )
    .unwrap();
    assert!(
        info.db_path.starts_with(other.to_str().unwrap()),
        "{info:?}"
    );
    let startup: Option<ApiError> =
        invoke(&webview, "engine_status", serde_json::json!({})).unwrap();
    assert_eq!(startup, None);
    shutdown(&second);
}
