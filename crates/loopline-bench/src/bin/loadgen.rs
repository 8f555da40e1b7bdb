//! A closed- or open-loop HTTP load generator: N keep-alive connections POSTing one body.
//! Prints one JSON line: requests, ok, errors, req/s, and latency p50/p99 in ms.
//! With --rate, requests are scheduled at a fixed rate and latency counts from the
//! scheduled time, so a slow server cannot hide its queueing (no coordinated omission).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use loopline_bench::{distinct_body, print_result, Outcome};

#[derive(Parser)]
struct Args {
    /// e.g. http://127.0.0.1:8787/hooks/src_x
    url: String,
    #[arg(long)]
    body: std::path::PathBuf,
    #[arg(long, default_value_t = 64)]
    connections: usize,
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Total requests per second across all connections (open loop); 0 = as fast as possible.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Extra headers, "Name: value".
    #[arg(long = "header", short = 'H')]
    headers: Vec<String>,
    /// Make every request's body distinct (a `"_seq"` member first in the object), as
    /// real deliveries are; otherwise every request after the first repeats one body.
    #[arg(long)]
    distinct: bool,
    /// Label printed with the result.
    #[arg(long, default_value = "")]
    label: String,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let body = Bytes::from(std::fs::read(&args.body).expect("body file"));
    let uri: hyper::Uri = args.url.parse().expect("url");
    let authority = uri.authority().expect("host:port").clone();
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let headers: Vec<(String, String)> = args
        .headers
        .iter()
        .filter_map(|h| {
            h.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    if args.distinct {
        let inner = body.get(1..).map(|b| b.trim_ascii_start());
        assert!(
            body.first() == Some(&b'{') && inner.is_some_and(|b| b.first() != Some(&b'}')),
            "--distinct needs a non-empty JSON object body"
        );
    }
    let seq = Arc::new(AtomicU64::new(0));
    let distinct = args.distinct;
    let ok = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(args.seconds);
    let per_conn_interval =
        (args.rate > 0.0).then(|| Duration::from_secs_f64(args.connections as f64 / args.rate));

    let conns = args.connections;
    let mut tasks = Vec::new();
    for c in 0..args.connections {
        let (body, authority, path, headers, ok, errors, seq) = (
            body.clone(),
            authority.clone(),
            path.clone(),
            headers.clone(),
            ok.clone(),
            errors.clone(),
            seq.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies: Vec<u64> = Vec::new();
            let Some(mut sender) = connect(authority.as_str()).await else {
                errors.fetch_add(1, Ordering::Relaxed);
                return latencies;
            };
            // Stagger open-loop connections so they do not fire in lockstep.
            let mut next = match per_conn_interval {
                Some(iv) => Instant::now() + iv.mul_f64(c as f64 / conns as f64),
                None => Instant::now(),
            };
            while Instant::now() < deadline {
                if per_conn_interval.is_some() {
                    let now = Instant::now();
                    if next > now {
                        tokio::time::sleep(next - now).await;
                    }
                }
                let scheduled = if per_conn_interval.is_some() {
                    next
                } else {
                    Instant::now()
                };
                let mut req = Request::post(path.as_str())
                    .header("host", authority.as_str())
                    .header("content-type", "application/json");
                for (k, v) in &headers {
                    req = req.header(k.as_str(), v.as_str());
                }
                let payload = if distinct {
                    distinct_body(&body, seq.fetch_add(1, Ordering::Relaxed))
                } else {
                    body.clone()
                };
                let req = req.body(Full::new(payload)).expect("request");
                match sender.send_request(req).await {
                    Ok(resp) => {
                        let status = resp.status();
                        let _ = resp.into_body().collect().await;
                        if status.is_success() {
                            ok.fetch_add(1, Ordering::Relaxed);
                            latencies.push(scheduled.elapsed().as_micros() as u64);
                        } else {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(_) => {
                        // Servers that close after each response (Flask's dev server speaks
                        // HTTP/1.0 keep-alive poorly) get a new connection, like a browser would.
                        match connect(authority.as_str()).await {
                            Some(s) => sender = s,
                            None => {
                                errors.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                        }
                        continue;
                    }
                }
                if let Some(iv) = per_conn_interval {
                    next += iv;
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
    print_result(Outcome {
        label: &args.label,
        ok: ok.load(Ordering::Relaxed),
        errors: errors.load(Ordering::Relaxed),
        seconds: start.elapsed().as_secs_f64(),
        latencies_us: all,
        connections: args.connections,
        target_rate: args.rate,
    });
}

async fn connect(authority: &str) -> Option<hyper::client::conn::http1::SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(authority).await.ok()?;
    let _ = stream.set_nodelay(true);
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(conn);
    Some(sender)
}
