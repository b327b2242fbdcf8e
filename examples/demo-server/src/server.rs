//! The transport: HTTP/1.1 on hyper 1 (hyper-util's tokio glue), a tokio runtime owned by the
//! [`DemoServer`](crate::DemoServer) handle, graceful shutdown, and the faults that need the
//! connection itself (close without answering, hang, drip byte by byte, oversized bodies).
//!
//! hyper does the parsing and framing (RFC 9112: `Content-Length` and chunked bodies, a
//! request with both read by `Transfer-Encoding` alone and the connection closed after the
//! response (§6.3), `Expect: 100-continue`, keep-alive, HTTP/1.0, pipelining, 400/431/505
//! for malformed requests); this module turns a hyper request into the handlers'
//! [`Request`] and their [`Response`] back into a hyper response.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::header::{HeaderName, HeaderValue};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use crate::config::FaultAction;
use crate::handlers::{self, Outcome};
use crate::http::{MAX_BODY, Request, Response};
use crate::{Shared, record};

/// How long a connection may sit between requests (and take to send a request head) before it
/// is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long shutting down waits for in-flight responses before the runtime drops them.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// The response body: a queue of chunks. `exact` makes hyper frame it with `Content-Length`;
/// without it (and without a `content-length` header) hyper uses chunked encoding.
pub(crate) struct Body {
    chunks: VecDeque<Bytes>,
    exact: Option<u64>,
    /// Chunks still being produced ([`crate::stream`]), after `chunks`.
    produced: Option<mpsc::Receiver<Bytes>>,
}

impl Body {
    fn full(bytes: Vec<u8>) -> Body {
        let exact = Some(bytes.len() as u64);
        let chunks = if bytes.is_empty() {
            VecDeque::new()
        } else {
            VecDeque::from([Bytes::from(bytes)])
        };
        Body {
            chunks,
            exact,
            produced: None,
        }
    }

    fn streamed(chunks: VecDeque<Bytes>) -> Body {
        Body {
            chunks,
            exact: None,
            produced: None,
        }
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(c) = self.chunks.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(c))));
        }
        match self.produced.as_mut() {
            Some(rx) => rx.poll_recv(cx).map(|c| c.map(|c| Ok(Frame::data(c)))),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty() && self.produced.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match self.exact {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}

/// The error a service returns to make hyper drop the connection without an answer.
#[derive(Debug)]
pub(crate) struct CloseConnection;

impl std::fmt::Display for CloseConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed by an injected fault")
    }
}

impl std::error::Error for CloseConnection {}

/// A TCP stream whose writes can be slowed to one byte per interval ([`FaultAction::Drip`]).
/// hyper writes a whole response at once; the drip happens below it, so the head is dripped
/// too.
struct DripStream {
    inner: TcpStream,
    drip: Arc<Mutex<Option<Duration>>>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    stop: watch::Receiver<bool>,
}

impl AsyncRead for DripStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for DripStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let interval = *self.drip.lock().unwrap_or_else(|e| e.into_inner());
        let Some(interval) = interval else {
            return Pin::new(&mut self.inner).poll_write(cx, buf);
        };
        if *self.stop.borrow() {
            return Poll::Ready(Err(io::ErrorKind::ConnectionAborted.into()));
        }
        if let Some(sleep) = self.sleep.as_mut() {
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
        let n = match Pin::new(&mut self.inner).poll_write(cx, &buf[..buf.len().min(1)]) {
            Poll::Ready(Ok(n)) => n,
            other => return other,
        };
        self.sleep = Some(Box::pin(tokio::time::sleep(interval)));
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Accepts and serves connections until `stop` turns true, then shuts down gracefully: idle
/// connections close at once, in-flight responses get [`SHUTDOWN_GRACE`].
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>, stop: watch::Receiver<bool>) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(IDLE_TIMEOUT)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let mut stop_accept = stop.clone();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop_accept.wait_for(|s| *s) => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // EMFILE and friends: back off a little rather than spin.
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let id = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
        let drip = Arc::new(Mutex::new(None));
        let io = TokioIo::new(DripStream {
            inner: stream,
            drip: Arc::clone(&drip),
            sleep: None,
            stop: stop.clone(),
        });
        let conn_shared = Arc::clone(&shared);
        let conn_stop = stop.clone();
        let service = service_fn(move |req| {
            respond(
                Arc::clone(&conn_shared),
                id,
                Arc::clone(&drip),
                conn_stop.clone(),
                req,
            )
        });
        let conn = graceful.watch(builder.serve_connection(io, service));
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(SHUTDOWN_GRACE) => {}
    }
}

/// The handlers' view of a hyper request.
fn to_request(parts: &hyper::http::request::Parts, body: Bytes) -> Request {
    Request {
        method: parts.method.as_str().to_owned(),
        // Absolute-form targets (proxies) are reduced to their path.
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

/// A hyper response for the handlers' response; header lines that are not valid HTTP are
/// dropped.
fn to_hyper(resp: Response, body: Body) -> hyper::Response<Body> {
    let mut out = hyper::Response::new(body);
    *out.status_mut() = hyper::StatusCode::from_u16(resp.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (n, v) in &resp.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(n.as_bytes()),
            HeaderValue::from_bytes(v.as_bytes()),
        ) {
            out.headers_mut().append(n, v);
        }
    }
    out
}

/// A handler's response: written at once, or produced over time by a task on this runtime.
fn reply(shared: &Arc<Shared>, mut resp: Response) -> hyper::Response<Body> {
    let Some(produce) = resp.produce.take() else {
        return ordinary(resp);
    };
    let body = Body {
        chunks: VecDeque::new(),
        exact: produce.length(),
        produced: Some(produce.spawn(shared.clone())),
    };
    to_hyper(resp, body)
}

fn ordinary(resp: Response) -> hyper::Response<Body> {
    let body = Body::full(resp.body.clone());
    to_hyper(resp, body)
}

async fn respond(
    shared: Arc<Shared>,
    id: usize,
    drip: Arc<Mutex<Option<Duration>>>,
    mut stop: watch::Receiver<bool>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Body>, CloseConnection> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            // Too large, or a broken chunked body (if the peer went away instead, this answer
            // goes nowhere). Either way the connection cannot be reused.
            let (status, why) = if e.is::<http_body_util::LengthLimitError>() {
                (413, "body too large")
            } else {
                (400, "malformed body")
            };
            let resp = Response::json(
                status,
                &serde_json::json!({"error": "bad_request", "error_description": why}),
            )
            .header("connection", "close");
            return Ok(ordinary(resp));
        }
    };
    let req = to_request(&parts, body);
    record(&shared, id, &req);
    match handlers::handle(&shared, &req) {
        Outcome::Respond(resp) => Ok(reply(&shared, resp)),
        Outcome::Fault(action) => match action {
            FaultAction::Respond {
                status,
                headers,
                body,
            } => Ok(ordinary(Response {
                status,
                headers,
                body,
                produce: None,
            })),
            FaultAction::Redirect { status, location } => {
                let state = form_urlencoded::parse(req.query.as_deref().unwrap_or("").as_bytes())
                    .find(|(k, _)| k == "state")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                let location = location.replace(
                    "{state}",
                    &form_urlencoded::byte_serialize(state.as_bytes()).collect::<String>(),
                );
                Ok(ordinary(
                    Response::new(status)
                        .header("location", &location)
                        .header("content-type", "text/plain")
                        .body(format!("Redirecting to {location}").into_bytes()),
                ))
            }
            FaultAction::Close => Err(CloseConnection),
            FaultAction::Hang => {
                // Never answer; give the connection up when the server stops.
                let _ = stop.wait_for(|s| *s).await;
                Err(CloseConnection)
            }
            FaultAction::Drip {
                status,
                content_type,
                body,
                interval,
            } => {
                *drip.lock().unwrap_or_else(|e| e.into_inner()) = Some(interval);
                Ok(ordinary(
                    Response::new(status)
                        .header("content-type", &content_type)
                        .header("connection", "close")
                        .body(body),
                ))
            }
            FaultAction::Oversized {
                status,
                bytes,
                chunked,
            } => Ok(oversized(status, bytes, chunked)),
        },
    }
}

/// `{"pad":"xxx…"}` of exactly `bytes` bytes (just x's below 10 bytes), with `Content-Length`
/// or chunked.
fn oversized(status: u16, bytes: usize, chunked: bool) -> hyper::Response<Body> {
    let (prefix, suffix): (&'static [u8], &'static [u8]) = if bytes >= 10 {
        (b"{\"pad\":\"", b"\"}")
    } else {
        (b"", b"")
    };
    let block = Bytes::from(vec![b'x'; 64 * 1024]);
    let mut chunks = VecDeque::new();
    chunks.push_back(Bytes::from_static(prefix));
    let mut left = bytes - prefix.len() - suffix.len();
    while left > 0 {
        let n = left.min(block.len());
        chunks.push_back(block.slice(..n));
        left -= n;
    }
    chunks.push_back(Bytes::from_static(suffix));
    chunks.retain(|c| !c.is_empty());
    let mut head = Response::new(status).header("content-type", "application/json");
    if !chunked {
        head = head.header("content-length", &bytes.to_string());
    }
    to_hyper(head, Body::streamed(chunks))
}

/// The shutdown signal and the task serving the listener.
pub(crate) struct Running {
    pub(crate) stop: watch::Sender<bool>,
    pub(crate) task: tokio::task::JoinHandle<()>,
    pub(crate) runtime: tokio::runtime::Runtime,
}

impl Running {
    /// Binds on `runtime`'s reactor and spawns [`serve`].
    pub(crate) fn start(
        std_listener: std::net::TcpListener,
        shared: Arc<Shared>,
        thread_name: &str,
    ) -> io::Result<Running> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(2)
            .thread_name(thread_name)
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

    /// Stops accepting, lets in-flight responses finish (bounded), then drops the runtime and
    /// every task left on it. Runs on a thread of its own, so that it works from inside another
    /// runtime too.
    pub(crate) fn shutdown(self) {
        let Running {
            stop,
            task,
            runtime,
        } = self;
        let _ = stop.send(true);
        let joined = std::thread::Builder::new()
            .name("demo-shutdown".into())
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
