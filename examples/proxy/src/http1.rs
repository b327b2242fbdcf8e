//! The server side of HTTP/1.1 (RFC 9112), just enough for a proxy: request parsing with
//! `Content-Length` and chunked bodies, `Expect: 100-continue`, keep-alive, and responses
//! written with one `write_all`.
//!
//! Strict where a proxy must be (RFC 9112 §6.1, §6.3): a request with both `Transfer-Encoding`
//! and `Content-Length`, with conflicting lengths, or with a transfer coding other than
//! `chunked` is refused (400/501), so that the proxy and the upstream can never disagree on
//! where a request ends (request smuggling). Every read is bounded in size.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// Longest request line or header line.
const MAX_LINE: u64 = 16 * 1024;
/// Most header lines.
const MAX_HEADERS: usize = 128;

/// A parsed request. Header names are kept as sent (they are forwarded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The path of the request target, without the query.
    pub path: String,
    /// The query, without `?`.
    pub query: Option<String>,
    /// Whether the request line said `HTTP/1.0`.
    pub http10: bool,
    /// The header fields in order, names as sent, values with surrounding OWS removed.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of `name`, compared case-insensitively (RFC 9110 §5.1).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the connection stays open after the response (RFC 9112 §9.3).
    pub fn keep_alive(&self) -> bool {
        let has = |tok: &str| {
            self.headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
                .flat_map(|(_, v)| v.split(','))
                .any(|t| t.trim().eq_ignore_ascii_case(tok))
        };
        if self.http10 {
            has("keep-alive")
        } else {
            !has("close")
        }
    }
}

/// Why reading a request failed.
#[derive(Debug)]
pub enum ReadError {
    /// The peer closed (or the socket failed or timed out) before a complete request.
    Closed,
    /// A malformed or refused request: answer this status with this reason, then close.
    Bad(u16, &'static str),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Closed
    }
}

fn read_line<R: BufRead>(reader: &mut R, buf: &mut Vec<u8>) -> Result<usize, ReadError> {
    buf.clear();
    let n = reader.by_ref().take(MAX_LINE).read_until(b'\n', buf)?;
    if n as u64 == MAX_LINE && buf.last() != Some(&b'\n') {
        return Err(ReadError::Bad(431, "line too long"));
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(n)
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Read one request; `Ok(None)` is a clean close between requests. Bodies above `max_body`
/// bytes are refused with 413.
///
/// # Errors
/// [`ReadError`].
pub fn read_request(
    reader: &mut BufReader<TcpStream>,
    max_body: usize,
) -> Result<Option<Request>, ReadError> {
    let mut line = Vec::new();
    // Tolerate blank lines before a request (RFC 9112 §2.2).
    loop {
        if read_line(reader, &mut line)? == 0 {
            return Ok(None);
        }
        if !line.is_empty() {
            break;
        }
    }
    let request_line =
        std::str::from_utf8(&line).map_err(|_| ReadError::Bad(400, "bad request line"))?;
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Bad(400, "bad request line"));
    };
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return Err(ReadError::Bad(505, "HTTP version not supported")),
    };
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return Err(ReadError::Bad(400, "bad method"));
    }
    if !target.starts_with('/') {
        // Origin-form only (RFC 9112 §3.2.1): this is a reverse proxy, not a forward proxy.
        return Err(ReadError::Bad(400, "request target must be a path"));
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (target.to_owned(), None),
    };
    let (method, http10) = (method.to_owned(), http10);

    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        read_line(reader, &mut line)?;
        if line.is_empty() {
            break;
        }
        if headers.len() >= MAX_HEADERS {
            return Err(ReadError::Bad(431, "too many headers"));
        }
        if matches!(line[0], b' ' | b'\t') {
            // obs-fold (RFC 9112 §5.2): refused.
            return Err(ReadError::Bad(400, "obsolete line folding"));
        }
        let text = String::from_utf8_lossy(&line);
        let Some((name, value)) = text.split_once(':') else {
            return Err(ReadError::Bad(400, "bad header line"));
        };
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(ReadError::Bad(400, "bad header name"));
        }
        let value = value.trim_matches([' ', '\t']);
        if value.bytes().any(|b| b != b'\t' && (b < 0x20 || b == 0x7f)) {
            return Err(ReadError::Bad(400, "bad header value"));
        }
        headers.push((name.to_owned(), value.to_owned()));
    }
    let mut req = Request {
        method,
        path,
        query,
        http10,
        headers,
        body: Vec::new(),
    };

    let codings: Vec<String> = req
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"))
        .flat_map(|(_, v)| v.split(','))
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty())
        .collect();
    let lengths: Vec<&str> = req
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .collect();
    if !codings.is_empty() && !lengths.is_empty() {
        return Err(ReadError::Bad(
            400,
            "both Transfer-Encoding and Content-Length",
        ));
    }
    let chunked = match codings.as_slice() {
        [] => false,
        [only] if only == "chunked" => true,
        _ => return Err(ReadError::Bad(501, "unsupported transfer coding")),
    };
    let length = match lengths.split_first() {
        None => None,
        Some((first, rest)) => {
            if rest.iter().any(|l| l != first) {
                return Err(ReadError::Bad(400, "conflicting Content-Length"));
            }
            if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ReadError::Bad(400, "bad Content-Length"));
            }
            Some(
                first
                    .parse::<usize>()
                    .map_err(|_| ReadError::Bad(413, "body too large"))?,
            )
        }
    };
    if length.is_some_and(|n| n > max_body) {
        return Err(ReadError::Bad(413, "body too large"));
    }
    let has_body = chunked || length.is_some_and(|n| n > 0);
    if has_body
        && req
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        reader
            .get_mut()
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    if chunked {
        req.body = read_chunked(reader, max_body)?;
    } else if let Some(n) = length {
        let mut body = vec![0; n];
        reader.read_exact(&mut body)?;
        req.body = body;
    }
    Ok(Some(req))
}

fn read_chunked<R: BufRead>(reader: &mut R, max_body: usize) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    let mut line = Vec::new();
    loop {
        read_line(reader, &mut line)?;
        let text = String::from_utf8_lossy(&line);
        let size_text = text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| ReadError::Bad(400, "bad chunk size"))?;
        if size == 0 {
            // Trailers are read and dropped, up to the blank line (RFC 9112 §7.1.2).
            let mut count = 0;
            loop {
                read_line(reader, &mut line)?;
                if line.is_empty() {
                    return Ok(body);
                }
                count += 1;
                if count > MAX_HEADERS {
                    return Err(ReadError::Bad(431, "too many trailers"));
                }
            }
        }
        if size > max_body.saturating_sub(body.len()) {
            return Err(ReadError::Bad(413, "body too large"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        read_line(reader, &mut line)?;
        if !line.is_empty() {
            return Err(ReadError::Bad(400, "bad chunk"));
        }
    }
}

/// The reason phrase of a status (RFC 9110 §15), `Unknown` for unregistered codes.
pub fn reason(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown")
}

/// Whether a response with this status has no body (RFC 9110 §6.4.1: 1xx, 204, 304).
pub fn is_bodiless(status: u16) -> bool {
    (100..200).contains(&status) || status == 204 || status == 304
}

/// Serialize a response: status line, `headers` (which must not contain framing or
/// `Connection` fields), `Content-Length` (not for 1xx/204/304, RFC 9110 §8.6), the
/// `Connection` decision, and the body (not for `HEAD`).
pub fn serialize(
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    keep_alive: bool,
    head_only: bool,
) -> Vec<u8> {
    let bodiless = is_bodiless(status);
    let mut out = Vec::with_capacity(256 + body.len());
    out.extend_from_slice(format!("HTTP/1.1 {status} {}\r\n", reason(status)).as_bytes());
    for (n, v) in headers {
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !bodiless {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(if keep_alive {
        b"Connection: keep-alive\r\n\r\n".as_slice()
    } else {
        b"Connection: close\r\n\r\n".as_slice()
    });
    if !bodiless && !head_only {
        out.extend_from_slice(body);
    }
    out
}

/// Write a response with exactly one `write_all` (see [`serialize`]).
///
/// # Errors
/// The socket's.
pub fn write_response(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    keep_alive: bool,
    head_only: bool,
) -> io::Result<()> {
    stream.write_all(&serialize(status, headers, body, keep_alive, head_only))
}
