//! A personal access token against a real Label Studio (from PyPI, started here on
//! 127.0.0.1 and stopped by PID), whose clock this test moves with libfaketime: the access
//! token really expires on the server, and the client must refresh it and carry on. The
//! client's own clock is a manual one, so proactive refresh is shown without waiting.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use loopline_cloud::label_studio::LabelStudio;
use loopline_core::{Clock, Sensitive, TokenKind};

const FAKETIME_LIB: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

struct ManualClock(AtomicI64);

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn real_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A peer this test cannot start: a failure in CI, a visible skip elsewhere.
fn missing_peer(what: &str) -> bool {
    if std::env::var("CI").is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "yes")) {
        panic!("{what} (CI=true: a test that needs a peer must not skip)");
    }
    eprintln!("SKIPPED: {what}");
    false
}

fn venv() -> PathBuf {
    std::env::var_os("LOOPLINE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| dirs_home().join(".cache/loopline/venv"))
}

fn dirs_home() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
}

/// Label Studio under libfaketime, stopped (by process group) when dropped.
struct FakeTimedLabelStudio {
    child: Child,
    base: String,
    legacy_token: String,
    offset_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl FakeTimedLabelStudio {
    fn start() -> Option<FakeTimedLabelStudio> {
        let binary = venv().join("bin/label-studio");
        if !binary.exists() {
            missing_peer(&format!(
                "Label Studio is not installed at {}",
                binary.display()
            ));
            return None;
        }
        if !Path::new(FAKETIME_LIB).exists() {
            missing_peer("libfaketime is not installed (apt-get install faketime)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let offset_file = dir.path().join("faketime.rc");
        std::fs::write(&offset_file, "+0\n").unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let legacy_token: String = format!("{:040x}", real_now_ms() as u128 * 7919);
        let legacy_token = legacy_token[legacy_token.len() - 40..].to_string();
        let log = std::fs::File::create(dir.path().join("label-studio.log")).unwrap();
        let mut cmd = Command::new(&binary);
        cmd.args([
            "start",
            "--no-browser",
            "--internal-host",
            "127.0.0.1",
            "-p",
        ])
        .arg(port.to_string())
        .current_dir(dir.path())
        .env("LABEL_STUDIO_BASE_DATA_DIR", dir.path())
        .env("LABEL_STUDIO_USERNAME", "ada@loopline.test")
        .env("LABEL_STUDIO_PASSWORD", "loopline-test-password")
        .env("LABEL_STUDIO_USER_TOKEN", &legacy_token)
        .env("LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN", "true")
        .env("LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK", "true")
        .env("LOG_LEVEL", "WARNING")
        .env("LD_PRELOAD", FAKETIME_LIB)
        .env("FAKETIME_TIMESTAMP_FILE", &offset_file)
        .env("FAKETIME_NO_CACHE", "1")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .stdin(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().expect("label-studio starts");
        let ls = FakeTimedLabelStudio {
            child,
            base: format!("http://127.0.0.1:{port}"),
            legacy_token,
            offset_file,
            _dir: dir,
        };
        Some(ls)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("label-studio.log")).unwrap_or_default()
    }

    /// Moves Label Studio's clock (and only its clock) by `secs` from real time.
    fn set_offset(&self, secs: i64) {
        let mut f = std::fs::File::create(&self.offset_file).unwrap();
        writeln!(f, "{secs:+}").unwrap();
    }
}

impl Drop for FakeTimedLabelStudio {
    fn drop(&mut self) {
        unsafe {
            libc::killpg(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        unsafe {
            libc::killpg(self.child.id() as i32, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

async fn wait_ready(http: &reqwest::Client, ls: &mut FakeTimedLabelStudio) {
    let deadline = Instant::now() + Duration::from_secs(240);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = ls.child.try_wait() {
            panic!(
                "Label Studio exited ({status}) while starting:\n{}",
                ls.log()
            );
        }
        let r = http
            .get(format!("{}/api/current-user/whoami", ls.base))
            .header("authorization", format!("Token {}", ls.legacy_token))
            .send()
            .await;
        if r.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("Label Studio did not answer within 240 s:\n{}", ls.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_access_token_is_refreshed_after_the_server_expires_it() {
    let Some(mut ls) = FakeTimedLabelStudio::start() else {
        return;
    };
    let http = reqwest::Client::new();
    wait_ready(&http, &mut ls).await;

    // A personal access token, created the way the Account page creates one.
    let created: serde_json::Value = http
        .post(format!("{}/api/token/", ls.base))
        .header("authorization", format!("Token {}", ls.legacy_token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pat = created["token"]
        .as_str()
        .expect("a personal access token")
        .to_string();

    let clock = Arc::new(ManualClock(AtomicI64::new(real_now_ms())));
    let client = LabelStudio::new(&ls.base, Sensitive::new(pat), clock.clone()).unwrap();
    assert_eq!(client.token_kind(), TokenKind::PersonalAccessToken);

    let me = client.verify().await.expect("the PAT verifies");
    assert_eq!(me.email, "ada@loopline.test");
    assert_eq!(client.access_tokens_obtained(), 1);
    client.verify().await.unwrap();
    assert_eq!(
        client.access_tokens_obtained(),
        1,
        "a fresh access token is reused"
    );

    // Ten minutes pass on the server only: the cached access token (5-minute lifetime) is
    // now expired there while the client still believes it fresh. The server's 401 must
    // lead to one refresh and a successful retry, not an error for the user.
    ls.set_offset(600);
    let direct = http
        .get(format!("{}/api/current-user/whoami", ls.base))
        .header("authorization", format!("Token {}", ls.legacy_token))
        .send()
        .await
        .unwrap();
    assert!(
        direct.status().is_success(),
        "Label Studio still answers after the clock moved"
    );
    let me = client
        .verify()
        .await
        .expect("the client refreshes after the server's 401");
    assert_eq!(me.email, "ada@loopline.test");
    assert_eq!(client.access_tokens_obtained(), 2);

    // Both clocks move another 20 minutes: now the client itself sees the expiry coming and
    // refreshes before sending anything.
    ls.set_offset(600 + 1200);
    clock.0.fetch_add(1_200_000 + 600_000, Ordering::SeqCst);
    client.verify().await.expect("proactive refresh");
    assert_eq!(client.access_tokens_obtained(), 3);
}
