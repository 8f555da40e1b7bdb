//! `loopline serve` over a real socket: health, clean shutdown on signals, refusals.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

mod support;

use support::{signal, wait_exit, BIN};

struct Served {
    child: std::process::Child,
    addr: String,
    _dir: tempfile::TempDir,
    data_dir: std::path::PathBuf,
}

fn serve(extra: &[&str]) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let s = support::serve(&["--data-dir", data_dir.to_str().unwrap()], extra);
    Served {
        child: s.child,
        addr: s.addr,
        _dir: dir,
        data_dir,
    }
}

#[tokio::test]
async fn healthz_answers_and_sigterm_shuts_down_cleanly() {
    let served = serve(&[]);
    let resp = reqwest::get(format!("http://{}/healthz", served.addr))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["db"], "ok");

    // Only /hooks/* and /healthz are served on the port a tunnel exposes.
    let other = reqwest::get(format!("http://{}/", served.addr))
        .await
        .unwrap();
    assert_eq!(other.status(), 404);

    signal(&served.child, libc::SIGTERM);
    let (status, stderr) = wait_exit(served.child, Duration::from_secs(15));
    assert!(status.success(), "exit {status:?}: {stderr}");
    assert!(stderr.contains("Stopped cleanly"), "{stderr}");
    // A clean close checkpoints the write-ahead log into the database file.
    let wal = served.data_dir.join("loopline.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
    // The port is free again.
    assert!(std::net::TcpListener::bind(&served.addr).is_ok());
}

#[tokio::test]
async fn sigint_also_shuts_down_cleanly() {
    let served = serve(&[]);
    let resp = reqwest::get(format!("http://{}/healthz", served.addr))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    signal(&served.child, libc::SIGINT);
    let (status, stderr) = wait_exit(served.child, Duration::from_secs(15));
    assert!(status.success(), "exit {status:?}: {stderr}");
    assert!(stderr.contains("Stopped cleanly"), "{stderr}");
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = support::loopline(args, &[], None);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn non_loopback_is_refused_without_public() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (code, _, stderr) = run(&["--data-dir", data, "serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("listen_not_loopback"), "{stderr}");
    assert!(stderr.contains("--public"), "{stderr}");
}

#[test]
fn public_flag_allows_any_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "serve",
            "--listen",
            "0.0.0.0:0",
            "--public",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("http://0.0.0.0:"), "{line}");
    signal(&child, libc::SIGTERM);
    let (status, _) = wait_exit(child, Duration::from_secs(15));
    assert!(status.success());
}

#[test]
fn taken_port_is_explained_with_a_free_one() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = blocker.local_addr().unwrap().to_string();
    let (code, _, stderr) = run(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "serve",
        "--listen",
        &taken,
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("port_in_use"), "{stderr}");
    assert!(stderr.contains("--listen 127.0.0.1:"), "{stderr}");
}

#[test]
fn corrupt_database_is_named_not_panicked_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("loopline.db"), vec![0x5a; 4096]).unwrap();
    let (code, _, stderr) = run(&["--data-dir", dir.path().to_str().unwrap(), "info"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("db_corrupt"), "{stderr}");
    assert!(stderr.contains("loopline.db"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn info_json_names_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) =
        run(&["--data-dir", dir.path().to_str().unwrap(), "info", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let info: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(info["data_dir"], dir.path().to_str().unwrap());
    assert!(info["schema_version"].as_i64().unwrap() >= 2);
}

#[test]
fn data_dir_comes_from_the_environment_too() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["info", "--json"])
        .env("LOOPLINE_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(dir.path().join("loopline.db").exists());
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["info", "--help"],
    ] {
        let (code, stdout, _) = run(&args);
        assert_eq!(code, 0, "{args:?}");
        assert!(stdout.contains("Usage:"), "{args:?}: {stdout}");
    }
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_delivery_finish_and_store() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = Command::new(BIN)
        .args([
            "--data-dir",
            data,
            "--secrets",
            "env",
            "source",
            "add",
            "label-studio",
            "--name",
            "S",
            "--json",
        ])
        .output()
        .unwrap();
    let src: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let served = support::serve(&["--data-dir", data, "--secrets", "env"], &[]);

    // Headers and half the body, then the signal, then the rest: the request is in flight
    // when shutdown begins, and must still be stored and acknowledged.
    let body = br#"{"action": "ANNOTATION_CREATED", "annotation": {"id": 5, "task": 9}, "project": {"id": 3, "title": "Slow"}}"#;
    let mut stream = tokio::net::TcpStream::connect(&served.addr).await.unwrap();
    let head = format!(
        "POST /hooks/{} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nX-Loopline-Token: {}\r\nContent-Length: {}\r\n\r\n",
        src["id"].as_str().unwrap(),
        served.addr,
        src["token"].as_str().unwrap(),
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..20]).await.unwrap();
    // Wait on state, not time: the server has taken every byte sent so far off its socket
    // (the kernel's receive queue for that connection is empty), so the request is in flight.
    let client_port = stream.local_addr().unwrap().port();
    let server_port: u16 = served.addr.rsplit(':').next().unwrap().parse().unwrap();
    wait_for("the server to read the headers", || {
        receive_queue(server_port, client_port) == Some(0)
    })
    .await;
    signal(&served.child, libc::SIGTERM);
    // Shutdown has begun once the listener is gone: new connections are refused.
    wait_for("the listener to close", || {
        std::net::TcpStream::connect(&served.addr).is_err()
    })
    .await;
    stream.write_all(&body[20..]).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"event_id\":1"), "{response}");

    let (status, stderr) = wait_exit(served.child, Duration::from_secs(15));
    assert!(status.success(), "{stderr}");
    let out = Command::new(BIN)
        .args([
            "--data-dir",
            data,
            "--secrets",
            "env",
            "events",
            "list",
            "--json",
        ])
        .output()
        .unwrap();
    let events: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        events[0]["summary"],
        "Annotation 5 created on task 9 in 'Slow'"
    );
}

/// Polls `done` until it holds (state, checked every 10 ms), for at most 30 s.
async fn wait_for(what: &str, done: impl Fn() -> bool) {
    for _ in 0..3000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Bytes waiting unread in the server's receive queue for the connection from
/// `client_port`, read from /proc/net/tcp (IPv4 loopback, as `serve` listens here).
fn receive_queue(server_port: u16, client_port: u16) -> Option<u64> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let port_of = |addr: &str| u16::from_str_radix(addr.rsplit(':').next()?, 16).ok();
    table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let (local, remote, queues) = (cols.get(1)?, cols.get(2)?, cols.get(4)?);
        if port_of(local)? != server_port || port_of(remote)? != client_port {
            return None;
        }
        u64::from_str_radix(queues.split(':').nth(1)?, 16).ok()
    })
}
