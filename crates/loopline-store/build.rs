// `sqlx::migrate!` embeds the migrations at compile time, and cargo does not know it read
// them: without this, a new migration file alone would not rebuild the crate, and an
// incremental build would ship the old list.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
