//! Cancellation of the calls in progress on a client.
//!
//! Every [`crate::Client`] owns a [`CancelToken`] (see [`crate::Client::cancel_token`]).
//! [`CancelToken::cancel`] cancels every call that is in progress on that client when it is
//! called, from any thread; those calls return [`crate::Error::Cancelled`] at their next
//! checkpoint, and calls started afterwards run normally (no reset needed).
//!
//! Checkpoints are:
//! - before and after every HTTP request of a flow (discovery, registration, token endpoint,
//!   the MCP request itself), and between the steps;
//! - the loopback redirect wait ([`crate::authorization::LoopbackBrowser`]), which polls in
//!   25 ms slices;
//! - [`checkpoint`], which custom redirect handlers may call while they wait.
//!
//! **One call only:** [`CancelToken::scope`] runs a closure with a token of its own entered on
//! the current thread; cancelling that token cancels the calls made inside the closure and
//! nothing else (other calls on the same client go on). A token used this way is one-shot: a
//! cancel made before the scope was entered counts too (an asyncio task or an `AbortSignal`
//! cancelled before its worker started). This serves per-request cancellation in the
//! bindings (Python `AsyncClient`, Node `AbortSignal`).
//!
//! What stays bounded only by the HTTP timeouts: an HTTP request already on the wire (the
//! blocking `ureq` transport has no way to abort it), and a caller-supplied redirect callback
//! that does not call [`checkpoint`]. The cancel takes effect as soon as that request or
//! callback returns.
//!
//! The calls in progress are tracked per thread: a public call enters its client's token on
//! the calling thread for its duration, and [`checkpoint`] checks every token entered on the
//! current thread. Work a call hands to helper threads (concurrent discovery probes) is
//! checked when it comes back.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// A handle that cancels the calls in progress on one client. Cheap to clone, `Send + Sync`:
/// give it to another thread, a signal handler's worker, a UI button.
#[derive(Clone, Debug, Default)]
pub struct CancelToken {
    epoch: Arc<AtomicU64>,
}

impl CancelToken {
    /// A new token (nothing cancelled).
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancel every call in progress on the client(s) using this token. Calls started after
    /// this returns are not affected.
    pub fn cancel(&self) {
        log::debug!("cancel requested");
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }

    fn current(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Whether [`CancelToken::cancel`] was ever called on this token (or a clone).
    pub fn is_cancelled(&self) -> bool {
        self.current() != 0
    }

    /// Run `f` with this token entered on the current thread as a one-shot, per-call token:
    /// every call `f` makes on any client returns [`Error::Cancelled`] at its next checkpoint
    /// once this token is cancelled, including when it was cancelled before `f` started.
    /// Other calls on the same clients are not affected.
    ///
    /// ```
    /// let call = mcp_auth::CancelToken::new();
    /// let handle = call.clone(); // give it to whoever may abandon this one call
    /// handle.cancel();
    /// let r = call.scope(|| mcp_auth::cancel::checkpoint());
    /// assert_eq!(r.unwrap_err().kind(), mcp_auth::ErrorKind::Cancelled);
    /// ```
    pub fn scope<T>(&self, f: impl FnOnce() -> T) -> T {
        ACTIVE.with(|a| a.borrow_mut().push((self.epoch.clone(), 0)));
        let _entered = Entered { _private: () };
        f()
    }

    /// Mark the start of a call on this thread; the call is cancelled by any
    /// [`CancelToken::cancel`] after this point, until the guard is dropped.
    pub(crate) fn enter(&self) -> Entered {
        ACTIVE.with(|a| a.borrow_mut().push((self.epoch.clone(), self.current())));
        Entered { _private: () }
    }
}

thread_local! {
    /// The tokens entered on this thread, with the epoch each call started in.
    static ACTIVE: RefCell<Vec<(Arc<AtomicU64>, u64)>> = const { RefCell::new(Vec::new()) };
}

/// Leaves the call's cancel scope when dropped.
pub(crate) struct Entered {
    _private: (),
}

impl Drop for Entered {
    fn drop(&mut self) {
        ACTIVE.with(|a| {
            a.borrow_mut().pop();
        });
    }
}

/// Whether a call in progress on this thread has been cancelled.
pub fn is_cancelled() -> bool {
    ACTIVE.with(|a| {
        a.borrow()
            .iter()
            .any(|(epoch, start)| epoch.load(Ordering::SeqCst) != *start)
    })
}

/// Return [`Error::Cancelled`] if a call in progress on this thread has been cancelled.
/// Redirect handlers that wait (for a user, a device, a web view) call it between short
/// waits so that a cancel returns promptly.
///
/// # Errors
/// [`Error::Cancelled`] when cancelled.
pub fn checkpoint() -> Result<()> {
    if is_cancelled() {
        log::debug!("call cancelled");
        return Err(Error::Cancelled);
    }
    Ok(())
}

/// The HTTP seam with a checkpoint before and after every request.
pub(crate) struct CheckedHttp(pub(crate) Arc<dyn crate::http::HttpClient>);

impl crate::http::HttpClient for CheckedHttp {
    fn execute(&self, request: http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>> {
        checkpoint()?;
        let response = self.0.execute(request)?;
        checkpoint()?;
        Ok(response)
    }

    fn execute_streamed(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<crate::http::StreamedResponse> {
        checkpoint()?;
        let response = self.0.execute_streamed(request)?;
        checkpoint()?;
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_affects_calls_in_progress_only() {
        let token = CancelToken::new();
        assert!(checkpoint().is_ok());
        {
            let _call = token.enter();
            assert!(checkpoint().is_ok());
            token.cancel();
            assert_eq!(
                checkpoint().unwrap_err().kind(),
                crate::ErrorKind::Cancelled
            );
        }
        assert!(checkpoint().is_ok());
        let _next = token.enter();
        assert!(checkpoint().is_ok(), "a call started after the cancel runs");
    }

    #[test]
    fn a_call_scope_is_cancelled_alone_and_counts_an_earlier_cancel() {
        let client = CancelToken::new();
        let call_a = CancelToken::new();
        let call_b = CancelToken::new();
        let _client_call = client.enter();
        call_a.scope(|| {
            assert!(checkpoint().is_ok());
            call_a.cancel();
            assert!(checkpoint().is_err());
        });
        call_b.scope(|| assert!(checkpoint().is_ok(), "another call is not affected"));
        assert!(checkpoint().is_ok(), "the client's calls are not affected");
        let early = CancelToken::new();
        early.cancel();
        early.scope(|| assert!(checkpoint().is_err(), "a cancel before the scope counts"));
    }

    #[test]
    fn nested_calls_see_the_outer_cancel() {
        let a = CancelToken::new();
        let b = CancelToken::new();
        let _outer = a.enter();
        let _inner = b.enter();
        a.cancel();
        assert!(is_cancelled());
    }
}
