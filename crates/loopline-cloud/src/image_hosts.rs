//! Which image URLs Loopline may read. Aquarium payloads are written by whoever has the
//! source's URL (with `--no-secret`, anyone), so an image URL is read only from a host the
//! user allowed (`loopline aquarium hosts --allow HOST`), every redirect hop is checked
//! again, and a hop to a host the user did not allow may reach only public addresses:
//! never this machine, the local network or a cloud metadata address. The address check
//! runs on the addresses DNS answered, at connect time (see `image_resolver.rs`), so a name
//! that resolves elsewhere between a check and the connection gains nothing.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use loopline_core::{ApiError, ErrorCode};

/// The host an image URL is allowed by, as the user names it: `example.org`,
/// `example.org:8080`, `127.0.0.1:8080`, `[::1]:8080`, or `s3://bucket` for an `s3://` URL
/// (the bucket, since its objects are read with the user's own AWS credentials).
pub fn image_host(url: &str) -> Option<String> {
    if let Some(rest) = url.strip_prefix("s3://") {
        let bucket = rest.split('/').next().filter(|b| !b.is_empty())?;
        // As the bucket is written: a legacy bucket's name may hold capitals, and the
        // Issues page names hosts the same way (`imageHost` in ui/src/api/aquarium.ts).
        return Some(format!("s3://{bucket}"));
    }
    let u = reqwest::Url::parse(url).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let host = u.host_str()?.to_ascii_lowercase();
    Some(match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}

/// The name DNS is asked for (no port, no brackets), as the resolver sees it.
pub(crate) fn dns_name(host: &str) -> String {
    let h = match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(':') => h,
        _ => host,
    };
    // `example.org.` is the same name as `example.org` to DNS (and to the resolver).
    h.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// The hosts the user allowed, for one read.
#[derive(Debug, Clone, Default)]
pub struct ImageHosts {
    allowed: BTreeSet<String>,
    /// The first URL is a presigned S3 URL: its host is the user's own S3 endpoint (moto or
    /// MinIO on this machine included), allowed by the bucket's entry.
    presigned: bool,
}

impl ImageHosts {
    pub fn new(allowed: impl IntoIterator<Item = String>) -> ImageHosts {
        ImageHosts {
            allowed: allowed.into_iter().collect(),
            presigned: false,
        }
    }

    /// The same hosts, for a presigned URL of an allowed bucket.
    pub fn presigned(mut self) -> ImageHosts {
        self.presigned = true;
        self
    }

    pub fn is_presigned(&self) -> bool {
        self.presigned
    }

    pub fn allows(&self, host: &str) -> bool {
        self.allowed.contains(host)
    }

    /// Names DNS may answer with any address for: the allowed hosts' names.
    pub(crate) fn trusted_names(&self) -> impl Iterator<Item = String> + '_ {
        self.allowed
            .iter()
            .filter(|h| !h.starts_with("s3://"))
            .map(|h| dns_name(h))
    }

    /// Whether hop `n` (0 is the URL itself) may be requested: an allowed host (or the
    /// presigned URL's endpoint) at any address; another host only at public addresses,
    /// which the resolver enforces for names and this for address literals. A name allowed
    /// only on another port is refused here: the resolver knows names, not ports.
    pub fn check_hop(&self, url: &reqwest::Url, n: usize, first: &str) -> Result<(), ApiError> {
        let shown = shown(url.as_str());
        let host = image_host(url.as_str()).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidArgument,
                format!("{shown} is not an http(s) image URL."),
            )
        })?;
        if self.allows(&host) || (n == 0 && self.presigned) {
            return Ok(());
        }
        if n == 0 {
            return Err(not_allowed(&host));
        }
        let name = dns_name(&host);
        if let Ok(ip) = name.parse::<IpAddr>() {
            if !is_public(ip) {
                return Err(ApiError::new(
                    ErrorCode::Unauthorized,
                    format!("{first} redirected to {shown}, {} ({ip}), which Loopline does not read from unless you allow that host: `loopline aquarium hosts --allow {host}`.", kind_of(ip)),
                ));
            }
        } else if self.trusted_names().any(|t| t == name) {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                format!("{first} redirected to {shown}, on a port of {name} that is not allowed: `loopline aquarium hosts --allow {host}`."),
            ));
        }
        Ok(())
    }
}

/// The refusal of a URL whose host the user has not allowed.
pub fn not_allowed(host: &str) -> ApiError {
    ApiError::new(
        ErrorCode::Unauthorized,
        format!("image host {host} is not allowed: `loopline aquarium hosts --allow {host}` (or Load images from {host} on the Issues page)."),
    )
}

/// A URL in words, without its query string (a presigned URL's signature).
pub(crate) fn shown(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// An address any web host may have. Everything else is this machine, a local network, a
/// link-local (cloud metadata) or carrier-grade NAT address, or not an address to connect
/// to at all (unspecified, multicast, broadcast, reserved, documentation).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                   // "this network", 0.0.0.0 included
        || a == 10                             // private
        || a == 127                            // loopback
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 169 && b == 254)              // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0)      // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)      // documentation
        || (a == 192 && b == 88 && c == 99)    // 6to4 relay anycast
        || (a == 192 && b == 168)              // private
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100)   // documentation
        || (a == 203 && b == 0 && c == 113)    // documentation
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address, reached through the network's gateway.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b, c, d] = ip.octets()[12..] else {
            return false;
        };
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    // Only global unicast (2000::/3) is public: this refuses ::, ::1, IPv4-mapped and
    // -compatible addresses (::ffff:127.0.0.1 reaches this machine), unique local
    // (fc00::/7), link-local (fe80::/10), site-local and multicast (ff00::/8).
    if s[0] & 0xe000 != 0x2000 {
        return false;
    }
    let ietf = s[0] == 0x2001 && s[1] < 0x200; // Teredo, benchmarking, ORCHID, other IETF blocks
    let documentation = (s[0] == 0x2001 && s[1] == 0xdb8) || (s[0] == 0x3fff && s[1] < 0x1000);
    let six_to_four = s[0] == 0x2002; // an IPv4 address inside, often a private one
    !(ietf || documentation || six_to_four)
}

/// What a refused address is, in words.
pub fn kind_of(ip: IpAddr) -> &'static str {
    let v4 = match ip {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped(),
    };
    match (ip, v4) {
        (_, Some(v4)) if v4.is_loopback() => "this machine's loopback address",
        (_, Some(v4)) if v4.is_private() => "a private network address",
        (_, Some(v4)) if v4.is_link_local() => "a link-local address (cloud metadata lives there)",
        (IpAddr::V6(v6), None) if v6.is_loopback() => "this machine's loopback address",
        (IpAddr::V6(v6), None) if v6.segments()[0] & 0xfe00 == 0xfc00 => {
            "a unique local (private) address"
        }
        (IpAddr::V6(v6), None) if v6.segments()[0] & 0xffc0 == 0xfe80 => "a link-local address",
        _ => "not a public address",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().unwrap())
    }

    #[test]
    fn hosts_are_named_as_the_user_allows_them() {
        assert_eq!(
            image_host("https://Images.Example.org/a.jpg?x=1").as_deref(),
            Some("images.example.org")
        );
        assert_eq!(
            image_host("http://127.0.0.1:8080/a.png").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(
            image_host("http://[::1]:8080/a.png").as_deref(),
            Some("[::1]:8080")
        );
        assert_eq!(
            image_host("s3://my-bucket/birds/a.jpg").as_deref(),
            Some("s3://my-bucket")
        );
        assert_eq!(image_host("file:///etc/passwd"), None);
        assert_eq!(dns_name("[::1]:8080"), "::1");
        assert_eq!(dns_name("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(dns_name("Images.Example.org"), "images.example.org");
        assert_eq!(dns_name("::1"), "::1");
        assert_eq!(dns_name("nas.lan.:8080"), "nas.lan");
    }

    #[test]
    fn ipv4_addresses_of_this_machine_and_local_networks_are_not_public() {
        for ip in [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.255.255.254",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.20",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!public(ip), "{ip} is not public");
        }
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.0.1",
            "192.169.0.1",
            "198.20.0.1",
            "52.216.0.1",
            "223.255.255.254",
        ] {
            assert!(public(ip), "{ip} is public");
        }
    }

    #[test]
    fn ipv6_addresses_of_this_machine_local_networks_and_mapped_v4_are_not_public() {
        for ip in [
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8", // mapped: never what DNS should answer for a web host
            "::127.0.0.1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "2002:7f00:1::1",
            "64:ff9b::7f00:1",    // NAT64 of 127.0.0.1
            "64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
            "64:ff9b:1::1",
            "3fff::1",
            "100::1",
        ] {
            assert!(!public(ip), "{ip} is not public");
        }
        for ip in [
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "2001:4860:4860::8888",
            "64:ff9b::808:808", // NAT64 of 8.8.8.8
        ] {
            assert!(public(ip), "{ip} is public");
        }
    }

    #[test]
    fn hops_to_hosts_not_allowed_must_be_public() {
        let hosts = ImageHosts::new(["images.example.org".to_string(), "nas.lan:8080".into()]);
        let url = |s: &str| reqwest::Url::parse(s).unwrap();
        let first = "https://images.example.org/a.jpg";
        assert!(hosts.check_hop(&url(first), 0, first).is_ok());
        let e = hosts
            .check_hop(&url("https://other.example.org/a.jpg"), 0, first)
            .unwrap_err();
        assert!(
            e.message
                .contains("`loopline aquarium hosts --allow other.example.org`"),
            "{}",
            e.message
        );
        // A redirect to another public host is followed; the resolver checks its addresses.
        assert!(hosts
            .check_hop(&url("https://cdn.example.net/a.jpg"), 1, first)
            .is_ok());
        for refused in [
            "http://127.0.0.1:8787/api",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://10.1.2.3/",
            "http://nas.lan:22/",
            "http://nas.lan.:22/",
            "http://2130706433/", // 127.0.0.1 written as one number
            "http://0x7f.1/",
        ] {
            assert!(
                hosts.check_hop(&url(refused), 1, first).is_err(),
                "{refused}"
            );
        }
        assert!(hosts
            .check_hop(&url("http://nas.lan:8080/a.jpg"), 1, first)
            .is_ok());
        let presigned = ImageHosts::new(["s3://birds".to_string()]).presigned();
        assert!(presigned
            .check_hop(&url("http://127.0.0.1:5000/birds/a.png?X-Amz=1"), 0, first)
            .is_ok());
        assert!(presigned
            .check_hop(&url("http://127.0.0.1:5000/other"), 1, first)
            .is_err());
    }
}
