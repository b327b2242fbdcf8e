//! A minimal loopback HTTP/1.1 server for the tests' own endpoints (a fake upstream that echoes,
//! the browser page's origin), on hyper like the proxy: a closure turns each request into a
//! response.
#![allow(dead_code)]

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::watch;

/// A request as the closure sees it.
#[derive(Debug, Clone)]
pub struct TestRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Names lowercase, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The closure's answer.
pub struct TestResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn new(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Self {
        TestResponse {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.into(),
        }
    }
}

type Handler = dyn Fn(TestRequest) -> TestResponse + Send + Sync;

/// A running server; dropping it stops it.
pub struct TestServer {
    port: u16,
    stop: watch::Sender<bool>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl TestServer {
    pub fn start(handler: impl Fn(TestRequest) -> TestResponse + Send + Sync + 'static) -> Self {
        let handler: Arc<Handler> = Arc::new(handler);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = std_listener.local_addr().unwrap().port();
        std_listener.set_nonblocking(true).unwrap();
        let listener = {
            let _g = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener).unwrap()
        };
        let (stop, mut stop_rx) = watch::channel(false);
        runtime.spawn(async move {
            loop {
                let stream = tokio::select! {
                    a = listener.accept() => match a { Ok((s, _)) => s, Err(_) => continue },
                    _ = stop_rx.wait_for(|s| *s) => return,
                };
                let handler = Arc::clone(&handler);
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let handler = Arc::clone(&handler);
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let req = TestRequest {
                            method: parts.method.to_string(),
                            path: parts.uri.path().to_owned(),
                            query: parts.uri.query().map(str::to_owned),
                            headers: parts
                                .headers
                                .iter()
                                .map(|(n, v)| {
                                    (
                                        n.to_string(),
                                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                                    )
                                })
                                .collect(),
                            body: body.to_vec(),
                        };
                        let r = handler(req);
                        let mut out = hyper::Response::new(Full::new(Bytes::from(r.body)));
                        *out.status_mut() = hyper::StatusCode::from_u16(r.status).unwrap();
                        for (n, v) in &r.headers {
                            out.headers_mut().append(
                                hyper::header::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                                hyper::header::HeaderValue::from_str(v).unwrap(),
                            );
                        }
                        Ok::<_, Infallible>(out)
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        TestServer {
            port,
            stop,
            runtime: Some(runtime),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(std::time::Duration::from_secs(1));
        }
    }
}
