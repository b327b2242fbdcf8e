//! The global log callback: the core's `log` records, delivered to the host.

use std::ffi::{CString, c_char, c_void};
use std::sync::RwLock;

use crate::boundary::ffi_boundary;
use crate::status::mcpauth_status;

/// Receives one log record: `level` (1 error, 2 warning, 3 info, 4 debug, 5 trace), `target`
/// (the Rust module, e.g. `"mcp_auth::trace"`) and `message`, both borrowed for the call only.
/// Records never carry a secret (tokens, codes, client secrets); URLs are reduced to their
/// public part. Called from any thread, possibly concurrently: the callback must be
/// thread-safe and must not call back into the library.
pub type mcpauth_log_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        level: i32,
        target: *const c_char,
        message: *const c_char,
    ),
>;

struct Sink {
    callback: unsafe extern "C" fn(*mut c_void, i32, *const c_char, *const c_char),
    /// The host's pointer, only handed back.
    userdata: usize,
    max_level: log::LevelFilter,
}

static SINK: RwLock<Option<Sink>> = RwLock::new(None);

struct HostLogger;

/// The HTTP library's records are delivered from warnings up only.
fn cap(target: &str, max: log::LevelFilter) -> log::LevelFilter {
    if target.starts_with("mcp_auth") {
        max
    } else {
        max.min(log::LevelFilter::Warn)
    }
}

impl log::Log for HostLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        let sink = SINK.read().unwrap_or_else(|p| p.into_inner());
        sink.as_ref()
            .is_some_and(|s| metadata.level() <= cap(metadata.target(), s.max_level))
    }

    fn log(&self, record: &log::Record<'_>) {
        let sink = SINK.read().unwrap_or_else(|p| p.into_inner());
        let Some(s) = sink.as_ref() else { return };
        if record.level() > cap(record.target(), s.max_level) {
            return;
        }
        let clean = |t: String| CString::new(t.replace('\0', " ")).unwrap_or_default();
        let target = clean(record.target().to_owned());
        let message = clean(record.args().to_string());
        // SAFETY: the host registered the callback with this contract (`mcpauth_log_fn`).
        unsafe {
            (s.callback)(
                s.userdata as *mut c_void,
                record.level() as i32,
                target.as_ptr(),
                message.as_ptr(),
            );
        }
    }

    fn flush(&self) {}
}

static LOGGER: HostLogger = HostLogger;

/// Set (or, with `callback` NULL or `max_level` 0, remove) the process-wide log callback: every
/// log record of the library at `max_level` or more severe (1 error, 2 warning, 3 info,
/// 4 debug: every step of every flow, 5 trace) is passed to `callback(userdata, level, target,
/// message)`. Records of the HTTP library underneath are passed from warnings up only. The
/// library never prints anything itself.
///
/// Replaces any previous callback. Not meant to be called while other threads run flows (a
/// record may still reach the previous callback during the switch).
///
/// - `callback`: the callback, or NULL.
/// - `userdata`: handed back to the callback.
/// - `max_level`: 0 (off) to 5 (trace); larger values mean 5.
///
/// Statuses: `MCPAUTH_STATUS_OK`, `MCPAUTH_STATUS_INTERNAL` (the process already has another
/// logger for this library's copy of the Rust `log` crate).
///
/// Thread-safe.
///
/// # Safety
/// `callback` is NULL or follows the contract of `mcpauth_log_fn` for as long as it is set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mcpauth_set_log_callback(
    callback: mcpauth_log_fn,
    userdata: *mut c_void,
    max_level: i32,
) -> mcpauth_status {
    ffi_boundary(|| {
        let max = match max_level {
            i32::MIN..=0 => log::LevelFilter::Off,
            1 => log::LevelFilter::Error,
            2 => log::LevelFilter::Warn,
            3 => log::LevelFilter::Info,
            4 => log::LevelFilter::Debug,
            _ => log::LevelFilter::Trace,
        };
        let installed = log::set_logger(&LOGGER).is_ok()
            || std::ptr::addr_eq(
                log::logger() as *const dyn log::Log,
                &LOGGER as *const HostLogger,
            );
        if !installed {
            return Err(crate::error::FfiError::new(
                mcpauth_status::Internal,
                "another logger is installed for this library".to_owned(),
            ));
        }
        let mut sink = SINK.write().unwrap_or_else(|p| p.into_inner());
        *sink = match (callback, max) {
            (Some(callback), m) if m != log::LevelFilter::Off => Some(Sink {
                callback,
                userdata: userdata as usize,
                max_level: m,
            }),
            _ => None,
        };
        log::set_max_level(sink.as_ref().map_or(log::LevelFilter::Off, |s| s.max_level));
        Ok(())
    })
}
