//! Settings › About › Copy diagnostics (`loopline diagnostics`): no stored secret in it,
//! even one that reached a log line; and the process's log lands in LOOPLINE_LOG_DIR.
//!
//! One test in its own binary: it sets LOOPLINE_LOG_DIR and installs the global logger.

use std::sync::Arc;

use loopline_core::{Sensitive, SourceKind};
use loopline_engine::logs::{self, LogKind};
use loopline_engine::secrets::MemorySecrets;
use loopline_engine::{Engine, EngineOptions};

#[tokio::test]
async fn diagnostics_hold_no_stored_secret_and_the_log_is_in_the_log_dir() {
    let dir = tempfile::tempdir().unwrap();
    let log_dir = dir.path().join("logs dir ü");
    std::env::set_var("LOOPLINE_LOG_DIR", &log_dir);
    logs::init(LogKind::Serve);
    loopline_engine::set_commit("abc1234");

    let engine = Arc::new(
        Engine::open(EngineOptions {
            data_dir: Some(dir.path().join("data")),
            secrets: Some(Arc::new(MemorySecrets::default())),
            ..Default::default()
        })
        .await
        .unwrap(),
    );
    let mut secrets: Vec<String> = Vec::new();
    for (name, value) in [
        (
            "label-studio-token",
            "0f1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4",
        ),
        ("aws-access-key-id", "AKIAZZZZEXAMPLE12345"),
        (
            "aws-secret-access-key",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzEXAMPLEKEY",
        ),
        (
            "aws-session-token",
            "IQoJb3JpZ2luX2VjEXAMPLEsession+token==",
        ),
        ("ngrok-authtoken", "2abcNGROKexampleTOKEN_9zyx"),
        ("my-own-api-key", "q\"uoted\\and-odd-7781"),
    ] {
        engine
            .set_secret(name, Sensitive::new(value.to_string()))
            .await
            .unwrap();
        secrets.push(value.to_string());
    }
    for kind in [SourceKind::LabelStudio, SourceKind::Generic] {
        let created = engine.add_source(kind, "Birds", None).await.unwrap();
        secrets.push(created.token.expect("a generated token"));
    }
    let aquarium = "aquarium-shared-secret-4242";
    engine
        .add_source(
            SourceKind::Aquarium,
            "Aq",
            Some(Sensitive::new(aquarium.to_string())),
        )
        .await
        .unwrap();
    secrets.push(aquarium.to_string());

    // A log line the engine wrote, and lines as a careless path might have leaked them.
    tracing::info!(target: "loopline_engine", "diagnostics test marker");
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(log_dir.join("serve.log"))
            .unwrap();
        for s in &secrets {
            writeln!(f, "leaked {s} here; Authorization: Bearer {s}").unwrap();
            writeln!(
                f,
                "{}",
                serde_json::json!({ "body": format!("x{s}x"), "token": s })
            )
            .unwrap();
        }
        // The app's log is read too.
        std::fs::write(
            log_dir.join("app.log"),
            format!("app line {}\n", secrets[0]),
        )
        .unwrap();
    }

    let info = engine.info().await.unwrap();
    assert_eq!(info.commit, "abc1234");
    assert_eq!(info.log_dir, log_dir.display().to_string());
    assert_eq!(
        info.log_file.as_deref(),
        Some(log_dir.join("serve.log").display().to_string().as_str())
    );

    let d = engine.diagnostics().await.unwrap();
    for s in &secrets {
        assert!(
            !d.report.contains(s.as_str()),
            "a stored secret is in the report:\n{}",
            d.report
        );
        // Escaped once (a JSON string) and twice (a JSON log line inside the report).
        let once = serde_json::to_string(s).unwrap();
        let twice = serde_json::to_string(&once).unwrap();
        for form in [once.trim_matches('"'), twice.trim_matches('"')] {
            assert!(!d.report.contains(form), "{form} is in:\n{}", d.report);
        }
    }
    assert!(
        d.masked as usize >= secrets.len() * 3,
        "masked {}",
        d.masked
    );
    // Still useful: the info, the setup status and the log lines are there.
    let report: serde_json::Value = serde_json::from_str(&d.report).unwrap();
    assert_eq!(report["info"]["commit"], "abc1234");
    assert!(report["setup_status"]
        .as_array()
        .is_some_and(|s| !s.is_empty()));
    let serve_lines = report["logs"]["serve.log"].as_array().unwrap();
    assert!(serve_lines.len() <= loopline_engine::DIAGNOSTIC_LOG_LINES);
    assert!(
        serve_lines
            .iter()
            .any(|l| l.as_str().unwrap().contains("diagnostics test marker")),
        "{serve_lines:?}"
    );
    assert!(serve_lines
        .iter()
        .any(|l| l.as_str().unwrap().starts_with("leaked ••••••")));
    assert_eq!(report["logs"]["app.log"][0], "app line ••••••");
    engine.shutdown().await;
}
