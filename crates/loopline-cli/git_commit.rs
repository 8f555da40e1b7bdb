// The git commit a binary is built from, as `LOOPLINE_COMMIT` for `env!`. Shared by the
// build scripts of both binaries (`include!`d), so the engine crates are not rebuilt on
// every commit, only the two binaries relinked.
//
// Cheap on purpose: git runs only when cargo reruns the script, which is when HEAD, the
// branch it points to or packed-refs move (or the script itself changes). Without git (a
// source tarball) the commit is "unknown"; LOOPLINE_COMMIT in the environment wins, for
// builds that know it some other way.

fn emit_git_commit() {
    println!("cargo:rerun-if-env-changed=LOOPLINE_COMMIT");
    let dir = std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let git = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&dir)
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !text.is_empty()).then_some(text)
    };
    let commit = std::env::var("LOOPLINE_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| git(&["rev-parse", "--short", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=LOOPLINE_COMMIT={commit}");
    // --git-path resolves worktrees (HEAD is per worktree, refs are shared). Only files that
    // exist are named: cargo reruns the script on every build for a missing one.
    let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"]), git(&["rev-parse", "--git-path", "packed-refs"])];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(git(&["rev-parse", "--git-path", &branch]));
    }
    for path in watched.into_iter().flatten() {
        let path = dir.join(path);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}
