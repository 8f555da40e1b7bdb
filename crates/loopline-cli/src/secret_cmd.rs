use loopline_core::ApiError;
use loopline_engine::Engine;

use crate::args::{GlobalArgs, SecretCommand};
use crate::output::print_json;
use crate::source_cmd::read_secret;

pub async fn run(global: &GlobalArgs, cmd: SecretCommand) -> Result<(), ApiError> {
    let engine = Engine::open(global.engine_options()).await?;
    let result = async {
        match cmd {
            SecretCommand::Set { name, json } => {
                let info = engine.set_secret(&name, read_secret()?).await?;
                if json {
                    return print_json(&info);
                }
                println!("Stored '{}' in the {}{}.", info.name, info.store, info.hint.map(|h| format!(" ({h})")).unwrap_or_default());
                Ok(())
            }
            SecretCommand::List(f) => {
                let list = engine.list_secrets().await?;
                if f.json {
                    return print_json(&list);
                }
                if list.is_empty() {
                    println!("No secrets stored. Add one: printf %s \"$VALUE\" | loopline secret set NAME");
                }
                for s in list {
                    println!("{:<40} {:<8} {}", s.name, s.hint.unwrap_or_default(), s.store);
                }
                Ok(())
            }
            SecretCommand::Delete { name, json } => {
                engine.delete_secret(&name).await?;
                if json {
                    print_json(&serde_json::json!({ "deleted": name }))
                } else {
                    println!("Deleted '{name}'.");
                    Ok(())
                }
            }
        }
    }
    .await;
    engine.shutdown().await;
    result
}
