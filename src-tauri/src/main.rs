// Hide the extra console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

// The same allocator as the `loopline` binary (see crates/loopline-cli/src/main.rs): the
// app runs the same receiver.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    loopline_app::run();
}
