//! Where the app and `loopline serve` keep their logs: a small size-rotated file in the OS's
//! log folder, besides stderr. The app has no terminal, so without the file a user has
//! nothing to attach to a bug report. Rotation is ours (a rename when the file is full):
//! a logging crate for it would cost more build time than these few lines.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Each file's size cap, and how many files are kept (the current one and `.1`).
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;
pub const KEEP_FILES: usize = 2;

/// Which process writes: each has its own file, so the app and `serve` never rotate one
/// file under each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    App,
    Serve,
    /// One-shot CLI commands: stderr only.
    Cli,
}

impl LogKind {
    fn file_name(self) -> Option<&'static str> {
        match self {
            LogKind::App => Some("app.log"),
            LogKind::Serve => Some("serve.log"),
            LogKind::Cli => None,
        }
    }
}

/// The file names diagnostics reads, oldest content first within each.
pub const LOG_FILES: [&str; 2] = ["app.log", "serve.log"];

static CURRENT_FILE: OnceLock<PathBuf> = OnceLock::new();

/// The log file this process writes, once logging is set up with one.
pub fn current_file() -> Option<&'static Path> {
    CURRENT_FILE.get().map(PathBuf::as_path)
}

/// `LOOPLINE_LOG_DIR`, else the OS's folder for logs:
/// Linux `$XDG_STATE_HOME/loopline/logs` (`~/.local/state/loopline/logs`),
/// macOS `~/Library/Logs/Loopline`, Windows `%LOCALAPPDATA%\Loopline\logs`.
pub fn log_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("LOOPLINE_LOG_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    os_log_dir()
}

#[cfg(target_os = "macos")]
fn os_log_dir() -> Option<PathBuf> {
    dirs::home_dir().map(|h| h.join("Library/Logs/Loopline"))
}

#[cfg(windows)]
fn os_log_dir() -> Option<PathBuf> {
    dirs::data_local_dir().map(|d| d.join("Loopline").join("logs"))
}

#[cfg(not(any(target_os = "macos", windows)))]
fn os_log_dir() -> Option<PathBuf> {
    // dirs' state_dir is $XDG_STATE_HOME or ~/.local/state; data-local when there is none.
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .map(|d| d.join("loopline").join("logs"))
}

/// Logs to stderr (`RUST_LOG` tunes both) and, for the app and `serve`, to the rotating file.
/// A log folder that cannot be written is said on stderr; logging goes on without the file.
pub fn init(kind: LogKind) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;

    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(
                "warn,loopline=info,aws_config=error,aws_runtime=error",
            )
        })
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(io::stderr)
        .with_target(kind != LogKind::Cli)
        .with_filter(filter());
    let file = kind.file_name().and_then(|name| {
        let dir = log_dir()?;
        match RotatingFile::open(dir.join(name), MAX_FILE_BYTES, KEEP_FILES) {
            Ok(f) => {
                let _ = CURRENT_FILE.set(f.path().to_path_buf());
                Some(f)
            }
            Err(e) => {
                eprintln!("warning: cannot write logs to {}: {e}", dir.display());
                None
            }
        }
    });
    let file = file.map(|f| {
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(Mutex::new(f))
            .with_filter(filter())
    });
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .try_init();
}

/// An append-only file that moves itself to `.1` (and `.1` to `.2` …) when the next write
/// would take it past `max_bytes`, keeping `keep` files in all.
pub struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
    file: Option<File>,
    len: u64,
    /// Rotation waits for the end of a line, so no line is split across two files.
    at_line_start: bool,
}

impl RotatingFile {
    pub fn open(path: PathBuf, max_bytes: u64, keep: usize) -> io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = open_append(&path)?;
        let len = file.metadata()?.len();
        Ok(RotatingFile {
            path,
            max_bytes,
            keep: keep.max(1),
            file: Some(file),
            len,
            at_line_start: true,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn rotate(&mut self) -> io::Result<()> {
        // Closed before the renames: Windows does not rename a file that is open.
        self.file = None;
        for i in (1..self.keep).rev() {
            let from = numbered(&self.path, i - 1);
            if from.exists() {
                std::fs::rename(&from, numbered(&self.path, i))?;
            }
        }
        if self.keep == 1 {
            // Nothing kept beside the current file: start it again.
            let f = OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&self.path)?;
            drop(f);
        }
        self.file = Some(open_append(&self.path)?);
        self.len = 0;
        Ok(())
    }
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let full = self.len > 0 && self.len + buf.len() as u64 > self.max_bytes;
        // A writer that never ends its lines still cannot grow the file without bound.
        if full && (self.at_line_start || self.len > self.max_bytes.saturating_mul(2)) {
            if let Err(e) = self.rotate() {
                // Another process holding `.1` open (Windows) must not stop the logging.
                eprintln!("warning: cannot rotate {}: {e}", self.path.display());
                if self.file.is_none() {
                    self.file = Some(open_append(&self.path)?);
                }
            }
        }
        let file = match self.file.as_mut() {
            Some(f) => f,
            None => return Err(io::Error::other("log file closed")),
        };
        let n = file.write(buf)?;
        self.len += n as u64;
        if n > 0 {
            self.at_line_start = buf[n - 1] == b'\n';
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().map_or(Ok(()), File::flush)
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// `app.log` for 0, `app.log.1` for 1, …
fn numbered(path: &Path, i: usize) -> PathBuf {
    if i == 0 {
        return path.to_path_buf();
    }
    let mut name = path.as_os_str().to_os_string();
    name.push(format!(".{i}"));
    PathBuf::from(name)
}

/// The newest `n` lines of a rotated log (its older files first), lossily decoded.
pub fn tail_lines(path: &Path, keep: usize, n: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for i in (0..keep).rev() {
        if let Ok(bytes) = std::fs::read(numbered(path, i)) {
            lines.extend(String::from_utf8_lossy(&bytes).lines().map(str::to_string));
        }
    }
    let skip = lines.len().saturating_sub(n);
    lines.split_off(skip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_moves_to_dot_one_and_only_keep_files_remain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("serve.log");
        let mut f = RotatingFile::open(path.clone(), 100, 2).unwrap();
        for i in 0..30 {
            writeln!(f, "line {i:02} ........").unwrap();
        }
        f.flush().unwrap();
        let current = std::fs::metadata(&path).unwrap().len();
        let older = std::fs::metadata(numbered(&path, 1)).unwrap().len();
        // Never split a line: each file holds whole lines, a line may overrun the cap.
        assert!(current <= 120 && older <= 120, "{current} {older}");
        assert!(!numbered(&path, 2).exists(), "only two files are kept");
        // The newest lines survive, in order, across the two files.
        let tail = tail_lines(&path, 2, 3);
        assert_eq!(
            tail,
            vec!["line 27 ........", "line 28 ........", "line 29 ........"]
        );
    }

    #[test]
    fn reopening_appends_and_counts_what_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a dir with spaces ü").join("app.log");
        {
            let mut f = RotatingFile::open(path.clone(), 50, 2).unwrap();
            f.write_all(&[b'x'; 40]).unwrap();
        }
        // Reopened mid-line (a crash): the next write still rotates once the cap is passed.
        let mut f = RotatingFile::open(path.clone(), 50, 2).unwrap();
        f.write_all(&[b'y'; 20]).unwrap();
        assert_eq!(std::fs::read(numbered(&path, 1)).unwrap(), vec![b'x'; 40]);
        assert_eq!(std::fs::read(&path).unwrap(), vec![b'y'; 20]);
    }

    #[test]
    fn a_line_is_never_split_across_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let mut f = RotatingFile::open(path.clone(), 10, 2).unwrap();
        f.write_all(b"12345678\n").unwrap();
        // One line in several writes, as `writeln!` makes them.
        write!(f, "ab").unwrap();
        writeln!(f, "cd").unwrap();
        assert_eq!(std::fs::read(numbered(&path, 1)).unwrap(), b"12345678\n");
        assert_eq!(std::fs::read(&path).unwrap(), b"abcd\n");
    }

    #[test]
    fn one_kept_file_starts_again_when_full() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let mut f = RotatingFile::open(path.clone(), 10, 1).unwrap();
        f.write_all(b"012345678\n").unwrap();
        f.write_all(b"abc\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"abc\n");
        assert!(!numbered(&path, 1).exists());
    }

    #[test]
    fn tail_of_a_missing_log_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(tail_lines(&dir.path().join("none.log"), 2, 200).is_empty());
    }
}
