//! B4: what a loopback bore tunnel adds to an acknowledged delivery. One engine and its
//! receiver, a bore server and Loopline's own bore client on 127.0.0.1; the same open-loop
//! load (100 requests/s, distinct Label Studio bodies) is sent straight to the receiver and
//! through the tunnel, in alternating rounds, and each request's time to its 200 (stored
//! and acknowledged) is recorded. Prints p50/p99 of both and the difference; asserts
//! nothing. Needs port 7835 (bore's control port) free.
//!
//! `tunnel_latency [--rate 100] [--requests 1000] [--rounds 2]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use loopline_core::{Sensitive, SourceKind};
use loopline_engine::secrets::MemorySecrets;
use loopline_engine::{Engine, EngineOptions};
use loopline_tunnel::TunnelProvider;

const FIXTURE: &str =
    include_str!("../../../loopline-payloads/tests/fixtures/label-studio/ANNOTATION_CREATED.json");

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 100)]
    rate: u32,
    #[arg(long, default_value_t = 1000)]
    requests: u32,
    #[arg(long, default_value_t = 2)]
    rounds: u32,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Sends `n` requests at `rate`/s on a fixed schedule (open loop: a slow answer never
/// delays the next send) and returns each latency in ms.
async fn run(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    rate: u32,
    n: u32,
    first_id: u64,
) -> Vec<f64> {
    let every = Duration::from_secs_f64(1.0 / f64::from(rate));
    let start = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        tokio::time::sleep_until(start + every * i).await;
        let body = FIXTURE.replacen(
            "\"id\": 1,",
            &format!("\"id\": {},", first_id + u64::from(i)),
            1,
        );
        let req = client
            .post(url)
            .header("X-Loopline-Token", token)
            .header("Content-Type", "application/json")
            .body(body);
        tasks.spawn(async move {
            let sent = Instant::now();
            let resp = req.send().await.expect("delivery answered");
            assert_eq!(resp.status().as_u16(), 200, "delivery acknowledged");
            sent.elapsed().as_secs_f64() * 1000.0
        });
    }
    let mut out = Vec::with_capacity(n as usize);
    while let Some(r) = tasks.join_next().await {
        out.push(r.expect("request task"));
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("loopline-b4-{}", std::process::id()));
    let engine = Arc::new(
        Engine::open(EngineOptions {
            data_dir: Some(dir.clone()),
            secrets: Some(Arc::new(MemorySecrets::default())),
            ..Default::default()
        })
        .await
        .expect("engine opens"),
    );
    let source = engine
        .add_source(SourceKind::LabelStudio, "B4", None::<Sensitive<String>>)
        .await
        .expect("source");
    let token = source
        .token
        .clone()
        .expect("a Label Studio source has a token");
    let addr = engine
        .start_receiver("127.0.0.1:0", false, false)
        .await
        .expect("receiver");

    let mut server = bore_cli::server::Server::new(20000..=40000, None);
    server.set_bind_addr(std::net::Ipv4Addr::LOCALHOST.into());
    server.set_bind_tunnels(std::net::Ipv4Addr::LOCALHOST.into());
    tokio::spawn(server.listen());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let bore = loopline_tunnel::bore::Bore::new("127.0.0.1", None, None, 0).expect("bore client");
    let session = bore.open(addr).await.expect("bore tunnel opens");

    let direct = format!("http://{addr}{}", source.hook_path);
    let tunnel = format!("{}{}", session.public_url(), source.hook_path);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    // Warm both paths (connections, the writer's first fsyncs).
    run(&client, &direct, &token, args.rate, 50, 1_000_000).await;
    run(&client, &tunnel, &token, args.rate, 50, 2_000_000).await;

    let (mut d, mut t) = (Vec::new(), Vec::new());
    for round in 0..args.rounds {
        let base = 10_000_000 * u64::from(round + 1);
        d.extend(run(&client, &direct, &token, args.rate, args.requests, base).await);
        t.extend(
            run(
                &client,
                &tunnel,
                &token,
                args.rate,
                args.requests,
                base + 5_000_000,
            )
            .await,
        );
    }
    d.sort_by(f64::total_cmp);
    t.sort_by(f64::total_cmp);
    let (dp50, dp99, tp50, tp99) = (
        percentile(&d, 0.5),
        percentile(&d, 0.99),
        percentile(&t, 0.5),
        percentile(&t, 0.99),
    );
    println!(
        "{}",
        serde_json::json!({
            "bench": "b4-tunnel-latency", "rate_per_s": args.rate, "requests_each": d.len(),
            "direct_p50_ms": dp50, "direct_p99_ms": dp99, "bore_p50_ms": tp50, "bore_p99_ms": tp99,
            "added_p50_ms": tp50 - dp50, "added_p99_ms": tp99 - dp99,
        })
    );
    println!(
        "B4: {} acknowledged deliveries each at {}/s. direct p50 {dp50:.2} ms p99 {dp99:.2} ms; through loopback bore p50 {tp50:.2} ms p99 {tp99:.2} ms; bore adds {:.2} ms at p50, {:.2} ms at p99",
        d.len(), args.rate, tp50 - dp50, tp99 - dp99
    );
    Box::new(session).close().await;
    engine.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
