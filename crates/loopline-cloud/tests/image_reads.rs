//! Image reads against real local HTTP servers: a URL on 127.0.0.1 is read only once that
//! host is allowed, a redirect from an allowed host to one that is not (on this machine) is
//! refused at the hop before anything reaches it, and an allowed name whose DNS answers
//! 127.0.0.1 works while a redirect to a name that is not allowed and answers 127.0.0.1
//! (DNS rebinding) is refused by the resolver. Size reads (`head_bytes`) and thumbnails
//! (`fetch`) go through the same checks.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use loopline_cloud::image_hosts::ImageHosts;
use loopline_cloud::image_resolver::Lookup;
use loopline_cloud::web::{Http, Web};
use loopline_core::ErrorCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x02\x80\0\0\x01\xe0";

/// A tiny HTTP server on 127.0.0.1: `/img` is a PNG, `/to?URL` redirects to URL. Counts
/// the requests it got.
struct Server {
    port: u16,
    hits: Arc<AtomicUsize>,
}

impl Server {
    async fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = hits.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut conn, _)) = listener.accept().await else {
                    return;
                };
                let counted = counted.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let mut got = 0;
                    while !buf[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                        match conn.read(&mut buf[got..]).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got += n,
                        }
                    }
                    counted.fetch_add(1, Ordering::SeqCst);
                    let head = String::from_utf8_lossy(&buf[..got]).to_string();
                    let path = head.split(' ').nth(1).unwrap_or("/").to_string();
                    let answer = match path.strip_prefix("/to?") {
                        Some(to) => format!(
                            "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        )
                        .into_bytes(),
                        None => {
                            let mut a = format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                PNG.len()
                            )
                            .into_bytes();
                            a.extend_from_slice(PNG);
                            a
                        }
                    };
                    let _ = conn.write_all(&answer).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        Server { port, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// DNS for the test: these names answer 127.0.0.1, anything else is unknown.
fn lookup(names: &[&str]) -> Lookup {
    let table: HashMap<String, IpAddr> = names
        .iter()
        .map(|n| (n.to_string(), IpAddr::V4(Ipv4Addr::LOCALHOST)))
        .collect();
    Arc::new(move |name: String| {
        let found = table.get(&name).copied();
        Box::pin(async move {
            let ip = found.ok_or_else(|| format!("{name} is unknown"))?;
            Ok(Box::new(std::iter::once(SocketAddr::new(ip, 0)))
                as Box<dyn Iterator<Item = SocketAddr> + Send>)
        })
    })
}

fn hosts(list: &[String]) -> ImageHosts {
    ImageHosts::new(list.iter().cloned())
}

#[tokio::test]
async fn a_url_on_this_machine_is_read_only_once_its_host_is_allowed() {
    let a = Server::start().await;
    let web = Http::with_lookup(lookup(&[])).unwrap();
    let refused = web
        .head_bytes(&a.url("/img"), 1024, &hosts(&[]))
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Unauthorized);
    assert!(
        refused.message.contains(&format!(
            "image host {} is not allowed: `loopline aquarium hosts --allow {}`",
            a.host(),
            a.host()
        )),
        "{}",
        refused.message
    );
    let thumb = web.fetch(&a.url("/img"), 1 << 20, &hosts(&[])).await;
    assert!(thumb.is_err());
    assert_eq!(a.hits(), 0, "nothing reached the server");

    let allowed = hosts(&[a.host()]);
    assert_eq!(
        web.head_bytes(&a.url("/img"), 1024, &allowed)
            .await
            .unwrap(),
        PNG
    );
    let (kind, bytes) = web.fetch(&a.url("/img"), 1 << 20, &allowed).await.unwrap();
    assert_eq!((kind.as_str(), bytes.as_slice()), ("image/png", PNG));
    assert_eq!(a.hits(), 2);
}

#[tokio::test]
async fn a_redirect_to_a_host_on_this_machine_that_is_not_allowed_is_refused_at_the_hop() {
    let (a, b) = (Server::start().await, Server::start().await);
    let web = Http::with_lookup(lookup(&[])).unwrap();
    let allowed = hosts(&[a.host()]);
    let via = a.url(&format!("/to?{}", b.url("/img")));
    let size = web.head_bytes(&via, 1024, &allowed).await.unwrap_err();
    let thumb = web.fetch(&via, 1 << 20, &allowed).await.unwrap_err();
    for e in [&size, &thumb] {
        assert_eq!(e.code, ErrorCode::Unauthorized);
        assert!(
            e.message
                .contains(&format!("redirected to {}", b.url("/img")))
                && e.message
                    .contains(&format!("`loopline aquarium hosts --allow {}`", b.host())),
            "{}",
            e.message
        );
    }
    // A link-local (cloud metadata) hop is refused the same way, with nothing sent.
    let metadata = a.url("/to?http://169.254.169.254/latest/meta-data/");
    let e = web.fetch(&metadata, 1 << 20, &allowed).await.unwrap_err();
    assert!(e.message.contains("link-local"), "{}", e.message);
    assert_eq!((a.hits(), b.hits()), (3, 0), "the hops were asked, b never");

    // Once b is allowed too, the same redirect is followed: every hop is checked, not refused.
    let both = hosts(&[a.host(), b.host()]);
    assert_eq!(web.head_bytes(&via, 1024, &both).await.unwrap(), PNG);
    assert_eq!(web.fetch(&via, 1 << 20, &both).await.unwrap().1, PNG);
    assert_eq!(b.hits(), 2);
}

#[tokio::test]
async fn a_name_that_resolves_to_this_machine_is_reached_only_when_it_is_allowed() {
    let a = Server::start().await;
    // Both names answer 127.0.0.1; the user allowed only images.test.
    let web = Http::with_lookup(lookup(&["images.test", "rebind.test"])).unwrap();
    let allowed = hosts(&[format!("images.test:{}", a.port)]);
    let direct = format!("http://images.test:{}/img", a.port);
    assert_eq!(web.head_bytes(&direct, 1024, &allowed).await.unwrap(), PNG);
    assert_eq!(a.hits(), 1);

    // The allowed host redirects to a name that is not allowed and answers 127.0.0.1.
    let rebound = format!("http://rebind.test:{}/img", a.port);
    let via = format!("http://images.test:{}/to?{rebound}", a.port);
    for e in [
        web.head_bytes(&via, 1024, &allowed).await.unwrap_err(),
        web.fetch(&via, 1 << 20, &allowed).await.unwrap_err(),
    ] {
        assert_eq!(e.code, ErrorCode::Unauthorized);
        assert!(
            e.message
                .contains("rebind.test resolves to 127.0.0.1 (this machine's loopback address)")
                && e.message.contains(&format!(
                    "`loopline aquarium hosts --allow rebind.test:{}`",
                    a.port
                )),
            "{}",
            e.message
        );
    }
    assert_eq!(
        a.hits(),
        3,
        "the two redirects were asked; the rebound hop never"
    );
}
