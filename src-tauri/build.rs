include!("../crates/loopline-cli/git_commit.rs");

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/build.rs");
    println!("cargo:rerun-if-changed=crates/loopline-cli/git_commit.rs");
    emit_git_commit();
    tauri_build::build()
}
