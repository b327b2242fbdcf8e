//! MCP responses read as they arrive ([`Client::send_streamed`](super::Client::send_streamed)).
//!
//! MCP traffic is not OAuth traffic: a tool result may be tens of megabytes and a
//! `text/event-stream` may run for minutes. OAuth requests keep the whole-request timeout and
//! the 1 MiB cap ([`HttpConfig::timeout`](crate::http::HttpConfig::timeout),
//! [`HttpConfig::max_body_bytes`](crate::http::HttpConfig::max_body_bytes)); MCP requests get
//! the connect timeout for the connection, the idle timeout between reads
//! ([`HttpConfig::stream_idle_timeout`](crate::http::HttpConfig::stream_idle_timeout)) and no
//! cap unless one is configured
//! ([`HttpConfig::stream_max_body_bytes`](crate::http::HttpConfig::stream_max_body_bytes)).

use std::fmt;
use std::io::{self, Read};

use crate::challenge::CapturedChallenge;
use crate::error::{Error, Result};
use crate::http::StreamedResponse;
use crate::sse::EventReader;

use super::Response;

/// The response to [`Client::send_streamed`](super::Client::send_streamed): status and headers
/// at once, the body as it arrives (`Read`), or its server-sent events one by one
/// ([`ResponseStream::events`]). Memory stays bounded by what the caller keeps.
///
/// Read errors are `std::io::Error`s; [`ResponseStream::error_of`] turns one into the
/// library's [`Error`] (a [`Error::Timeout`] when the idle timeout passed,
/// [`Error::ResponseTooLarge`] past a configured cap, [`Error::Transport`] when the
/// connection failed).
///
/// ```no_run
/// use std::io::Read;
/// # fn main() -> mcp_auth::Result<()> {
/// let client = mcp_auth::Client::builder("https://mcp.example.com/mcp").build()?;
/// let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"report"}}"#;
/// let response = client.send_streamed(
///     http::Request::post(client.config().server_url.as_str())
///         .header("content-type", "application/json")
///         .header("accept", mcp_auth::client::MCP_ACCEPT)
///         .body(call.as_bytes().to_vec())
///         .unwrap(),
/// )?;
/// if response.is_event_stream() {
///     for event in response.events() {
///         let event = event.map_err(mcp_auth::client::ResponseStream::error_of)?;
///         println!("{}: {}", event.event, event.data);
///     }
/// } else {
///     let mut body = response;
///     let mut chunk = [0u8; 64 * 1024];
///     loop {
///         let n = body.read(&mut chunk).map_err(mcp_auth::client::ResponseStream::error_of)?;
///         if n == 0 { break; }
///         // hand chunk[..n] on
///     }
/// }
/// # Ok(()) }
/// ```
pub struct ResponseStream {
    /// The final status.
    pub status: u16,
    /// The final headers.
    pub headers: http::HeaderMap,
    /// The last 401/403 challenge seen while sending (also when the final response is a
    /// success after re-authorization).
    pub challenge: Option<CapturedChallenge>,
    /// How many tokens were acquired (authorizations or refreshes) for this request.
    pub authorizations: u32,
    body: Box<dyn Read + Send>,
}

impl fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseStream")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("challenge", &self.challenge)
            .field("authorizations", &self.authorizations)
            .finish_non_exhaustive()
    }
}

impl ResponseStream {
    pub(crate) fn new(
        response: StreamedResponse,
        challenge: Option<CapturedChallenge>,
        authorizations: u32,
    ) -> Self {
        let status = response.status().as_u16();
        let (parts, body) = response.into_parts();
        ResponseStream {
            status,
            headers: parts.headers,
            challenge,
            authorizations,
            body,
        }
    }

    /// A response whose body was already read (an error answer, needed for its challenge).
    pub(crate) fn buffered(
        response: http::Response<Vec<u8>>,
        challenge: Option<CapturedChallenge>,
        authorizations: u32,
    ) -> Self {
        let (parts, body) = response.into_parts();
        ResponseStream::new(
            http::Response::from_parts(parts, Box::new(io::Cursor::new(body))),
            challenge,
            authorizations,
        )
    }

    /// Whether the body is a `text/event-stream` (read it with [`ResponseStream::events`]).
    pub fn is_event_stream(&self) -> bool {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("text/event-stream")
            })
    }

    /// The body's server-sent events, each as soon as it is complete (WHATWG HTML §9.2.6).
    pub fn events(self) -> EventReader<ResponseStream> {
        EventReader::new(self)
    }

    /// The body as a reader, without the head.
    pub fn into_body(self) -> Box<dyn Read + Send> {
        self.body
    }

    /// Read the rest of the body into a [`Response`].
    ///
    /// # Errors
    /// As reading ([`ResponseStream::error_of`]).
    pub fn into_response(mut self) -> Result<Response> {
        let mut body = Vec::new();
        self.body.read_to_end(&mut body).map_err(Self::error_of)?;
        Ok(Response {
            status: self.status,
            headers: self.headers,
            body,
            challenge: self.challenge,
            authorizations: self.authorizations,
        })
    }

    /// The library's [`Error`] for an error that reading the body (or its events) returned:
    /// the error the HTTP client put there; [`Error::InvalidResponse`] for an event stream
    /// that is not valid (an event over the event cap); [`Error::Transport`] otherwise.
    pub fn error_of(e: io::Error) -> Error {
        if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            if let Some(inner) = e.into_inner() {
                if let Ok(err) = inner.downcast::<Error>() {
                    return *err;
                }
            }
            return Error::Internal {
                message: "a read error lost its cause".to_owned(),
            };
        }
        if e.kind() == io::ErrorKind::InvalidData {
            return Error::InvalidResponse {
                what: "MCP response body",
                reason: e.to_string(),
                status: None,
            };
        }
        Error::Transport {
            url: String::new(),
            reason: format!("reading the MCP response body: {e}"),
            source: Some(Box::new(e)),
        }
    }
}

impl Read for ResponseStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.body.read(buf)
    }
}
