//! Checks on a public URL before anyone is pointed at it.

use loopline_core::{ApiError, ErrorCode};

/// `https://host/path/` → `https://host/path`; refuses what is not an http(s) URL.
pub fn normalize(url: &str) -> Result<String, ApiError> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(trimmed).map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidArgument,
            format!("'{trimmed}' is not a URL. Give the public base URL, e.g. https://hooks.example.org."),
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!("'{trimmed}' must start with http:// or https:// and name a host."),
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!("'{trimmed}' must not carry a query or fragment: Loopline appends /hooks/<source> to it."),
        ));
    }
    Ok(trimmed.to_string())
}

/// Whether the URL crosses the network in clear text: `http://` to a host that is not this
/// machine. Label Studio's only credential is the `X-Loopline-Token` header, so such a URL
/// would hand the token to anyone on the path.
pub fn is_plaintext_remote(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    if parsed.scheme() != "http" {
        return false;
    }
    let Some(host) = parsed.host_str() else {
        return false;
    };
    match host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        Ok(ip) => !ip.is_loopback(),
        Err(_) => host != "localhost" && !host.ends_with(".localhost"),
    }
}

/// Why Loopline will not point Label Studio at a plaintext URL, and what to do instead.
pub fn plaintext_refusal(url: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidArgument,
        format!(
            "{url} is plain HTTP across the network, so Label Studio's X-Loopline-Token header would travel in clear text. \
             Put an HTTPS reverse proxy in front of the bore port and give its address with --https-url, or use cloudflared or ngrok."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_refuses() {
        assert_eq!(
            normalize(" https://a.example/x/ ").unwrap(),
            "https://a.example/x"
        );
        assert!(normalize("ftp://a.example").is_err());
        assert!(normalize("a.example").is_err());
        assert!(normalize("https://a.example/?q=1").is_err());
    }

    #[test]
    fn plaintext_only_when_http_to_another_machine() {
        assert!(is_plaintext_remote("http://bore.example:4000"));
        assert!(is_plaintext_remote("http://203.0.113.7:4000"));
        assert!(!is_plaintext_remote("http://127.0.0.1:4000"));
        assert!(!is_plaintext_remote("http://localhost:4000"));
        assert!(!is_plaintext_remote("http://[::1]:4000"));
        assert!(!is_plaintext_remote("https://bore.example"));
    }
}
