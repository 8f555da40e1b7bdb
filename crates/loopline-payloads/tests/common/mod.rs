//! What the parser's test files share.

use std::path::PathBuf;

/// The crate's directory as `cargo test` gives it when the test runs. Read at run time: a
/// test binary compiled in another clone sharing the target directory is reused by cargo
/// when the sources are identical, and the compile-time path would name that clone.
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}
