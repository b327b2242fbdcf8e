//! Server-sent events: an incremental `text/event-stream` parser (WHATWG HTML §9.2.6, "Parsing
//! an event stream" and "Interpreting an event stream"), for MCP responses and GET streams.
//!
//! [`EventReader`] reads from any [`Read`] (a streamed response body, see
//! [`HttpClient::execute_streamed`](crate::http::HttpClient::execute_streamed)) and yields each
//! [`Event`] as soon as its terminating blank line has arrived; memory is bounded by the
//! largest single event, never by the length of the stream.
//!
//! ```
//! use mcp_auth::sse::EventReader;
//! let stream = "id: 1\nevent: message\ndata: {\"a\":\ndata: 1}\n\n: keep-alive\n\ndata: two\r\n\r\n";
//! let mut events = EventReader::new(stream.as_bytes());
//! let first = events.next_event().unwrap().unwrap();
//! assert_eq!((first.event.as_str(), first.data.as_str()), ("message", "{\"a\":\n1}"));
//! assert_eq!(first.id.as_deref(), Some("1"));
//! let second = events.next_event().unwrap().unwrap();
//! assert_eq!((second.event.as_str(), second.data.as_str()), ("message", "two"));
//! assert_eq!(second.id.as_deref(), Some("1")); // the last event ID carries over
//! assert!(events.next_event().unwrap().is_none());
//! ```

use std::io::{self, BufRead, BufReader, Read};
use std::time::Duration;

/// The default cap on one event (its data, event type and id together): 16 MiB.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The event type: the last `event:` field, or `message` when there was none.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last event ID (the `id:` of this or an earlier event) when the event was
    /// dispatched; what a reconnection sends as `Last-Event-ID`.
    pub id: Option<String>,
    /// The reconnection time the stream last set with `retry:`, if any.
    pub retry: Option<Duration>,
}

/// Reads [`Event`]s from a `text/event-stream` incrementally.
#[derive(Debug)]
pub struct EventReader<R> {
    input: BufReader<R>,
    line: Vec<u8>,
    data: String,
    has_data: bool,
    event: String,
    last_id: Option<String>,
    retry: Option<Duration>,
    max_event_bytes: usize,
    first_line: bool,
    done: bool,
}

impl<R: Read> EventReader<R> {
    /// A reader over `input`, with events capped at [`DEFAULT_MAX_EVENT_BYTES`].
    pub fn new(input: R) -> Self {
        EventReader {
            input: BufReader::with_capacity(16 * 1024, input),
            line: Vec::new(),
            data: String::new(),
            has_data: false,
            event: String::new(),
            last_id: None,
            retry: None,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            first_line: true,
            done: false,
        }
    }

    /// Cap one event at `max` bytes; a larger one is an `InvalidData` error.
    pub fn with_max_event_bytes(mut self, max: usize) -> Self {
        self.max_event_bytes = max;
        self
    }

    /// The last event ID seen so far (for `Last-Event-ID` on reconnection).
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// The reconnection time last set by the stream.
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// The next event, `Ok(None)` at the end of the stream (an unterminated last event is
    /// discarded, as the specification says).
    ///
    /// # Errors
    /// Read errors of the input; `InvalidData` for an event over the cap.
    pub fn next_event(&mut self) -> io::Result<Option<Event>> {
        while !self.done {
            if !self.read_line()? {
                self.done = true;
                break;
            }
            if self.line.is_empty() {
                if let Some(e) = self.dispatch() {
                    return Ok(Some(e));
                }
                continue;
            }
            self.process_line()?;
        }
        Ok(None)
    }

    /// Read one line (without its terminator: CRLF, LF or CR) into `self.line`; `false` at the
    /// end of the input before any byte of a line.
    fn read_line(&mut self) -> io::Result<bool> {
        self.line.clear();
        loop {
            let buf = match self.input.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                // End of input: a partial line is not a complete line.
                return Ok(false);
            }
            if let Some(i) = buf.iter().position(|&b| b == b'\n' || b == b'\r') {
                let cr = buf[i] == b'\r';
                self.line.extend_from_slice(&buf[..i]);
                self.input.consume(i + 1);
                if cr {
                    // A CR may be followed by LF (CRLF): swallow it, reading more if needed.
                    let next = loop {
                        match self.input.fill_buf() {
                            Ok(b) => break b.first().copied(),
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                            Err(e) => return Err(e),
                        }
                    };
                    if next == Some(b'\n') {
                        self.input.consume(1);
                    }
                }
                self.strip_bom();
                self.check_size(0)?;
                return Ok(true);
            }
            let n = buf.len();
            self.line.extend_from_slice(buf);
            self.input.consume(n);
            self.check_size(0)?;
        }
    }

    /// A UTF-8 BOM at the very start of the stream is ignored.
    fn strip_bom(&mut self) {
        if self.first_line {
            self.first_line = false;
            if self.line.starts_with(b"\xEF\xBB\xBF") {
                self.line.drain(..3);
            }
        }
    }

    fn check_size(&self, extra: usize) -> io::Result<()> {
        if self.data.len() + self.event.len() + self.line.len() + extra > self.max_event_bytes {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "server-sent event larger than {} bytes",
                    self.max_event_bytes
                ),
            ));
        }
        Ok(())
    }

    fn process_line(&mut self) -> io::Result<()> {
        if self.line[0] == b':' {
            return Ok(()); // a comment
        }
        let line = String::from_utf8_lossy(&self.line).into_owned();
        let (field, value) = match line.find(':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (line.as_str(), ""),
        };
        match field {
            "event" => self.event = value.to_owned(),
            "data" => {
                self.check_size(1)?;
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            // An id containing NUL is ignored.
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            // Only ASCII digits; a value too large for u64 is ignored too.
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                if let Ok(ms) = value.parse::<u64>() {
                    self.retry = Some(Duration::from_millis(ms));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Dispatch at a blank line: nothing when no data was buffered.
    fn dispatch(&mut self) -> Option<Event> {
        let event = std::mem::take(&mut self.event);
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        Some(Event {
            event: if event.is_empty() {
                "message".to_owned()
            } else {
                event
            },
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
            retry: self.retry,
        })
    }
}

impl<R: Read> Iterator for EventReader<R> {
    type Item = io::Result<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_event().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(s: &[u8]) -> Vec<Event> {
        EventReader::new(s).collect::<io::Result<Vec<_>>>().unwrap()
    }

    /// A reader that returns one byte per read: every split point is exercised.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.split_first() {
                Some((b, rest)) if !buf.is_empty() => {
                    buf[0] = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn whatwg_examples() {
        // "data: YHOO\ndata: +2\ndata: 10\n\n" → one message "YHOO\n+2\n10".
        let e = all(b"data: YHOO\ndata: +2\ndata: 10\n\n");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].data, "YHOO\n+2\n10");
        assert_eq!(e[0].event, "message");
        // Comments, ids, and a last unterminated block that is discarded.
        let e = all(b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n");
        assert_eq!(e.len(), 2);
        assert_eq!(
            (e[0].data.as_str(), e[0].id.as_deref()),
            ("first event", Some("1"))
        );
        assert_eq!(
            (e[1].data.as_str(), e[1].id.as_deref()),
            ("second event", Some(""))
        );
        // "data\n\ndata\ndata\n\ndata:" → "" then "\n"; the last is discarded.
        let e = all(b"data\n\ndata\ndata\n\ndata:");
        assert_eq!(
            e.iter().map(|e| e.data.as_str()).collect::<Vec<_>>(),
            ["", "\n"]
        );
        // "data:test" and "data: test" are the same.
        let e = all(b"data:test\n\ndata: test\n\n");
        assert_eq!(e[0].data, e[1].data);
    }

    #[test]
    fn line_endings_event_types_and_retry() {
        let s = b"\xEF\xBB\xBFevent: ping\r\ndata: a\rdata: b\r\nretry: 2500\r\nretry: x\n\nevent: x\n\ndata: c\n\n";
        let e = all(s);
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].event.as_str(), e[0].data.as_str()), ("ping", "a\nb"));
        assert_eq!(e[0].retry, Some(Duration::from_millis(2500)));
        // An event type without data is not dispatched and does not leak into the next.
        assert_eq!((e[1].event.as_str(), e[1].data.as_str()), ("message", "c"));
        // An id with NUL is ignored.
        let e = all(b"id: 7\n\nid: a\0b\ndata: x\n\n");
        assert_eq!(e[0].id.as_deref(), Some("7"));
    }

    #[test]
    fn byte_at_a_time_input_gives_the_same_events() {
        let s: &[u8] = b"event: a\r\ndata: 1\r\n\r\n: c\r\ndata: 2\r\rdata: 3\n\n";
        let whole = all(s);
        let trickled: Vec<Event> = EventReader::new(Trickle(s))
            .collect::<io::Result<_>>()
            .unwrap();
        assert_eq!(whole, trickled);
        assert_eq!(whole.len(), 3);
    }

    #[test]
    fn oversized_events_are_refused() {
        let big = format!("data: {}\n\n", "x".repeat(100));
        let mut r = EventReader::new(big.as_bytes()).with_max_event_bytes(50);
        let e = r.next_event().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }
}
