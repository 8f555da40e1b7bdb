//! B1's ceiling: Loopline's ingest with no HTTP at all. N tasks in a closed loop each do
//! what the receiver does after reading a body (digest, parse, encode) and wait for the
//! event writer to commit and sync it, exactly as a request waits for its 2xx. No search
//! indexer runs meanwhile, so this is an upper bound for `loopline serve` on this machine:
//! whatever the HTTP layer costs comes on top. Prints one JSON line in loadgen's format.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use loopline_bench::{distinct_body, print_result, Outcome};
use loopline_core::{Sensitive, SourceKind};
use loopline_engine::secrets::MemorySecrets;
use loopline_engine::{Engine, EngineOptions};
use loopline_store::EventWriter;
use sha2::{Digest, Sha256};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
struct Args {
    /// A fresh directory; the store is created in it.
    #[arg(long)]
    data_dir: std::path::PathBuf,
    #[arg(long)]
    body: std::path::PathBuf,
    /// Events in flight at once (B1's connections).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    #[arg(long, default_value_t = 8.0)]
    seconds: f64,
    #[arg(long, default_value = "store-alone")]
    label: String,
}

// The headers a Label Studio delivery carries, as the receiver stores them (token masked).
const HEADERS_JSON: &str = r#"[["host","127.0.0.1:8787"],["content-type","application/json"],["x-loopline-token","••••••••"],["content-length","5615"]]"#;

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let body = std::fs::read(&args.body).expect("body file");
    let engine = Engine::open(EngineOptions {
        data_dir: Some(args.data_dir.clone()),
        secrets: Some(Arc::new(MemorySecrets::default())),
        ..Default::default()
    })
    .await
    .expect("engine opens");
    let source = engine
        .add_source(
            SourceKind::LabelStudio,
            "Ceiling",
            None::<Sensitive<String>>,
        )
        .await
        .expect("source");
    // The receiver's duplicate window (10 minutes), so every event is checked as a real one is.
    let writer = EventWriter::start(engine.store(), Duration::from_secs(600), 0)
        .await
        .expect("writer");

    let body = Arc::new(body);
    let seq = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(args.seconds);
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (body, seq, errors, writer) =
            (body.clone(), seq.clone(), errors.clone(), writer.clone());
        let source_id = source.id.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies: Vec<u64> = Vec::new();
            while Instant::now() < deadline {
                let began = Instant::now();
                // Announced before the work, as the receiver announces an authenticated
                // request before reading its body, so the writer lingers for it.
                let announced = writer.incoming();
                // ... and a request then waits for its body: other requests run meanwhile.
                tokio::task::yield_now().await;
                let n = seq.fetch_add(1, Ordering::Relaxed);
                let bytes = distinct_body(&body, n);
                let digest: [u8; 32] = Sha256::digest(&bytes).into();
                let parsed = loopline_payloads::parse::parse(&bytes).expect("the body parses");
                let now_ms = 1_790_000_000_000 + (n / 64) as i64;
                let event = loopline_hooks::new_event(
                    &source_id,
                    now_ms,
                    Some("127.0.0.1:50000".into()),
                    HEADERS_JSON.to_string(),
                    bytes,
                    digest,
                    parsed,
                );
                match writer.write_announced(event, Some(announced)).await {
                    Ok(_) => latencies.push(began.elapsed().as_micros() as u64),
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        if let Ok(l) = t.await {
            all.extend(l);
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    writer.close().await;
    print_result(Outcome {
        label: &args.label,
        ok: all.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        seconds,
        latencies_us: all,
        connections: args.concurrency,
        target_rate: 0.0,
    });
}
