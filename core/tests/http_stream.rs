//! Streamed response bodies at the HTTP seam (`HttpClient::execute_streamed`) and the SSE
//! reader, against real loopback servers whose pacing the test controls: the server sends the
//! next part only when the test says so, so "the client read it before the server finished"
//! is proven, not timed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::{Duration, Instant};

use mcp_auth::ErrorKind;
use mcp_auth::http::{HttpClient, HttpConfig, UreqHttpClient};
use mcp_auth::sse::EventReader;

/// What the paced server writes next; `None` closes the connection.
type Feed = Sender<Option<Vec<u8>>>;

/// A one-connection server: reads the request head, writes `head`, then writes whatever the
/// test feeds it, in order, until the feed says `None` or is dropped.
fn paced_server(head: String) -> (SocketAddr, Feed) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx): (Feed, Receiver<Option<Vec<u8>>>) = mpsc::channel();
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
            line.clear();
        }
        let mut out = stream;
        out.write_all(head.as_bytes()).unwrap();
        while let Ok(Some(bytes)) = rx.recv() {
            if out.write_all(&bytes).is_err() {
                break;
            }
        }
    });
    (addr, tx)
}

fn pattern(offset: usize, len: usize) -> Vec<u8> {
    (offset..offset + len).map(|i| (i % 251) as u8).collect()
}

fn get(addr: SocketAddr, path: &str) -> http::Request<Vec<u8>> {
    http::Request::get(format!("http://{addr}{path}"))
        .body(Vec::new())
        .unwrap()
}

const MIB: usize = 1024 * 1024;

#[test]
fn a_50_mib_body_is_read_as_it_arrives_without_a_cap() {
    let total = 50 * MIB;
    let (addr, feed) = paced_server(format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {total}\r\n\r\n"
    ));
    // The server holds back everything after the first MiB.
    feed.send(Some(pattern(0, MIB))).unwrap();
    let client = UreqHttpClient::new(HttpConfig::default());
    let response = client.execute_streamed(get(addr, "/mcp")).unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let mut first = vec![0u8; MIB];
    body.read_exact(&mut first).unwrap();
    assert_eq!(first, pattern(0, MIB));
    // Only now does the server send the rest, 1 MiB at a time; the client reads through a
    // 64 KiB buffer, never holding the body.
    let sender = thread::spawn(move || {
        for i in 1..50 {
            feed.send(Some(pattern(i * MIB, MIB))).unwrap();
        }
    });
    let mut buf = vec![0u8; 64 * 1024];
    let mut read = MIB;
    loop {
        let n = body.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        assert_eq!(buf[..n], pattern(read, n)[..], "at offset {read}");
        read += n;
    }
    sender.join().unwrap();
    assert_eq!(read, total);
}

#[test]
fn oauth_requests_keep_the_cap_and_streams_can_have_one() {
    let head = |len: usize| {
        format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n")
    };
    // execute (OAuth, metadata): 1 MiB cap by default.
    let (addr, feed) = paced_server(head(2 * MIB));
    feed.send(Some(pattern(0, 2 * MIB))).unwrap();
    let e = UreqHttpClient::default()
        .execute(get(addr, "/token"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ResponseTooLarge);
    // A stream with a configured cap: refused at once when the length is declared...
    let capped = UreqHttpClient::new(HttpConfig {
        stream_max_body_bytes: Some(MIB as u64),
        ..HttpConfig::default()
    });
    let (addr, feed) = paced_server(head(2 * MIB));
    feed.send(Some(pattern(0, 2 * MIB))).unwrap();
    let e = capped.execute_streamed(get(addr, "/mcp")).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::ResponseTooLarge);
    // ...and by counting when it is not (close-delimited).
    let (addr, feed) = paced_server("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".into());
    feed.send(Some(pattern(0, 2 * MIB))).unwrap();
    drop(feed);
    let mut body = capped
        .execute_streamed(get(addr, "/mcp"))
        .unwrap()
        .into_body();
    let e = std::io::copy(&mut body, &mut std::io::sink()).unwrap_err();
    let inner = e
        .get_ref()
        .and_then(|e| e.downcast_ref::<mcp_auth::Error>());
    assert_eq!(
        inner.map(mcp_auth::Error::kind),
        Some(ErrorKind::ResponseTooLarge),
        "{e}"
    );
}

fn sse_head() -> String {
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n".into()
}

#[test]
fn an_sse_stream_outlives_the_oauth_timeout_and_is_read_event_by_event() {
    let oauth_timeout = Duration::from_millis(200);
    let client = UreqHttpClient::new(HttpConfig {
        timeout: oauth_timeout,
        ..HttpConfig::default()
    });
    let (addr, feed) = paced_server(sse_head());
    feed.send(Some(b": open\n\n".to_vec())).unwrap();
    let response = client.execute_streamed(get(addr, "/mcp")).unwrap();
    assert_eq!(
        response.headers()[http::header::CONTENT_TYPE],
        "text/event-stream"
    );
    let mut events = EventReader::new(response.into_body());
    // Lockstep: the server sends event n only after the client has parsed event n-1, until
    // the stream has lasted several OAuth timeouts (and at least 100 events).
    let start = Instant::now();
    let mut n = 0u64;
    while n < 100 || start.elapsed() < 3 * oauth_timeout {
        let data = format!(
            "{{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{{\"progress\":{n}}}}}"
        );
        // Split mid-line and use CRLF, as a real server's writes may.
        let (a, b) = data.split_at(data.len() / 2);
        feed.send(Some(
            format!("id: {n}\r\nevent: message\r\ndata: {a}").into_bytes(),
        ))
        .unwrap();
        feed.send(Some(format!("{b}\r\n\r\n").into_bytes()))
            .unwrap();
        let event = events.next_event().unwrap().expect("an event");
        assert_eq!(event.data, data);
        assert_eq!(event.id, Some(n.to_string()));
        n += 1;
    }
    feed.send(None).unwrap();
    assert!(events.next_event().unwrap().is_none());
    assert_eq!(events.last_event_id(), Some((n - 1).to_string().as_str()));
}

#[test]
fn a_silent_stream_ends_with_the_idle_timeout() {
    let client = UreqHttpClient::new(HttpConfig {
        stream_idle_timeout: Some(Duration::from_millis(300)),
        ..HttpConfig::default()
    });
    let (addr, feed) = paced_server(sse_head());
    feed.send(Some(b"data: one\n\n".to_vec())).unwrap();
    let mut events = EventReader::new(
        client
            .execute_streamed(get(addr, "/mcp"))
            .unwrap()
            .into_body(),
    );
    assert_eq!(events.next_event().unwrap().unwrap().data, "one");
    // The server now says nothing (the feed stays open).
    let e = events.next_event().unwrap_err();
    let inner = e
        .get_ref()
        .and_then(|e| e.downcast_ref::<mcp_auth::Error>());
    assert_eq!(
        inner.map(mcp_auth::Error::kind),
        Some(ErrorKind::Timeout),
        "{e:?}"
    );
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
    drop(feed);
}

#[test]
fn closures_stream_their_buffered_body() {
    let f = |_req: http::Request<Vec<u8>>| Ok(http::Response::new(b"data: x\n\n".to_vec()));
    let body = f
        .execute_streamed(http::Request::get("http://h/").body(Vec::new()).unwrap())
        .unwrap()
        .into_body();
    let events: Vec<_> = EventReader::new(body).collect::<Result<_, _>>().unwrap();
    assert_eq!(events.len(), 1);
}
