//! A bore server for the test harness and the tunnel benchmark: `bore server` from the same
//! bore-cli library the app's client uses, bound to 127.0.0.1 for both its control port
//! (7835, fixed by bore) and its tunnels. The harness starts it and stops it by PID.
//!
//! `bore_server [--secret S] [--min-port N] [--max-port N]`

use clap::Parser;

#[derive(Parser)]
struct Args {
    #[arg(long, env = "BORE_SECRET")]
    secret: Option<String>,
    #[arg(long, default_value_t = 20000)]
    min_port: u16,
    #[arg(long, default_value_t = 60000)]
    max_port: u16,
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let mut server =
        bore_cli::server::Server::new(args.min_port..=args.max_port, args.secret.as_deref());
    // bore's doc comments of these two setters are swapped; both get loopback anyway.
    server.set_bind_addr(std::net::Ipv4Addr::LOCALHOST.into());
    server.set_bind_tunnels(std::net::Ipv4Addr::LOCALHOST.into());
    eprintln!("bore server on 127.0.0.1:7835");
    server.listen().await.map_err(|e| e.to_string())
}
