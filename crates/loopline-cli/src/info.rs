use loopline_core::ApiError;
use loopline_engine::Engine;

use crate::global_args::{GlobalArgs, JsonFlag};
use crate::output::print_json;

pub async fn run(global: &GlobalArgs, args: JsonFlag) -> Result<(), ApiError> {
    let engine = Engine::open(global.engine_options()).await?;
    let info = engine.info().await?;
    let listen = engine.saved_listen().await?;
    engine.shutdown().await;
    if args.json {
        return print_json(&info);
    }
    println!("Loopline {} (commit {})", info.version, info.commit);
    println!("data dir:  {}", info.data_dir);
    println!(
        "database:  {} (schema {}, {} bytes)",
        info.db_path, info.schema_version, info.db_size_bytes
    );
    println!("listen:    {listen}");
    println!("logs:      {}", info.log_dir);
    Ok(())
}

/// `loopline diagnostics`: the report is JSON already, so `--json` prints the same text.
pub async fn diagnostics(global: &GlobalArgs, _args: JsonFlag) -> Result<(), ApiError> {
    let engine = Engine::open(global.engine_options()).await?;
    let result = engine.diagnostics().await;
    engine.shutdown().await;
    let diagnostics = result?;
    println!("{}", diagnostics.report);
    eprintln!("{} secret values masked.", diagnostics.masked);
    Ok(())
}
