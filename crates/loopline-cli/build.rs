include!("git_commit.rs");

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=git_commit.rs");
    emit_git_commit();
}
