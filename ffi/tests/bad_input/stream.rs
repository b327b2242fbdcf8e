//! Bad input on the streamed-response exports (`mcpauth_client_send_streamed`,
//! `mcpauth_stream_*`), with the runner of `main.rs`.

use std::cell::{Cell, UnsafeCell};
use std::ffi::CString;
use std::ptr;

use mcp_auth_demo_server::DemoServer;
use mcpauth::*;

use super::cases::{new_client, new_config};
use super::{
    Arg, Bytes, Expect, Handle, OutHandle, OutStr, OutVal, Runner, last_message, opt, req,
};

/// A `(uint8_t *, size_t)` buffer the library writes into.
struct Buf {
    data: UnsafeCell<Vec<u8>>,
    sel: Cell<Option<usize>>,
}

impl Buf {
    fn new(cap: usize) -> Self {
        Buf {
            data: UnsafeCell::new(vec![0; cap]),
            sel: Cell::new(None),
        }
    }
    fn ptr(&self) -> *mut u8 {
        if self.sel.get().is_some() {
            ptr::null_mut()
        } else {
            // SAFETY: single-threaded test; the buffer lives as long as `self`.
            unsafe { (*self.data.get()).as_mut_ptr() }
        }
    }
    fn cap(&self) -> usize {
        // SAFETY: single-threaded test.
        unsafe { (*self.data.get()).len() }
    }
}

impl Arg for Buf {
    fn variants(&self) -> usize {
        1
    }
    fn select(&self, v: Option<usize>) {
        self.sel.set(v);
    }
    fn label(&self, _: usize) -> String {
        "NULL buffer".to_owned()
    }
    fn expect(&self, _: usize) -> Expect {
        Expect::Exact(mcpauth_status::NullArgument)
    }
    fn pointers(&self) -> usize {
        1
    }
}

fn call_ticker() -> Vec<u8> {
    br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"ticker","arguments":{"count":2,"interval_ms":1}}}"#.to_vec()
}

const HEADERS: &str =
    r#"{"Content-Type":"application/json","Accept":"application/json, text/event-stream"}"#;

/// A stream of `body` posted to the MCP endpoint.
fn open(client: *const mcpauth_client, body: &[u8]) -> *mut mcpauth_stream {
    let (m, h) = (
        CString::new("POST").unwrap(),
        CString::new(HEADERS).unwrap(),
    );
    let mut stream = ptr::null_mut();
    // SAFETY: valid arguments.
    let s = unsafe {
        mcpauth_client_send_streamed(
            client,
            m.as_ptr(),
            ptr::null(),
            h.as_ptr(),
            body.as_ptr(),
            body.len(),
            &mut stream,
        )
    };
    assert_eq!(s, mcpauth_status::Ok, "{:?}", last_message());
    stream
}

pub(super) fn stream_api(r: &Runner, server: &DemoServer) {
    macro_rules! case {
        ($f:ident ( $($a:ident),* ) ; $call:expr) => {
            r.case(stringify!($f), &[$(&$a),*], &|| unsafe { $call })
        };
    }
    let options = format!(
        r#"{{"server_url":"{}","redirect":{{"type":"headless"}},"timeout_ms":5000}}"#,
        server.mcp_url()
    );
    let config = new_config(&options);
    let client = new_client(config);
    // SAFETY: created above, not used afterwards.
    unsafe { mcpauth_client_config_free(config) };

    let ping = br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let (c, m, u, h, b, o) = (
        Handle::new(client),
        req("POST"),
        opt(&server.mcp_url()),
        opt(HEADERS),
        Bytes::new(ping),
        OutHandle::new(mcpauth_stream_free),
    );
    case!(mcpauth_client_send_streamed(c, m, u, h, b, o); mcpauth_client_send_streamed(c.cget(), m.get(), u.get(), h.get(), b.ptr(), b.len(), o.get()));

    // The getters and the byte reads on a JSON answer.
    let stream = open(client, ping);
    let (sh, o) = (Handle::new(stream), OutVal::<u16>::new());
    case!(mcpauth_stream_status(sh, o); mcpauth_stream_status(sh.cget(), o.get()));
    let (sh, n, o) = (Handle::new(stream), req("content-type"), OutStr::new());
    case!(mcpauth_stream_header(sh, n, o); mcpauth_stream_header(sh.cget(), n.get(), o.get()));
    let (sh, o) = (Handle::new(stream), OutStr::new());
    case!(mcpauth_stream_headers_json(sh, o); mcpauth_stream_headers_json(sh.cget(), o.get()));
    let (sh, o) = (Handle::new(stream), OutStr::new());
    case!(mcpauth_stream_challenge_json(sh, o); mcpauth_stream_challenge_json(sh.cget(), o.get()));
    let (sh, o) = (Handle::new(stream), OutVal::<u32>::new());
    case!(mcpauth_stream_authorizations(sh, o); mcpauth_stream_authorizations(sh.cget(), o.get()));
    let (sh, o) = (Handle::new(stream), OutVal::<bool>::new());
    case!(mcpauth_stream_is_event_stream(sh, o); mcpauth_stream_is_event_stream(sh.cget(), o.get()));
    let (sh, bf, o) = (Handle::new(stream), Buf::new(7), OutVal::<usize>::new());
    case!(mcpauth_stream_read(sh, bf, o); mcpauth_stream_read(sh.get(), bf.ptr(), bf.cap(), o.get()));
    // A zero capacity is refused, not taken for the end of the body.
    let mut n = usize::MAX;
    let mut one = [0u8; 1];
    // SAFETY: valid arguments but the capacity.
    let s = unsafe { mcpauth_stream_read(stream, one.as_mut_ptr(), 0, &mut n) };
    assert_eq!(s, mcpauth_status::InvalidArgument);
    assert_eq!(n, usize::MAX, "out_len untouched on failure");

    // Events, then bytes can no longer be read.
    let events = open(client, &call_ticker());
    let (sh, o) = (Handle::new(events), OutStr::new());
    case!(mcpauth_stream_next_event(sh, o); mcpauth_stream_next_event(sh.get(), o.get()));
    // SAFETY: valid arguments.
    let s = unsafe { mcpauth_stream_read(events, one.as_mut_ptr(), 1, &mut n) };
    assert_eq!(s, mcpauth_status::InvalidArgument);
    assert!(
        last_message()
            .unwrap()
            .contains("mcpauth_stream_next_event")
    );

    // SAFETY: created above, not used afterwards; NULL is documented as a no-op.
    unsafe {
        mcpauth_stream_free(stream);
        mcpauth_stream_free(events);
        mcpauth_client_free(client);
    }
    r.plain("mcpauth_stream_free", 1, &|| unsafe {
        mcpauth_stream_free(ptr::null_mut())
    });
}
