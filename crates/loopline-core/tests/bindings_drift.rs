//! Fails when `ui/src/bindings.gen.ts` no longer matches the Rust types.
//! Regenerate with `scripts/gen-bindings` (or `UPDATE_BINDINGS=1 cargo test -p loopline-core`).

use std::path::PathBuf;

#[test]
fn committed_bindings_match_the_rust_types() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/bindings.gen.ts");
    let generated = loopline_core::typescript_bindings();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "ui/src/bindings.gen.ts has drifted from the Rust types. Run scripts/gen-bindings and commit the result.\n--- generated ---\n{generated}"
    );
}
