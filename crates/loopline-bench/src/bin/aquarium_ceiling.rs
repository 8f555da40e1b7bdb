//! B6's limit for acknowledging an Aquarium issue: writing and syncing the body to a file,
//! and parsing it with serde_json, with no HTTP and no database. Also times the review's
//! own reading of it (`parse_issue`), which happens when the Issues page opens it, not
//! before the acknowledgement. Prints one JSON line per measure (milliseconds, median of
//! the rounds).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    body: PathBuf,
    #[arg(long, default_value_t = 5)]
    rounds: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let args = Args::parse();
    let body = std::fs::read(&args.body).expect("the body file is readable");
    let dir = tempfile_dir();
    let (mut write_sync, mut parse, mut review) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..args.rounds {
        let path = dir.join(format!("body-{r}.json"));
        let t = Instant::now();
        let mut f = std::fs::File::create(&path).expect("create");
        f.write_all(&body).expect("write");
        f.sync_all().expect("sync");
        write_sync.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let v: serde_json::Value = serde_json::from_slice(&body).expect("the body is JSON");
        parse.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let issue = loopline_payloads::aquarium_issue::parse_issue(&v).expect("an issue");
        review.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(!issue.elements.is_empty());
        let _ = std::fs::remove_file(&path);
    }
    let _ = std::fs::remove_dir(&dir);
    for (label, v) in [
        ("write_fsync_ms", write_sync),
        ("serde_json_parse_ms", parse),
        ("review_parse_ms", review),
    ] {
        println!(
            "{}",
            serde_json::json!({"label": label, "median_ms": median(v), "bytes": body.len()})
        );
    }
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("loopline-b6-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}
