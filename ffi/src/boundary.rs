//! The one way in and out of the library: the panic boundary, argument readers and
//! out-parameter writers. Every export goes through [`ffi_boundary`] (or [`ffi_void`] for the
//! `_free` functions), so a panic becomes `MCPAUTH_STATUS_PANIC`, never an abort, and every
//! pointer is checked before use.

use std::any::Any;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;

use zeroize::Zeroize;

use crate::error::{FfiError, clear_last_error, set_last_error};
use crate::status::mcpauth_status;

/// `Result` of a body running inside the boundary.
pub(crate) type FfiResult<T = ()> = Result<T, FfiError>;

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_owned()
    }
}

/// Run the body of a status-returning export: clear the last error, catch panics, record the
/// error on failure.
pub(crate) fn ffi_boundary(body: impl FnOnce() -> FfiResult) -> mcpauth_status {
    clear_last_error();
    // A per-call cancel token bound to this thread (`mcpauth_cancel_token_bind`) covers it.
    match catch_unwind(AssertUnwindSafe(|| crate::cancel::under_bound(body))) {
        Ok(Ok(())) => mcpauth_status::Ok,
        Ok(Err(e)) => {
            let status = e.status;
            set_last_error(e);
            status
        }
        Err(payload) => {
            let message = format!("internal panic: {}", panic_message(&*payload));
            // Dropping a payload can itself panic; never let that escape.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            set_last_error(FfiError::new(mcpauth_status::Panic, message));
            mcpauth_status::Panic
        }
    }
}

/// Run the body of an export that returns a value directly (the version and status-name
/// functions, the last-error getters): a panic gives `default`; the last error is left alone.
pub(crate) fn ffi_value<T>(default: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(payload) => {
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            default
        }
    }
}

/// Run the body of an export that returns nothing (the `_free` functions): panics are caught
/// and dropped; the last error is left alone.
pub(crate) fn ffi_void(body: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(body)) {
        let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    }
}

// ---------------------------------------------------------------------------------------------
// Arguments in
// ---------------------------------------------------------------------------------------------

/// A required string argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that stays valid and unchanged for `'a`.
pub(crate) unsafe fn req_str<'a>(p: *const c_char, name: &str) -> FfiResult<&'a str> {
    // SAFETY: forwarded from the caller.
    unsafe { opt_str(p, name) }?.ok_or_else(|| FfiError::null(name))
}

/// An optional string argument: NULL is `None`.
///
/// # Safety
/// As [`req_str`].
pub(crate) unsafe fn opt_str<'a>(p: *const c_char, name: &str) -> FfiResult<Option<&'a str>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL, and the caller guarantees a valid NUL-terminated string.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str().map(Some).map_err(|e| {
        FfiError::new(
            mcpauth_status::InvalidUtf8,
            format!(
                "argument '{name}' is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

/// A byte buffer argument: `(ptr, len)`, where `ptr` may be NULL only when `len` is 0.
///
/// # Safety
/// `p` is NULL or valid for reads of `len` bytes for `'a`.
pub(crate) unsafe fn bytes<'a>(p: *const u8, len: usize, name: &str) -> FfiResult<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(FfiError::new(
            mcpauth_status::NullArgument,
            format!("argument '{name}' must not be NULL when its length is not 0"),
        ));
    }
    if len > isize::MAX as usize {
        return Err(FfiError::invalid(name, "length too large"));
    }
    // SAFETY: non-NULL, `len` fits `isize`, and the caller guarantees `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A borrowed handle (`const T *`).
///
/// # Safety
/// `p` is NULL or a live handle of type `T` created by this library and not yet freed, not
/// mutated for `'a`.
pub(crate) unsafe fn handle<'a, T>(p: *const T, name: &str) -> FfiResult<&'a T> {
    // SAFETY: forwarded from the caller.
    unsafe { p.as_ref() }.ok_or_else(|| FfiError::null(name))
}

/// A borrowed mutable handle (`T *`).
///
/// # Safety
/// `p` is NULL or a live handle of type `T` created by this library, not yet freed, and not
/// used by any other thread for `'a`.
pub(crate) unsafe fn handle_mut<'a, T>(p: *mut T, name: &str) -> FfiResult<&'a mut T> {
    // SAFETY: forwarded from the caller.
    unsafe { p.as_mut() }.ok_or_else(|| FfiError::null(name))
}

/// Move a value into a new handle owned by the caller.
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Take back and drop a handle; NULL is a no-op.
///
/// # Safety
/// `p` is NULL or a handle from [`into_handle`] with the same `T` that was not freed yet.
pub(crate) unsafe fn free_handle<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: the caller guarantees ownership of a `Box<T>` allocation.
        drop(unsafe { Box::from_raw(p) });
    }
}

// ---------------------------------------------------------------------------------------------
// Out-parameters
// ---------------------------------------------------------------------------------------------

/// A checked out-parameter: validated non-NULL up front, written once at the end, only on
/// success.
pub(crate) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    /// # Safety
    /// `p` is NULL or valid for a write of `T` until [`Out::write`] is called.
    pub(crate) unsafe fn new(p: *mut T, name: &str) -> FfiResult<Self> {
        NonNull::new(p).map(Out).ok_or_else(|| FfiError::null(name))
    }

    /// Write the value (the previous content is not read nor dropped).
    pub(crate) fn write(self, value: T) {
        // SAFETY: `new`'s contract: valid for one write of `T`.
        unsafe { self.0.as_ptr().write(value) }
    }
}

/// A new library-owned C string with the bytes of `s`, allocated at its exact size so that the
/// only copy of a secret is the one [`mcpauth_string_free`] zeroizes.
pub(crate) fn alloc_cstring(s: &[u8]) -> FfiResult<*mut c_char> {
    if s.contains(&0) {
        return Err(FfiError::internal(
            "result contains a NUL byte and cannot be returned as a C string",
        ));
    }
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s);
    v.push(0);
    let c = CString::from_vec_with_nul(v)
        .map_err(|_| FfiError::internal("result is not a valid C string"))?;
    Ok(c.into_raw())
}

impl Out<*mut c_char> {
    /// Write a new string (to be freed with `mcpauth_string_free`).
    pub(crate) fn write_str(self, s: &str) -> FfiResult {
        let p = alloc_cstring(s.as_bytes())?;
        self.write(p);
        Ok(())
    }

    /// Write a new string, or NULL for `None`.
    pub(crate) fn write_opt_str(self, s: Option<&str>) -> FfiResult {
        match s {
            Some(s) => self.write_str(s),
            None => {
                self.write(std::ptr::null_mut());
                Ok(())
            }
        }
    }

    /// Write a value as compact JSON.
    pub(crate) fn write_json<S: serde::Serialize + ?Sized>(self, value: &S) -> FfiResult {
        let mut json = serde_json::to_string(value)
            .map_err(|e| FfiError::internal(format!("cannot serialize the result: {e}")))?;
        let r = self.write_str(&json);
        json.zeroize();
        r
    }
}

/// Free a string returned by this library (through a `char **` out-parameter), after
/// overwriting its bytes with zeros: tokens, codes and secrets pass through such strings.
///
/// NULL is a no-op. Never pass a string that this library did not return, a string returned
/// by a `const char *` getter (those are library-owned), or the same string twice. Never free
/// these strings with the C `free`. Thread-safe.
///
/// # Safety
/// `s` is NULL or a string returned through an out-parameter of this library and not freed
/// yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_string_free(s: *mut c_char) {
    ffi_void(|| {
        if s.is_null() {
            return;
        }
        // SAFETY: the caller guarantees `s` came from `alloc_cstring` (`CString::into_raw`).
        let c = unsafe { CString::from_raw(s) };
        let mut bytes = c.into_bytes_with_nul();
        bytes.zeroize();
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{mcpauth_last_error_message, mcpauth_last_error_status};

    #[test]
    fn a_panic_becomes_a_status_with_a_message() {
        let s = ffi_boundary(|| panic!("boom {}", 42));
        assert_eq!(s, mcpauth_status::Panic);
        assert_eq!(mcpauth_last_error_status(), mcpauth_status::Panic);
        // SAFETY: the getter returns a valid string while no other call is made.
        let msg = unsafe { CStr::from_ptr(mcpauth_last_error_message()) };
        assert_eq!(msg.to_str().unwrap(), "internal panic: boom 42");
        // The next call clears it.
        assert_eq!(ffi_boundary(|| Ok(())), mcpauth_status::Ok);
        assert!(mcpauth_last_error_message().is_null());
        ffi_void(|| panic!("ignored"));
        assert_eq!(ffi_value(7, || panic!("ignored")), 7);
    }

    #[test]
    fn strings_round_trip_and_are_freed() {
        let p = alloc_cstring(b"secret").unwrap();
        // SAFETY: `p` was just allocated by `alloc_cstring`.
        unsafe {
            assert_eq!(CStr::from_ptr(p).to_str().unwrap(), "secret");
            mcpauth_string_free(p);
            mcpauth_string_free(std::ptr::null_mut());
        }
        assert!(alloc_cstring(b"a\0b").is_err());
    }
}
