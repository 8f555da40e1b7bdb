//! Sources against the real OS keychain (gnome-keyring under dbus-run-session in CI):
//! a Standard Webhooks source keeps its signing key there, and a restarted receiver finds it.

mod support;

use std::process::Command;

use support::BIN;

fn keychain_available() -> bool {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but no D-Bus session: run the tests through scripts/with-keyring");
    }
    eprintln!("skipped: no D-Bus session (run through scripts/with-keyring)");
    false
}

#[tokio::test]
async fn generic_source_key_lives_in_the_keychain_and_survives_a_restart() {
    if !keychain_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = Command::new(BIN)
        .args([
            "--data-dir",
            data,
            "source",
            "add",
            "generic",
            "--name",
            "Signed",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let secret = created["token"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();

    // The secret is nowhere in the data directory.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let key_part = secret.trim_start_matches("whsec_");
        assert!(
            !bytes
                .windows(key_part.len())
                .any(|w| w == key_part.as_bytes()),
            "secret found on disk"
        );
    }

    let served = support::serve(&["--data-dir", data], &[]);
    let (mut child, addr) = (served.child, served.addr);

    let out = Command::new(BIN)
        .args([
            "--data-dir",
            data,
            "source",
            "test",
            &id,
            "--url",
            &format!("http://{addr}"),
            "--json",
        ])
        .output()
        .unwrap();
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let _ = child.wait();
    assert!(
        out.status.success(),
        "signed test event accepted: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = Command::new(BIN)
        .args(["--data-dir", data, "source", "remove", &id])
        .output()
        .unwrap();
    assert!(out.status.success());
}

fn secret_cmd(data: &str, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let all: Vec<&str> = ["--data-dir", data, "secret"]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    support::loopline(&all, &[], stdin)
}

#[test]
fn secrets_round_trip_through_the_real_keychain() {
    if !keychain_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let first = "first-secret-value-Zq81";
    let second = "second-secret-value-Wm27";

    let out = secret_cmd(data, &["set", "label-studio-token"], Some(first));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Read back by a new process: the name and the last 4 characters, never the value.
    let out = secret_cmd(data, &["list", "--json"], None);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["name"], "label-studio-token");
    assert_eq!(listed[0]["hint"], "…Zq81");
    assert_eq!(listed[0]["store"], "keychain");

    let out = secret_cmd(data, &["set", "label-studio-token"], Some(second));
    assert!(out.status.success());
    let listed: serde_json::Value =
        serde_json::from_slice(&secret_cmd(data, &["list", "--json"], None).stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "replaced, not added");
    assert_eq!(listed[0]["hint"], "…Wm27");

    let mut all_output = Vec::new();
    for args in [
        &["delete", "label-studio-token"][..],
        &["list", "--json"][..],
    ] {
        let out = secret_cmd(data, args, None);
        assert!(out.status.success());
        all_output.extend(out.stdout);
        all_output.extend(out.stderr);
    }
    let listed: serde_json::Value =
        serde_json::from_slice(&secret_cmd(data, &["list", "--json"], None).stdout).unwrap();
    assert!(listed.as_array().unwrap().is_empty());

    // Neither value is anywhere in the data dir or in what the commands printed.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        all_output.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    for v in [first, second] {
        assert!(
            !all_output.windows(v.len()).any(|w| w == v.as_bytes()),
            "{v} leaked"
        );
    }
}

#[test]
fn env_secrets_are_never_written_and_a_missing_keychain_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = Command::new(BIN)
        .args([
            "--data-dir",
            data,
            "--secrets",
            "env",
            "secret",
            "set",
            "label-studio-token",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());

    let out = Command::new(BIN)
        .args([
            "--data-dir",
            data,
            "source",
            "add",
            "generic",
            "--name",
            "G",
            "--json",
        ])
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/loopline-test-bus",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["code"], "keychain_unavailable");
    assert!(err["message"].as_str().unwrap().contains("--secrets env"));
    // Nothing was half-created.
    let out = Command::new(BIN)
        .args([
            "--data-dir",
            data,
            "--secrets",
            "env",
            "source",
            "list",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");

    let out = Command::new(BIN)
        .args([
            "--data-dir",
            data,
            "--secrets",
            "env",
            "secret",
            "list",
            "--json",
        ])
        .env(
            "LOOPLINE_SECRET_LABEL_STUDIO_TOKEN",
            "from-the-environment-9x7Q",
        )
        .output()
        .unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == "label-studio-token" && s["hint"] == "…9x7Q"));
}

/// Label Studio never retries, so a token rotated by the CLI while `serve` runs must work
/// on the very next delivery, not after the receiver's next poll; the old one keeps working
/// through its grace period.
#[tokio::test]
async fn a_token_rotated_by_another_process_works_at_once() {
    if !keychain_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let run = |args: &[&str]| -> serde_json::Value {
        let out = Command::new(BIN)
            .args(["--data-dir", data])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let created = run(&["source", "add", "label-studio", "--name", "LS", "--json"]);
    let id = created["id"].as_str().unwrap().to_string();
    let old = created["token"].as_str().unwrap().to_string();
    let served = support::serve(&["--data-dir", data], &[]);
    let url = format!("http://{}/hooks/{id}", served.addr);
    let http = reqwest::Client::new();
    let post = |token: String| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            http.post(url)
                .header("x-loopline-token", token)
                .header("content-type", "application/json")
                .body(r#"{"action":"ANNOTATION_CREATED"}"#)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(post(old.clone()).await, 200);
    for _ in 0..3 {
        let rotated = run(&["source", "rotate", &id, "--grace", "1h", "--json"]);
        let new = rotated["token"].as_str().unwrap().to_string();
        assert_eq!(
            post(new.clone()).await,
            200,
            "the new token, right after rotation"
        );
        assert_eq!(
            post(old.clone()).await,
            200,
            "the first token, within its grace"
        );
    }
    assert_eq!(post("0".repeat(43)).await, 401);
    support::signal(&served.child, libc::SIGTERM);
    support::wait_exit(served.child, std::time::Duration::from_secs(10));
}
