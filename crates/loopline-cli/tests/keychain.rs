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
