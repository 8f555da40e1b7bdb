//! kill -9 in the middle of a load: every event the client saw acknowledged is in the
//! database after a restart.

mod support;

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::BIN;

fn cli(data: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(BIN)
        .args(["--data-dir", data.to_str().unwrap(), "--secrets", "env"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_event_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let src = cli(
        &data,
        &["source", "add", "label-studio", "--name", "Load", "--json"],
    );
    let (id, token) = (
        src["id"].as_str().unwrap().to_string(),
        src["token"].as_str().unwrap().to_string(),
    );

    let served = support::serve(
        &["--data-dir", data.to_str().unwrap(), "--secrets", "env"],
        &["--rate-limit", "0"],
    );
    let (mut child, addr) = (served.child, served.addr);

    let acked = Arc::new(Mutex::new(Vec::<i64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for c in 0..16 {
        let (client, acked, stop, url, token) = (
            client.clone(),
            acked.clone(),
            stop.clone(),
            format!("http://{addr}/hooks/{id}"),
            token.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let body = format!(
                    r#"{{"action":"ANNOTATION_CREATED","annotation":{{"id":{n},"task":{n}}},"project":{{"id":1,"title":"Load"}},"pad":"{pad}"}}"#,
                    n = c * 1_000_000 + i,
                    pad = "x".repeat(4096)
                );
                match client.post(&url).header("x-loopline-token", &token).header("content-type", "application/json").body(body).send().await {
                    Ok(resp) if resp.status() == 200 => {
                        if let Ok(v) = resp.json::<serde_json::Value>().await {
                            if let Some(id) = v["event_id"].as_i64() {
                                acked.lock().unwrap().push(id);
                            }
                        }
                    }
                    _ => break,
                }
            }
        }));
    }
    // Let the load build up, then kill without warning.
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if acked.lock().unwrap().len() >= 1500 {
            break;
        }
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 100,
        "the load produced acknowledgements before the kill ({})",
        acked.len()
    );

    // Restart: the store recovers its write-ahead log; every acknowledged id must be there.
    let mut stored = std::collections::HashSet::new();
    let mut before: Option<i64> = None;
    loop {
        let mut args = vec!["events", "list", "--limit", "1000", "--json"];
        let b;
        if let Some(x) = before {
            b = x.to_string();
            args.extend(["--before", b.as_str()]);
        }
        let page = cli(&data, &args);
        let page = page.as_array().unwrap();
        if page.is_empty() {
            break;
        }
        for e in page {
            stored.insert(e["id"].as_i64().unwrap());
        }
        before = page.last().and_then(|e| e["id"].as_i64());
    }
    let missing: Vec<_> = acked.iter().filter(|id| !stored.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged events lost: {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    eprintln!(
        "{} acknowledged before kill -9, {} stored after restart",
        acked.len(),
        stored.len()
    );
}
