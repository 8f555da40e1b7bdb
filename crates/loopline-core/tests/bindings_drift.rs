//! Fails when `ui/src/bindings.gen.ts` no longer matches the Rust types.
//! Regenerate with `scripts/gen-bindings` (or `UPDATE_BINDINGS=1 cargo test -p loopline-core`).

use std::path::PathBuf;

#[test]
fn committed_bindings_match_the_rust_types() {
    let path = manifest_dir().join("../../ui/src/bindings.gen.ts");
    let generated = loopline_core::typescript_bindings();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert!(
        committed == generated,
        "ui/src/bindings.gen.ts has drifted from the Rust types. Run scripts/gen-bindings and commit the result.\n--- generated ---\n{generated}"
    );
}

/// The crate's directory as `cargo test` gives it when the test runs. Read at run time: a
/// test binary compiled in another clone sharing the target directory is reused by cargo
/// when the sources are identical, and the compile-time path would name that clone.
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}
