//! `loopline catch-up`: asks each connected Label Studio project what Loopline missed while
//! it was not reachable, as the app and `serve` do at start, after a sleep and when the
//! tunnel comes back.

use loopline_core::ApiError;
use loopline_engine::Engine;

use crate::global_args::{GlobalArgs, JsonFlag};
use crate::output::print_json;

pub async fn run(global: &GlobalArgs, args: JsonFlag) -> Result<(), ApiError> {
    let engine = Engine::open(global.engine_options()).await?;
    let report = engine.catch_up_now().await;
    engine.shutdown().await;
    let report = report?;
    if args.json {
        return print_json(&report);
    }
    if report.projects.is_empty() {
        println!("Nothing to catch up on: no Label Studio project has a rule or a Loopline webhook, and no Aquarium source missed a gap.");
        return Ok(());
    }
    for p in &report.projects {
        let what = match (&p.project_id, &p.project_title) {
            (Some(id), Some(t)) => format!("'{t}' (project {id})"),
            (Some(id), None) => format!("project {id}"),
            (None, _) => format!("source {}", p.source_id),
        };
        match (&p.error, p.project_id, p.event_id) {
            (Some(e), _, _) => println!("{what}: not asked: {e}"),
            (None, None, _) => println!(
                "{what}: unreachable from {} to {}, noted on the timeline",
                p.from, p.to
            ),
            (None, Some(_), Some(ev)) => println!(
                "{what}: {} missed annotation(s) caught up (event {ev})",
                p.missed
            ),
            (None, Some(_), None) => println!("{what}: nothing missed"),
        }
    }
    Ok(())
}
