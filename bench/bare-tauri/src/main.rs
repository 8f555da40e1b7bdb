//! One window over one static page, nothing else: the floor any Tauri v2 app starts from.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("the bare window opens");
}
