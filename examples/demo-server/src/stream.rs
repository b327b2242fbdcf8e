//! Responses produced over time: the `big` tool (a large JSON result written in 64 KiB chunks)
//! and the `ticker` tool and `GET` stream (`text/event-stream` events, one per interval). The
//! producer runs as a task on the server's runtime and hands each chunk to the connection
//! through a one-slot channel, so it runs at most a chunk ahead of what the client reads
//! (plus the sockets' buffers): what [`StreamCounters`] count is what the client could have
//! received, measured on the server's side.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::Shared;

/// The largest `big` result the server produces (1 GiB).
pub(crate) const MAX_BIG_BYTES: u64 = 1 << 30;
/// The most events a `ticker` stream emits.
pub(crate) const MAX_TICKS: u64 = 100_000;
/// The size of one chunk of a `big` result.
const CHUNK: usize = 64 * 1024;
/// The filler of a `big` result: JSON-safe, and a pattern a client can check.
const PATTERN: &[u8; 64] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";

/// What streamed responses did, counted on the server's side since the start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamCounters {
    /// Streamed responses started.
    pub started: u64,
    /// Streamed responses whose last byte was handed to the connection.
    pub completed: u64,
    /// Streamed responses abandoned because the client went away.
    pub abandoned: u64,
    /// Body bytes handed to the connection.
    pub bytes_sent: u64,
    /// `text/event-stream` events handed to the connection.
    pub events_sent: u64,
}

/// A body produced over time.
#[derive(Clone, Debug)]
pub(crate) enum Produce {
    /// `prefix`, then `bytes` bytes of [`PATTERN`], then `suffix`.
    Big {
        prefix: String,
        bytes: u64,
        suffix: String,
    },
    /// `count` events, one every `interval` (the first at once), then `last` if any.
    Ticker {
        count: u64,
        interval: Duration,
        /// The JSON-RPC message of tick `k` (1-based).
        tick: TickKind,
        last: Option<String>,
    },
}

/// What each tick carries.
#[derive(Clone, Debug)]
pub(crate) enum TickKind {
    /// `notifications/progress` for the request's progress token (a POST's tool call).
    Progress(Value),
    /// `notifications/message` (a GET stream's server-initiated messages).
    Message,
}

impl Produce {
    /// The exact body length, when it is known in advance.
    pub(crate) fn length(&self) -> Option<u64> {
        match self {
            Produce::Big {
                prefix,
                bytes,
                suffix,
            } => Some(prefix.len() as u64 + bytes + suffix.len() as u64),
            Produce::Ticker { .. } => None,
        }
    }

    /// The `big` tool's answer to request `id`: `{"jsonrpc":"2.0","id":…,"result":{"content":
    /// [{"type":"text","text":"<bytes of PATTERN>"}]}}`.
    pub(crate) fn big(id: &Value, bytes: u64) -> Produce {
        Produce::Big {
            prefix: format!(
                "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":{{\"content\":[{{\"type\":\"text\",\"text\":\""
            ),
            bytes,
            suffix: "\"}]}}".to_owned(),
        }
    }

    /// The `ticker` tool's answer to request `id`: `count` progress notifications, then the
    /// result `ticked <count>`.
    pub(crate) fn ticker(id: &Value, count: u64, interval: Duration, token: Value) -> Produce {
        let result = json!({"jsonrpc": "2.0", "id": id,
            "result": {"content": [{"type": "text", "text": format!("ticked {count}")}]}});
        Produce::Ticker {
            count,
            interval,
            tick: TickKind::Progress(token),
            last: Some(result.to_string()),
        }
    }

    /// A `GET` stream: `count` `notifications/message` events, then the end of the stream.
    pub(crate) fn messages(count: u64, interval: Duration) -> Produce {
        Produce::Ticker {
            count,
            interval,
            tick: TickKind::Message,
            last: None,
        }
    }

    /// Start producing into a one-slot channel on the current runtime.
    pub(crate) fn spawn(self, shared: Arc<Shared>) -> mpsc::Receiver<Bytes> {
        let (tx, rx) = mpsc::channel(1);
        count(&shared, |c| c.started += 1);
        tokio::spawn(async move {
            let finished = match self {
                Produce::Big {
                    prefix,
                    bytes,
                    suffix,
                } => big(&shared, &tx, prefix, bytes, suffix).await,
                Produce::Ticker {
                    count,
                    interval,
                    tick,
                    last,
                } => ticker(&shared, &tx, count, interval, &tick, last).await,
            };
            count(&shared, |c| {
                if finished {
                    c.completed += 1;
                } else {
                    c.abandoned += 1;
                }
            });
        });
        rx
    }
}

fn count(shared: &Shared, f: impl FnOnce(&mut StreamCounters)) {
    let mut st = shared.state.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut st.stream_stats);
}

/// Hand one chunk to the connection; `false` when the client went away.
async fn send(shared: &Shared, tx: &mpsc::Sender<Bytes>, chunk: Bytes, events: u64) -> bool {
    let n = chunk.len() as u64;
    if tx.send(chunk).await.is_err() {
        return false;
    }
    count(shared, |c| {
        c.bytes_sent += n;
        c.events_sent += events;
    });
    true
}

async fn big(
    shared: &Shared,
    tx: &mpsc::Sender<Bytes>,
    prefix: String,
    bytes: u64,
    suffix: String,
) -> bool {
    if !send(shared, tx, Bytes::from(prefix), 0).await {
        return false;
    }
    let block = Bytes::from(PATTERN.repeat(CHUNK / PATTERN.len()));
    let mut left = bytes;
    while left > 0 {
        let n = usize::try_from(left).unwrap_or(CHUNK).min(CHUNK);
        if !send(shared, tx, block.slice(..n), 0).await {
            return false;
        }
        left -= n as u64;
    }
    send(shared, tx, Bytes::from(suffix), 0).await
}

async fn ticker(
    shared: &Shared,
    tx: &mpsc::Sender<Bytes>,
    count: u64,
    interval: Duration,
    tick: &TickKind,
    last: Option<String>,
) -> bool {
    for k in 1..=count {
        if k > 1 {
            tokio::time::sleep(interval).await;
        }
        let message = match tick {
            TickKind::Progress(token) => {
                json!({"jsonrpc": "2.0", "method": "notifications/progress",
                "params": {"progressToken": token, "progress": k, "total": count}})
            }
            TickKind::Message => json!({"jsonrpc": "2.0", "method": "notifications/message",
                "params": {"level": "info", "data": format!("tick {k} of {count}")}}),
        };
        let event = format!("id: {k}\nevent: message\ndata: {message}\n\n");
        if !send(shared, tx, Bytes::from(event), 1).await {
            return false;
        }
    }
    match last {
        Some(result) => {
            let event = format!("id: {}\nevent: message\ndata: {result}\n\n", count + 1);
            send(shared, tx, Bytes::from(event), 1).await
        }
        None => true,
    }
}
