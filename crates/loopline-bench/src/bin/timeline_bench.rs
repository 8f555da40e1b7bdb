//! B2: the timeline's queries with a large store. Seeds realistic Label Studio events once
//! (kept in --data-dir for reruns), brings the full-text index up to date, then times the
//! first page, filtered pages and full-text searches through the engine API the UI calls.
//! Prints figures with their targets; asserts nothing.

use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use loopline_bench::percentile;
use loopline_core::{EventQuery, EventStatus, Sensitive, SourceKind};
use loopline_engine::secrets::MemorySecrets;
use loopline_engine::{Engine, EngineOptions};
use loopline_store::{EventWriter, NewEvent, StoredBody};
use sha2::{Digest, Sha256};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    data_dir: std::path::PathBuf,
    #[arg(long, default_value_t = 1_000_000)]
    events: i64,
    #[arg(long, default_value_t = 30)]
    repeat: usize,
}

const TEMPLATE: &str =
    include_str!("../../../loopline-payloads/tests/fixtures/label-studio/ANNOTATION_CREATED.json");
const ACTIONS: [&str; 4] = [
    "ANNOTATION_CREATED",
    "ANNOTATION_UPDATED",
    "ANNOTATIONS_DELETED",
    "TASKS_CREATED",
];
const LABELS: [&str; 4] = ["Beak", "Head", "Wing", "Body"];

fn body(n: i64) -> String {
    let action = ACTIONS[(n % 4) as usize];
    TEMPLATE
        .replacen("\"ANNOTATION_CREATED\"", &format!("\"{action}\""), 1)
        .replace("\"id\": 1,", &format!("\"id\": {n},"))
        .replace("bird_001.jpg", &format!("bird_{n:07}.jpg"))
        .replace("\"Beak\"", &format!("\"{}\"", LABELS[(n % 4) as usize]))
        .replace(
            "Bird parts segmentation",
            &format!("Birds project {}", n % 20),
        )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    let engine = Arc::new(
        Engine::open(EngineOptions {
            data_dir: Some(args.data_dir.clone()),
            secrets: Some(Arc::new(MemorySecrets::default())),
            ..Default::default()
        })
        .await
        .expect("engine opens"),
    );
    let mut sources = engine.list_sources().await.expect("sources");
    while sources.len() < 3 {
        engine
            .add_source(
                SourceKind::LabelStudio,
                &format!("Bench {}", sources.len()),
                None::<Sensitive<String>>,
            )
            .await
            .expect("source");
        sources = engine.list_sources().await.expect("sources");
    }
    let have = engine.store().event_count().await.expect("count");
    if have < args.events {
        let started = Instant::now();
        let writer = EventWriter::start(engine.store(), std::time::Duration::from_secs(1), 0)
            .await
            .expect("writer");
        let mut inflight = tokio::task::JoinSet::new();
        for n in have..args.events {
            let raw = body(n);
            let parsed = loopline_payloads::parse::parse(raw.as_bytes()).expect("fixture parses");
            let status = if n % 1000 == 0 {
                EventStatus::Malformed
            } else {
                EventStatus::Processed
            };
            let event = NewEvent {
                source_id: sources[(n % 3) as usize].id.clone(),
                received_at_ms: 1_790_000_000_000 + n * 10,
                remote_addr: Some("127.0.0.1:50000".into()),
                headers_json: "[[\"content-type\",\"application/json\"]]".into(),
                body_sha256: Sha256::digest(raw.as_bytes()).into(),
                body: StoredBody::encode(raw.into_bytes()),
                body_truncated: false,
                kind: parsed.kind().as_str(),
                parsed_json: Some(parsed.to_json()),
                action: parsed.action,
                project_id: parsed.project_id.map(|_| n % 20),
                project_name: parsed.project_name,
                summary: parsed.summary,
                status,
                replay_of: None,
                check_duplicate: false,
            };
            let w = writer.clone();
            inflight.spawn(async move { w.write(event).await.expect("seed write") });
            if inflight.len() >= 1024 {
                inflight.join_next().await;
            }
            if n % 100_000 == 0 && n > have {
                eprintln!(
                    "seeded {n} events ({:.0}/s)",
                    (n - have) as f64 / started.elapsed().as_secs_f64()
                );
            }
        }
        while inflight.join_next().await.is_some() {}
        writer.close().await;
        eprintln!(
            "seeded {} events in {:.1}s",
            args.events - have,
            started.elapsed().as_secs_f64()
        );
    }
    let started = Instant::now();
    let indexed = engine.index_all().await.expect("index");
    if indexed > 0 {
        eprintln!(
            "indexed {indexed} events for search in {:.1}s",
            started.elapsed().as_secs_f64()
        );
    }
    let total = engine.store().event_count().await.expect("count");
    let size_mb = engine.store().size_bytes() as f64 / 1e6;

    let source = sources[1].id.clone();
    let cases: Vec<(&str, EventQuery, f64)> = vec![
        ("first page (100 newest)", EventQuery::default(), 50.0),
        (
            "filtered page (source + action)",
            EventQuery {
                source_id: Some(source.clone()),
                action: Some("ANNOTATION_UPDATED".into()),
                ..Default::default()
            },
            50.0,
        ),
        (
            "filtered page (project)",
            EventQuery {
                project_id: Some(7),
                ..Default::default()
            },
            50.0,
        ),
        (
            "filtered page (status malformed: 0.1% of events)",
            EventQuery {
                status: Some(EventStatus::Malformed),
                ..Default::default()
            },
            50.0,
        ),
        (
            "deep page (before the middle id)",
            EventQuery {
                before_id: Some(total / 2),
                ..Default::default()
            },
            50.0,
        ),
        (
            "full-text search, common word (Wing)",
            EventQuery {
                search: Some("Wing".into()),
                ..Default::default()
            },
            200.0,
        ),
        (
            "full-text search, one event (bird_0123457)",
            EventQuery {
                search: Some("bird_0123457".into()),
                ..Default::default()
            },
            200.0,
        ),
    ];
    println!(
        "B2: timeline queries with {total} events stored ({size_mb:.0} MB), {} runs each",
        args.repeat
    );
    for (name, query, target) in cases {
        let mut samples = Vec::new();
        let mut rows = 0;
        for _ in 0..args.repeat {
            let t = Instant::now();
            let page = engine.list_events(&query).await.expect("query");
            samples.push(t.elapsed().as_micros() as u64);
            rows = page.events.len();
        }
        samples.sort_unstable();
        let p50 = percentile(&samples, 50.0) as f64 / 1000.0;
        let max = *samples.last().unwrap_or(&0) as f64 / 1000.0;
        println!(
            "  {name:<48} p50 {p50:>7.2} ms  max {max:>7.2} ms  rows {rows:>3}  target < {target} ms  {}",
            if max < target { "ok" } else { "OVER" }
        );
    }
    engine.shutdown().await;
}
