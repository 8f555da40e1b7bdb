//! A refused webhook over a real socket, as a sender that uploads its whole body before it
//! reads sees it: the refusal arrives whole, and the connection closes after it.

mod common;

use common::*;
use loopline_core::EventStatus;

/// Sends one raw HTTP/1.1 request (headers, then the body in pieces, all of it) and reads
/// the answer until the server closes: what a sender that uploads before reading sees.
async fn raw_exchange(base: &str, head: &str, pieces: &[&[u8]]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    for p in pieces {
        s.write_all(p)
            .await
            .expect("the server reads the whole body before answering");
    }
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)
        .await
        .expect("the answer arrives, then the server closes (no reset)");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_sender_still_uploading_reads_its_refusal_and_the_connection_closes_after_it() {
    let (r, src) = with_a_1_mib_limit().await;
    let token = src.token.clone().unwrap();
    let chunk = vec![b'a'; 256 * 1024];
    let mut chunked = Vec::new();
    // 16 MiB: more than loopback's socket buffers hold, so the sender is still writing when
    // the limit is passed.
    for _ in 0..64 {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(&chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");

    // Chunked: over the limit while it is read.
    let head = format!(
        "POST /hooks/{} HTTP/1.1\r\nhost: x\r\nx-loopline-token: {token}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
        src.id
    );
    let answer = raw_exchange(&r.base, &head, &[&chunked]).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(answer.contains("payload_too_large"), "{answer}");

    // Declared over the limit: refused before reading, read anyway.
    let body = vec![b'a'; 16 * 1024 * 1024];
    let head = format!(
        "POST /hooks/{} HTTP/1.1\r\nhost: x\r\nx-loopline-token: {token}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        src.id,
        body.len()
    );
    let (first, rest) = body.split_at(1024);
    let answer = raw_exchange(&r.base, &head, &[first, rest]).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // A wrong token: refused before the body is read, and the body is read anyway.
    let body = LS_FIXTURE.as_bytes();
    let head = format!(
        "POST /hooks/{} HTTP/1.1\r\nhost: x\r\nx-loopline-token: wrong\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        src.id,
        body.len()
    );
    let (first, rest) = body.split_at(10);
    let answer = raw_exchange(&r.base, &head, &[first, rest]).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );

    assert!(
        r.events()
            .await
            .iter()
            .all(|e| e.status != EventStatus::Processed),
        "nothing was stored as received"
    );
}
