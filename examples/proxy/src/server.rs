//! The downstream side: HTTP/1.1 on hyper 1 (hyper-util's tokio glue) with a bounded number of
//! connections, a per-connection request deadline, and graceful shutdown.
//!
//! hyper does the parsing and framing (RFC 9112). Where a request is ambiguous it is either
//! refused with 400 (two different `Content-Length`s, a transfer coding other than a final
//! `chunked`, obs-fold, a bad chunk) or, with both `Transfer-Encoding: chunked` and
//! `Content-Length`, framed by the chunks alone and the connection closed after the response
//! (RFC 9112 §6.3). The upstream request is always sent with a fresh `Content-Length` of the
//! body as read, so the proxy and the upstream cannot disagree on where a request ends.
//!
//! Limits:
//! - at most [`ProxyConfig::max_connections`](crate::ProxyConfig::max_connections) connections
//!   are served at once; further ones wait in the listen backlog until one closes. HTTP/1
//!   serves one request at a time per connection, so that also bounds the requests in flight
//!   (and the blocking threads that forward them);
//! - [`ProxyConfig::request_timeout`](crate::ProxyConfig::request_timeout) is a deadline for the
//!   whole request, not for each read: the head must be complete within it of the connection
//!   becoming idle (so idle keep-alive connections close after it too), and the body within it
//!   of the head. A client that trickles a byte at a time is cut off all the same.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::{Reply, Request, Shared};

/// How long shutting down waits for in-flight responses before the runtime drops them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Accepts (within the connection limit) and serves until `stop` turns true, then shuts down
/// gracefully.
async fn serve(listener: TcpListener, shared: Arc<Shared>, stop: watch::Receiver<bool>) {
    let config = &shared.config;
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.request_timeout)
        .keep_alive(true);
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut stop_accept = stop.clone();
    loop {
        // A free slot first, then the connection: over the limit, clients wait in the backlog.
        let permit = tokio::select! {
            p = Arc::clone(&slots).acquire_owned() => p,
            _ = stop_accept.wait_for(|s| *s) => break,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop_accept.wait_for(|s| *s) => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // EMFILE and friends: back off rather than spin.
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let conn_shared = Arc::clone(&shared);
        let service = service_fn(move |req| respond(Arc::clone(&conn_shared), req));
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(SHUTDOWN_GRACE) => {}
    }
}

/// The handler's view of a hyper request.
fn to_request(parts: &hyper::http::request::Parts, body: Bytes) -> Request {
    Request {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).trim().to_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    }
}

fn to_hyper(reply: Reply, close: bool) -> hyper::Response<Full<Bytes>> {
    let mut out = hyper::Response::new(Full::new(Bytes::from(reply.body)));
    *out.status_mut() =
        hyper::StatusCode::from_u16(reply.status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    for (n, v) in &reply.headers {
        // Framing is hyper's: the upstream's own framing and connection fields never pass.
        if ["content-length", "transfer-encoding", "connection"]
            .iter()
            .any(|h| n.eq_ignore_ascii_case(h))
        {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(n.as_bytes()),
            HeaderValue::from_bytes(v.as_bytes()),
        ) {
            out.headers_mut().append(n, v);
        }
    }
    if close {
        out.headers_mut()
            .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
    }
    out
}

async fn respond(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, io::Error> {
    let (parts, body) = req.into_parts();
    if parts.uri.scheme().is_some() || parts.uri.authority().is_some() {
        // Absolute-form or authority-form: this is a reverse proxy, not a forward one.
        let reply = Reply::json(400, "bad_request", "the request target must be a path");
        return Ok(to_hyper(reply, true));
    }
    let limit = shared.config.max_body_bytes;
    let read = tokio::time::timeout(
        shared.config.request_timeout,
        Limited::new(body, limit).collect(),
    )
    .await;
    let body = match read {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            let reply = Reply::json(413, "bad_request", "body too large");
            return Ok(to_hyper(reply, true));
        }
        Ok(Err(_)) => {
            // A broken chunked body (or a peer that went away: then this goes nowhere).
            let reply = Reply::json(400, "bad_request", "malformed body");
            return Ok(to_hyper(reply, true));
        }
        Err(_) => {
            let reply = Reply::json(408, "request_timeout", "the request body took too long");
            return Ok(to_hyper(reply, true));
        }
    };
    let req = to_request(&parts, body);
    let handler_shared = Arc::clone(&shared);
    // The upstream leg is blocking (ureq): one blocking thread per request in flight, and at
    // most `max_connections` of those.
    let handled = tokio::task::spawn_blocking(move || {
        let reply = crate::handle(&handler_shared, &req);
        if handler_shared.config.verbose {
            eprintln!(
                "mcp-auth-proxy: {} {} -> {}",
                req.method, req.path, reply.status
            );
        }
        reply
    })
    .await;
    match handled {
        Ok(reply) => Ok(to_hyper(reply, false)),
        Err(_) => Ok(to_hyper(
            Reply::json(500, "internal_error", "the request handler failed"),
            true,
        )),
    }
}

/// The shutdown signal, the task serving the listener and the runtime they run on.
pub(crate) struct Running {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    runtime: tokio::runtime::Runtime,
}

impl Running {
    /// Starts a runtime, registers the listener with it and spawns [`serve`].
    pub(crate) fn start(
        std_listener: std::net::TcpListener,
        shared: Arc<Shared>,
    ) -> io::Result<Running> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(shared.config.max_connections.max(1))
            .thread_name("mcp-auth-proxy")
            .enable_all()
            .build()?;
        std_listener.set_nonblocking(true)?;
        let listener = {
            let _guard = runtime.enter();
            TcpListener::from_std(std_listener)?
        };
        let (stop, stop_rx) = watch::channel(false);
        let task = runtime.spawn(serve(listener, shared, stop_rx));
        Ok(Running {
            stop,
            task,
            runtime,
        })
    }

    /// Stops accepting, lets in-flight responses finish (bounded), then shuts the runtime down.
    /// Runs on a thread of its own, so that it works from inside another runtime too.
    pub(crate) fn shutdown(self) {
        let Running {
            stop,
            task,
            runtime,
        } = self;
        let _ = stop.send(true);
        let joined = std::thread::Builder::new()
            .name("mcp-auth-proxy-shutdown".into())
            .spawn(move || {
                let _ = runtime
                    .block_on(async { tokio::time::timeout(SHUTDOWN_GRACE * 2, task).await });
                runtime.shutdown_timeout(SHUTDOWN_GRACE);
            });
        if let Ok(handle) = joined {
            let _ = handle.join();
        }
    }
}
