//! `loopline automation preview` (what the builder's live preview shows) and
//! `loopline automation fields` (what a `--when` condition may name). Kept apart from
//! `automation_cmd.rs`, which owns the flags: preview takes exactly `add`'s.

use loopline_core::{ApiError, CONDITION_FIELDS};
use loopline_engine::Engine;

use crate::automation_cmd::{request, AutomationAdd};
use crate::output::print_json;

pub async fn preview(engine: &Engine, a: &AutomationAdd) -> Result<(), ApiError> {
    let p = engine.preview_automation(&request(a)?).await?;
    if a.json {
        return print_json(&p);
    }
    println!("{}", p.sentence);
    if !p.would_fire.is_empty() {
        let ids: Vec<String> = p.would_fire.iter().map(|id| id.to_string()).collect();
        println!("Events (newest first): {}", ids.join(", "));
        println!("`loopline events show ID` shows one.");
    }
    Ok(())
}

pub fn fields(json: bool) -> Result<(), ApiError> {
    if json {
        return print_json(&CONDITION_FIELDS);
    }
    for f in CONDITION_FIELDS {
        println!("{:<36} {:<9} {}", f.name, format!("{:?}", f.ty), f.doc);
    }
    Ok(())
}
