use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, ToSocketAddrs};

use loopline_core::{ApiError, ErrorCode};

/// Parses what a user types for a listen address: `127.0.0.1:8787`, `localhost:8787`,
/// `[::1]:8787`, or a bare port (which means loopback).
///
/// A non-loopback address is refused unless `public` is set: the receiver accepts
/// webhooks, and exposing it to a whole network should be a decision, not a typo.
pub fn parse_listen(input: &str, public: bool) -> Result<SocketAddr, ApiError> {
    let trimmed = input.trim();
    let addr = if let Ok(port) = trimmed.parse::<u16>() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
    } else if let Ok(addr) = trimmed.parse::<SocketAddr>() {
        addr
    } else {
        let mut resolved: Vec<SocketAddr> = trimmed
            .to_socket_addrs()
            .map_err(|_| invalid(trimmed))?
            .collect();
        // Prefer IPv4 so `localhost` means the address Label Studio and tunnels reach.
        resolved.sort_by_key(|a| !a.is_ipv4());
        resolved
            .into_iter()
            .next()
            .ok_or_else(|| invalid(trimmed))?
    };
    if !public && !addr.ip().is_loopback() {
        return Err(ApiError::new(
            ErrorCode::ListenNotLoopback,
            format!(
                "Refusing to listen on {addr}: that would expose the receiver to every machine that can reach this one. \
                 Use 127.0.0.1:{port} and a tunnel, or pass --public if you really mean it.",
                port = addr.port()
            ),
        ));
    }
    Ok(addr)
}

fn invalid(input: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ListenInvalid,
        format!(
            "'{input}' is not an address to listen on. Use HOST:PORT, for example 127.0.0.1:8787."
        ),
    )
}

/// The first port after `taken` on the same address that is free right now, to offer the
/// user when their port is in use.
pub fn suggest_free_addr(taken: SocketAddr) -> Option<SocketAddr> {
    (1..=100u16)
        .filter_map(|step| taken.port().checked_add(step))
        .map(|port| SocketAddr::new(taken.ip(), port))
        .find(|candidate| TcpListener::bind(candidate).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_loopback_forms() {
        assert_eq!(
            parse_listen("127.0.0.1:8787", false).unwrap().to_string(),
            "127.0.0.1:8787"
        );
        assert_eq!(
            parse_listen("8788", false).unwrap().to_string(),
            "127.0.0.1:8788"
        );
        assert_eq!(
            parse_listen("[::1]:9000", false).unwrap().to_string(),
            "[::1]:9000"
        );
        assert!(parse_listen("localhost:8787", false)
            .unwrap()
            .ip()
            .is_loopback());
    }

    #[test]
    fn refuses_non_loopback_without_public() {
        let err = parse_listen("0.0.0.0:8787", false).unwrap_err();
        assert_eq!(err.code, ErrorCode::ListenNotLoopback);
        assert!(err.message.contains("--public"));
        assert_eq!(
            parse_listen("0.0.0.0:8787", true).unwrap().to_string(),
            "0.0.0.0:8787"
        );
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(
            parse_listen("not an address", false).unwrap_err().code,
            ErrorCode::ListenInvalid
        );
        assert_eq!(
            parse_listen("127.0.0.1:99999", false).unwrap_err().code,
            ErrorCode::ListenInvalid
        );
    }

    #[test]
    fn suggests_a_free_port_next_to_a_taken_one() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let suggested = suggest_free_addr(addr).unwrap();
        assert_ne!(suggested, addr);
        assert!(suggested.port() > addr.port());
        assert!(TcpListener::bind(suggested).is_ok());
    }
}
