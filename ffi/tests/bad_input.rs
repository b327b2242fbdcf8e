//! Bad input on every export.
//!
//! Every function declared in `include/mcpauth.h` has a case here, or the test fails. Each
//! case calls the function with all arguments valid except one, for every argument in turn:
//! NULL for every pointer argument; for every string argument also invalid UTF-8, an empty
//! string and a 1 MiB string. The function must return:
//!
//! - exactly `MCPAUTH_STATUS_NULL_ARGUMENT` for a NULL that is not documented as allowed, and
//!   `MCPAUTH_STATUS_INVALID_UTF8` for invalid UTF-8;
//! - otherwise a status listed in its documentation in the header (`Statuses:` section);
//!
//! with a last-error message (and `mcpauth_last_error_status` equal to the status) whenever it
//! fails, no last error when it succeeds, out-parameters untouched on failure, and never a
//! crash. `_free` functions are called with NULL; the getters that return values directly are
//! called with out-of-range input.

// Test code: every unsafe block calls the C ABI with arguments built right beside it, as its
// documentation requires; a SAFETY comment on each would only repeat that.
#![allow(clippy::undocumented_unsafe_blocks)]

use std::cell::{Cell, UnsafeCell};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{CStr, CString, c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::ptr;
use std::sync::Mutex;

use mcp_auth_demo_server::{DemoConfig, DemoServer};
use mcpauth::*;

// The streamed-response exports (in their own file: this one is long enough).
#[path = "bad_input/stream.rs"]
mod stream;

// ---------------------------------------------------------------------------------------------
// The header: declared functions, their pointer parameters and documented statuses
// ---------------------------------------------------------------------------------------------

struct Decl {
    pointer_params: usize,
    returns_status: bool,
    documented: BTreeSet<i32>,
}

fn status_by_name(name: &str) -> Option<mcpauth_status> {
    mcpauth_status::ALL
        .iter()
        .copied()
        .find(|s| s.name() == name)
}

fn parse_header() -> BTreeMap<String, Decl> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../include/mcpauth.h");
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = BTreeMap::new();
    let mut doc = String::new();
    let mut in_doc = false;
    let mut decl: Option<String> = None;
    for line in text.lines() {
        if let Some(d) = decl.as_mut() {
            d.push(' ');
            d.push_str(line.trim());
        } else if line.starts_with("/**") {
            in_doc = true;
            doc.clear();
            continue;
        } else if in_doc {
            doc.push_str(line);
            doc.push('\n');
            if line.trim_end().ends_with("*/") {
                in_doc = false;
            }
            continue;
        } else if !line.starts_with(' ')
            && !line.starts_with('#')
            && !line.starts_with("typedef")
            && line.contains(" mcpauth_") | line.contains("*mcpauth_")
            && line.contains('(')
        {
            decl = Some(line.trim().to_owned());
        }
        if let Some(d) = decl.clone() {
            if d.ends_with(");") {
                decl = None;
                let open = d.find('(').unwrap();
                let head = &d[..open];
                let name = head.rsplit([' ', '*']).next().unwrap().trim().to_owned();
                let params = &d[open + 1..d.len() - 2];
                let pointer_params = if params.trim() == "void" {
                    0
                } else {
                    params
                        .split(',')
                        .filter(|p| p.contains('*') || p.trim().contains("_fn "))
                        .count()
                };
                let mut documented = BTreeSet::new();
                let mut rest = doc.as_str();
                while let Some(i) = rest.find("MCPAUTH_STATUS_") {
                    rest = &rest[i + "MCPAUTH_STATUS_".len()..];
                    let end = rest
                        .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                        .unwrap_or(rest.len());
                    if end == 0 {
                        continue; // the prefix itself, e.g. "without the `MCPAUTH_STATUS_` prefix"
                    }
                    let s = status_by_name(&rest[..end])
                        .unwrap_or_else(|| panic!("{name}: unknown status {}", &rest[..end]));
                    documented.insert(s as i32);
                }
                out.insert(
                    name,
                    Decl {
                        pointer_params,
                        returns_status: head.starts_with("mcpauth_status "),
                        documented,
                    },
                );
                doc.clear();
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------------

/// What a bad value must produce.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Exactly this status.
    Exact(mcpauth_status),
    /// Any status the header documents for the function.
    Documented,
}

/// One argument of a case: a valid value plus its bad variants.
trait Arg {
    /// How many bad variants.
    fn variants(&self) -> usize;
    /// Select a bad variant (`None`: the valid value).
    fn select(&self, v: Option<usize>);
    fn label(&self, v: usize) -> String;
    fn expect(&self, v: usize) -> Expect;
    /// How many C pointer parameters this argument stands for.
    fn pointers(&self) -> usize;
    /// Called after each call, with whether it succeeded: checks and frees out-parameters.
    fn after(&self, _ok: bool) -> Result<(), String> {
        Ok(())
    }
}

const BIG: usize = 1 << 20;

/// A `const char *` argument.
struct Str {
    good: CString,
    nullable: bool,
    invalid: Vec<u8>,
    empty: CString,
    big: CString,
    sel: Cell<Option<usize>>,
}

impl Str {
    fn new(good: &str, nullable: bool) -> Self {
        Str {
            good: CString::new(good).unwrap(),
            nullable,
            invalid: b"ab\xff\xfe\xc3(cd\0".to_vec(),
            empty: CString::default(),
            big: CString::new(vec![b'a'; BIG]).unwrap(),
            sel: Cell::new(None),
        }
    }
    fn get(&self) -> *const c_char {
        match self.sel.get() {
            None => self.good.as_ptr(),
            Some(0) => ptr::null(),
            Some(1) => self.invalid.as_ptr().cast(),
            Some(2) => self.empty.as_ptr(),
            Some(_) => self.big.as_ptr(),
        }
    }
}

fn req(good: &str) -> Str {
    Str::new(good, false)
}

fn opt(good: &str) -> Str {
    Str::new(good, true)
}

impl Arg for Str {
    fn variants(&self) -> usize {
        4
    }
    fn select(&self, v: Option<usize>) {
        self.sel.set(v);
    }
    fn label(&self, v: usize) -> String {
        ["NULL", "invalid UTF-8", "empty string", "1 MiB string"][v].to_owned()
    }
    fn expect(&self, v: usize) -> Expect {
        match v {
            0 if !self.nullable => Expect::Exact(mcpauth_status::NullArgument),
            1 => Expect::Exact(mcpauth_status::InvalidUtf8),
            _ => Expect::Documented,
        }
    }
    fn pointers(&self) -> usize {
        1
    }
}

const SENTINEL: usize = 0xA5A5_A5A5_A5A5_A5A0;

/// A `char **` out-parameter.
struct OutStr {
    slot: UnsafeCell<*mut c_char>,
    sel: Cell<Option<usize>>,
}

impl OutStr {
    fn new() -> Self {
        OutStr {
            slot: UnsafeCell::new(SENTINEL as *mut c_char),
            sel: Cell::new(None),
        }
    }
    fn get(&self) -> *mut *mut c_char {
        // SAFETY: single-threaded test; the slot lives as long as `self`.
        unsafe { *self.slot.get() = SENTINEL as *mut c_char };
        if self.sel.get().is_some() {
            ptr::null_mut()
        } else {
            self.slot.get()
        }
    }
}

impl Arg for OutStr {
    fn variants(&self) -> usize {
        1
    }
    fn select(&self, v: Option<usize>) {
        self.sel.set(v);
    }
    fn label(&self, _: usize) -> String {
        "NULL out-parameter".to_owned()
    }
    fn expect(&self, _: usize) -> Expect {
        Expect::Exact(mcpauth_status::NullArgument)
    }
    fn pointers(&self) -> usize {
        1
    }
    fn after(&self, ok: bool) -> Result<(), String> {
        // SAFETY: single-threaded test.
        let p = unsafe { *self.slot.get() };
        if self.sel.get().is_some() {
            return Ok(());
        }
        if !ok {
            return if p as usize == SENTINEL {
                Ok(())
            } else {
                Err("out-parameter written on failure".to_owned())
            };
        }
        if p as usize == SENTINEL {
            return Err("out-parameter not written on success".to_owned());
        }
        if !p.is_null() {
            // SAFETY: written by the library on success: a valid string it allocated.
            unsafe {
                let _ = CStr::from_ptr(p).to_bytes().len();
                mcpauth_string_free(p);
            }
        }
        Ok(())
    }
}

/// A `T *` out-parameter of plain data (bool, integers, a borrowed pointer).
struct OutVal<T> {
    slot: UnsafeCell<u64>,
    sel: Cell<Option<usize>>,
    _t: std::marker::PhantomData<T>,
}

impl<T> OutVal<T> {
    fn new() -> Self {
        assert!(std::mem::size_of::<T>() <= 8);
        OutVal {
            slot: UnsafeCell::new(SENTINEL as u64),
            sel: Cell::new(None),
            _t: std::marker::PhantomData,
        }
    }
    fn get(&self) -> *mut T {
        // SAFETY: single-threaded test.
        unsafe { *self.slot.get() = SENTINEL as u64 };
        if self.sel.get().is_some() {
            ptr::null_mut()
        } else {
            self.slot.get().cast()
        }
    }
}

impl<T> Arg for OutVal<T> {
    fn variants(&self) -> usize {
        1
    }
    fn select(&self, v: Option<usize>) {
        self.sel.set(v);
    }
    fn label(&self, _: usize) -> String {
        "NULL out-parameter".to_owned()
    }
    fn expect(&self, _: usize) -> Expect {
        Expect::Exact(mcpauth_status::NullArgument)
    }
    fn pointers(&self) -> usize {
        1
    }
    fn after(&self, ok: bool) -> Result<(), String> {
        // SAFETY: single-threaded test.
        let v = unsafe { *self.slot.get() };
        if self.sel.get().is_none() && !ok && v != SENTINEL as u64 {
            return Err("out-parameter written on failure".to_owned());
        }
        Ok(())
    }
}

/// A `T **` out-parameter receiving a new handle, freed after a success.
struct OutHandle<T> {
    slot: UnsafeCell<*mut T>,
    sel: Cell<Option<usize>>,
    free: unsafe extern "C" fn(*mut T),
}

impl<T> OutHandle<T> {
    fn new(free: unsafe extern "C" fn(*mut T)) -> Self {
        OutHandle {
            slot: UnsafeCell::new(SENTINEL as *mut T),
            sel: Cell::new(None),
            free,
        }
    }
    fn get(&self) -> *mut *mut T {
        // SAFETY: single-threaded test.
        unsafe { *self.slot.get() = SENTINEL as *mut T };
        if self.sel.get().is_some() {
            ptr::null_mut()
        } else {
            self.slot.get()
        }
    }
}

impl<T> Arg for OutHandle<T> {
    fn variants(&self) -> usize {
        1
    }
    fn select(&self, v: Option<usize>) {
        self.sel.set(v);
    }
    fn label(&self, _: usize) -> String {
        "NULL out-parameter".to_owned()
    }
    fn expect(&self, _: usize) -> Expect {
        Expect::Exact(mcpauth_status::NullArgument)
    }
    fn pointers(&self) -> usize {
        1
    }
    fn after(&self, ok: bool) -> Result<(), String> {
        // SAFETY: single-threaded test.
        let p = unsafe { *self.slot.get() };
        if self.sel.get().is_some() {
            return Ok(());
        }
        match (ok, p as usize == SENTINEL) {
            (false, true) => Ok(()),
            (false, false) => Err("out-parameter written on failure".to_owned()),
            (true, true) => Err("out-parameter not written on success".to_owned()),
            (true, false) if p.is_null() => Err("NULL handle on success".to_owned()),
            (true, false) => {
                // SAFETY: a handle the library just created.
                unsafe { (self.free)(p) };
                Ok(())
            }
        }
    }
}

/// A handle argument (`T *` or `const T *`).
struct Handle<T> {
    good: *mut T,
    sel: Cell<Option<usize>>,
}

impl<T> Handle<T> {
    fn new(good: *mut T) -> Self {
        assert!(!good.is_null());
        Handle {
            good,
            sel: Cell::new(None),
        }
    }
    fn get(&self) -> *mut T {
        if self.sel.get().is_some() {
            ptr::null_mut()
        } else {
            self.good
        }
    }
    fn cget(&self) -> *const T {
        self.get()
    }
}

impl<T> Arg for Handle<T> {
    fn variants(&self) -> usize {
        1
    }
    fn select(&self, v: Option<usize>) {
        self.sel.set(v);
    }
    fn label(&self, _: usize) -> String {
        "NULL handle".to_owned()
    }
    fn expect(&self, _: usize) -> Expect {
        Expect::Exact(mcpauth_status::NullArgument)
    }
    fn pointers(&self) -> usize {
        1
    }
}

/// A `(const uint8_t *, size_t)` buffer.
struct Bytes {
    good: Vec<u8>,
    big: Vec<u8>,
    sel: Cell<Option<usize>>,
}

impl Bytes {
    fn new(good: &[u8]) -> Self {
        Bytes {
            good: good.to_vec(),
            big: vec![b'a'; BIG],
            sel: Cell::new(None),
        }
    }
    fn ptr(&self) -> *const u8 {
        match self.sel.get() {
            None => self.good.as_ptr(),
            Some(0) | Some(1) => ptr::null(),
            Some(_) => self.big.as_ptr(),
        }
    }
    fn len(&self) -> usize {
        match self.sel.get() {
            None => self.good.len(),
            Some(0) => 1,
            Some(1) => 0,
            Some(_) => self.big.len(),
        }
    }
}

impl Arg for Bytes {
    fn variants(&self) -> usize {
        3
    }
    fn select(&self, v: Option<usize>) {
        self.sel.set(v);
    }
    fn label(&self, v: usize) -> String {
        ["NULL with length 1", "NULL with length 0", "1 MiB"][v].to_owned()
    }
    fn expect(&self, v: usize) -> Expect {
        match v {
            0 => Expect::Exact(mcpauth_status::NullArgument),
            _ => Expect::Documented,
        }
    }
    fn pointers(&self) -> usize {
        1
    }
}

/// A callback (function pointer typedef) argument.
struct Callback<F: Copy> {
    good: F,
    sel: Cell<Option<usize>>,
    /// NULL is a documented value (it removes the callback), not a NULL-argument error.
    null_allowed: bool,
}

impl<F: Copy> Callback<F> {
    fn new(good: F) -> Self {
        Callback {
            good,
            sel: Cell::new(None),
            null_allowed: false,
        }
    }
    fn nullable(good: F) -> Self {
        Callback {
            null_allowed: true,
            ..Callback::new(good)
        }
    }
    fn get(&self) -> Option<F> {
        if self.sel.get().is_some() {
            None
        } else {
            Some(self.good)
        }
    }
}

impl<F: Copy> Arg for Callback<F> {
    fn variants(&self) -> usize {
        1
    }
    fn select(&self, v: Option<usize>) {
        self.sel.set(v);
    }
    fn label(&self, _: usize) -> String {
        "NULL callback".to_owned()
    }
    fn expect(&self, _: usize) -> Expect {
        if self.null_allowed {
            Expect::Exact(mcpauth_status::Ok)
        } else {
            Expect::Exact(mcpauth_status::NullArgument)
        }
    }
    fn pointers(&self) -> usize {
        1
    }
}

/// A `void *userdata` argument: NULL is allowed.
struct UserData {
    sel: Cell<Option<usize>>,
}

impl UserData {
    fn new() -> Self {
        UserData {
            sel: Cell::new(None),
        }
    }
    fn get(&self) -> *mut c_void {
        if self.sel.get().is_some() {
            ptr::null_mut()
        } else {
            ptr::NonNull::<u64>::dangling().as_ptr().cast()
        }
    }
}

impl Arg for UserData {
    fn variants(&self) -> usize {
        1
    }
    fn select(&self, v: Option<usize>) {
        self.sel.set(v);
    }
    fn label(&self, _: usize) -> String {
        "NULL userdata".to_owned()
    }
    fn expect(&self, _: usize) -> Expect {
        Expect::Documented
    }
    fn pointers(&self) -> usize {
        1
    }
}

// ---------------------------------------------------------------------------------------------
// The runner
// ---------------------------------------------------------------------------------------------

struct Runner {
    header: BTreeMap<String, Decl>,
    covered: Mutex<BTreeMap<String, usize>>,
    failures: Mutex<Vec<String>>,
    calls: Cell<usize>,
}

// SAFETY: `calls` is only touched by the test thread; a Runner is never shared across threads
// (the static below is for the storage callback, which runs on the same thread).
unsafe impl Sync for Runner {}

fn last_message() -> Option<String> {
    let p = mcpauth_last_error_message();
    // SAFETY: a library-owned string, valid until the next call on this thread.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

impl Runner {
    fn fail(&self, msg: String) {
        self.failures.lock().unwrap().push(msg);
    }

    /// Check one status-returning function: every argument in turn gets each bad variant.
    fn case(&self, name: &str, args: &[&dyn Arg], call: &dyn Fn() -> mcpauth_status) {
        let Some(decl) = self.header.get(name) else {
            self.fail(format!("{name}: not declared in the header"));
            return;
        };
        if !decl.returns_status {
            self.fail(format!(
                "{name}: the header says it does not return a status"
            ));
        }
        let pointers: usize = args.iter().map(|a| a.pointers()).sum();
        *self
            .covered
            .lock()
            .unwrap()
            .entry(name.to_owned())
            .or_default() = pointers;
        let check = |label: &str, expect: Expect, s: mcpauth_status| {
            self.calls.set(self.calls.get() + 1);
            let code = s as i32;
            match expect {
                Expect::Exact(e) if s != e => {
                    self.fail(format!("{name} ({label}): returned {s:?}, expected {e:?}"))
                }
                Expect::Documented if !decl.documented.contains(&code) => self.fail(format!(
                    "{name} ({label}): returned {s:?}, which its documentation does not list ({:?}); message: {:?}",
                    decl.documented,
                    last_message()
                )),
                _ => {}
            }
            let message = last_message();
            if s == mcpauth_status::Ok {
                if message.is_some() {
                    self.fail(format!("{name} ({label}): success left a last error"));
                }
            } else {
                if message.as_deref().is_none_or(str::is_empty) {
                    self.fail(format!(
                        "{name} ({label}): {s:?} without a last-error message"
                    ));
                }
                if mcpauth_last_error_status() != s {
                    self.fail(format!(
                        "{name} ({label}): last_error_status differs from {s:?}"
                    ));
                }
            }
            for a in args {
                if let Err(e) = a.after(s == mcpauth_status::Ok) {
                    self.fail(format!("{name} ({label}): {e}"));
                }
            }
        };
        let reset = || args.iter().for_each(|a| a.select(None));
        // All arguments valid.
        reset();
        let s = call();
        check("valid arguments", Expect::Documented, s);
        for (i, arg) in args.iter().enumerate() {
            for v in 0..arg.variants() {
                reset();
                arg.select(Some(v));
                let label = format!("argument {i}: {}", arg.label(v));
                let s = call();
                check(&label, arg.expect(v), s);
            }
        }
        reset();
    }

    /// A function that returns no status: it is called with `inputs` bad values.
    fn plain(&self, name: &str, pointers: usize, call: &dyn Fn()) {
        if !self.header.contains_key(name) {
            self.fail(format!("{name}: not declared in the header"));
        }
        self.covered
            .lock()
            .unwrap()
            .insert(name.to_owned(), pointers);
        self.calls.set(self.calls.get() + 1);
        call();
    }
}

// ---------------------------------------------------------------------------------------------
// Callbacks used as valid values
// ---------------------------------------------------------------------------------------------

unsafe extern "C" fn noop_get(
    _: *mut c_void,
    _: *const c_char,
    _: *const c_char,
    _: *mut mcpauth_reply,
) -> i32 {
    0
}
unsafe extern "C" fn noop_set(
    _: *mut c_void,
    _: *const c_char,
    _: *const c_char,
    _: *const c_char,
    _: *mut mcpauth_reply,
) -> i32 {
    0
}
unsafe extern "C" fn noop_remove(
    _: *mut c_void,
    _: *const c_char,
    _: *const c_char,
    _: *mut mcpauth_reply,
) -> i32 {
    0
}
unsafe extern "C" fn noop_lock(
    _: *mut c_void,
    _: *const c_char,
    _: *const c_char,
    _: u64,
    _: *mut mcpauth_reply,
) -> i32 {
    0
}
unsafe extern "C" fn noop_unlock(
    _: *mut c_void,
    _: *const c_char,
    _: *const c_char,
    _: *mut mcpauth_reply,
) -> i32 {
    0
}
unsafe extern "C" fn noop_redirect(_: *mut c_void, _: *const c_char, _: *mut mcpauth_reply) -> i32 {
    1
}
unsafe extern "C" fn noop_trace(_: *mut c_void, _: *const c_char) {}

/// A storage `get` that runs the reply cases on the reply it receives.
unsafe extern "C" fn reply_cases_get(
    userdata: *mut c_void,
    _: *const c_char,
    _: *const c_char,
    reply: *mut mcpauth_reply,
) -> i32 {
    // SAFETY: the test passes a `&Runner` as userdata.
    let runner = unsafe { &*(userdata as *const Runner) };
    // A panic must not unwind into the library (extern "C"): record it instead.
    let r = catch_unwind(AssertUnwindSafe(|| {
        let (h, value) = (Handle::new(reply), req("{\"access_token\":\"x\"}"));
        runner.case("mcpauth_reply_set_value", &[&h, &value], &|| unsafe {
            mcpauth_reply_set_value(h.get(), value.get())
        });
        let (h, message) = (Handle::new(reply), req("storage is offline"));
        runner.case("mcpauth_reply_set_error", &[&h, &message], &|| unsafe {
            mcpauth_reply_set_error(h.get(), message.get())
        });
    }));
    if r.is_err() {
        runner.fail("reply cases panicked".to_owned());
    }
    1
}

unsafe extern "C" fn noop_url(_: *mut c_void, _: *const c_char, _: bool) {}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

const PRM: &str = r#"{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://as.example.com"],"scopes_supported":["a"]}"#;
const ASM: &str = r#"{"issuer":"https://as.example.com","authorization_endpoint":"https://as.example.com/authorize","token_endpoint":"https://as.example.com/token","scopes_supported":["a","offline_access"],"registration_endpoint":"https://as.example.com/register"}"#;
const CLIENT_INFO: &str = r#"{"client_id":"c1","client_secret":"s","token_endpoint_auth_method":"client_secret_basic","redirect_uris":["http://localhost:3000/callback"]}"#;
const CLIENT_METADATA: &str =
    r#"{"redirect_uris":["http://localhost:3000/callback"],"client_name":"t"}"#;
const TOKEN: &str = r#"{"access_token":"at","token_type":"bearer","expires_in":60}"#;

#[allow(clippy::too_many_lines)]
fn stateless_functions(r: &Runner) {
    macro_rules! case {
        ($f:ident ( $($a:ident),* ) ; $call:expr) => {
            r.case(stringify!($f), &[$(&$a),*], &|| unsafe { $call })
        };
    }
    let (h, f, o) = (
        opt(r#"Bearer scope="a b", error="x""#),
        req("scope"),
        OutStr::new(),
    );
    case!(mcpauth_extract_field_from_www_auth(h, f, o); mcpauth_extract_field_from_www_auth(h.get(), f.get(), o.get()));
    let (h, o) = (opt(r#"Bearer scope="a b""#), OutStr::new());
    case!(mcpauth_extract_scope_from_www_auth(h, o); mcpauth_extract_scope_from_www_auth(h.get(), o.get()));
    let (h, o) = (
        opt(r#"Bearer resource_metadata="https://x/prm""#),
        OutStr::new(),
    );
    case!(mcpauth_extract_resource_metadata_from_www_auth(h, o); mcpauth_extract_resource_metadata_from_www_auth(h.get(), 401, o.get()));
    let (h, o) = (
        req(r#"Basic realm="r", Bearer error="invalid_token""#),
        OutStr::new(),
    );
    case!(mcpauth_parse_www_authenticate(h, o); mcpauth_parse_www_authenticate(h.get(), o.get()));
    let (w, s, o) = (
        opt("https://x/prm"),
        req("https://mcp.example.com/mcp"),
        OutStr::new(),
    );
    case!(mcpauth_build_protected_resource_metadata_discovery_urls(w, s, o); mcpauth_build_protected_resource_metadata_discovery_urls(w.get(), s.get(), o.get()));
    let (a, s, o) = (
        opt("https://as.example.com/t"),
        req("https://mcp.example.com/mcp"),
        OutStr::new(),
    );
    case!(mcpauth_build_oauth_authorization_server_metadata_discovery_urls(a, s, o); mcpauth_build_oauth_authorization_server_metadata_discovery_urls(a.get(), s.get(), o.get()));
    let (u, o) = (req("https://mcp.example.com/mcp"), OutStr::new());
    case!(mcpauth_mcp_origin(u, o); mcpauth_mcp_origin(u.get(), o.get()));
    let (w, p, a, g, o) = (
        opt("a b"),
        opt(PRM),
        opt(ASM),
        opt(r#"["authorization_code","refresh_token"]"#),
        OutStr::new(),
    );
    case!(mcpauth_get_client_metadata_scopes(w, p, a, g, o); mcpauth_get_client_metadata_scopes(w.get(), p.get(), a.get(), g.get(), o.get()));
    let (p, n, o) = (opt("a b"), opt("b c"), OutStr::new());
    case!(mcpauth_union_scopes(p, n, o); mcpauth_union_scopes(p.get(), n.get(), o.get()));
    let (i, m) = (opt("https://as.example.com"), opt(ASM));
    case!(mcpauth_validate_authorization_response_iss(i, m); mcpauth_validate_authorization_response_iss(i.get(), m.get()));
    let (m, e) = (req(ASM), req("https://as.example.com"));
    case!(mcpauth_validate_metadata_issuer(m, e); mcpauth_validate_metadata_issuer(m.get(), e.get()));
    let (a, b, o) = (
        req("https://as.example.com"),
        req("https://as.example.com/"),
        OutVal::<bool>::new(),
    );
    case!(mcpauth_issuers_match(a, b, o); mcpauth_issuers_match(a.get(), b.get(), o.get()));
    let (u, o) = (req("HTTPS://MCP.example.com/mcp#f"), OutStr::new());
    case!(mcpauth_resource_url_from_server_url(u, o); mcpauth_resource_url_from_server_url(u.get(), o.get()));
    let (q, c, o) = (
        req("https://mcp.example.com/mcp/x"),
        req("https://mcp.example.com/mcp"),
        OutVal::<bool>::new(),
    );
    case!(mcpauth_check_resource_allowed(q, c, o); mcpauth_check_resource_allowed(q.get(), c.get(), o.get()));
    let (v, o) = (opt("2025-06-18"), OutVal::<bool>::new());
    case!(mcpauth_should_include_resource_param(v, o); mcpauth_should_include_resource_param(v.get(), false, o.get()));
    let (s, p) = (
        req("https://mcp.example.com/mcp"),
        req("https://mcp.example.com/mcp"),
    );
    case!(mcpauth_validate_resource_match(s, p); mcpauth_validate_resource_match(s.get(), p.get()));
    let (s, p, o) = (req("https://mcp.example.com/mcp"), opt(PRM), OutStr::new());
    case!(mcpauth_resource_param_for(s, p, o); mcpauth_resource_param_for(s.get(), p.get(), o.get()));
    let (u, o) = (req("http://127.0.0.1:8080/cb"), OutVal::<bool>::new());
    case!(mcpauth_is_loopback_url(u, o); mcpauth_is_loopback_url(u.get(), o.get()));
    let u = req("https://as.example.com/token");
    case!(mcpauth_require_secure_url(u); mcpauth_require_secure_url(u.get()));
    let (u, o) = (
        req("https://host.example/client.json"),
        OutVal::<bool>::new(),
    );
    case!(mcpauth_is_valid_client_metadata_url(u, o); mcpauth_is_valid_client_metadata_url(u.get(), o.get()));
    let (a, u, o) = (
        opt(ASM),
        opt("https://host.example/client.json"),
        OutVal::<bool>::new(),
    );
    case!(mcpauth_should_use_client_metadata_url(a, u, o); mcpauth_should_use_client_metadata_url(a.get(), u.get(), o.get()));
    let (u, ru, o) = (
        req("https://host.example/client.json"),
        opt(r#"["http://localhost:3000/callback"]"#),
        OutStr::new(),
    );
    case!(mcpauth_create_client_info_from_metadata_url(u, ru, o); mcpauth_create_client_info_from_metadata_url(u.get(), ru.get(), o.get()));
    let (c, i, u, o) = (
        req(CLIENT_INFO),
        req("https://as.example.com"),
        opt("https://host.example/client.json"),
        OutVal::<bool>::new(),
    );
    case!(mcpauth_credentials_match_issuer(c, i, u, o); mcpauth_credentials_match_issuer(c.get(), i.get(), u.get(), o.get()));
    let c = req(CLIENT_INFO);
    case!(mcpauth_check_registration_usable(c); mcpauth_check_registration_usable(c.get()));
    let (a, m, b, o) = (
        opt(ASM),
        req(CLIENT_METADATA),
        req("https://as.example.com"),
        OutStr::new(),
    );
    case!(mcpauth_create_client_registration_request(a, m, b, o); mcpauth_create_client_registration_request(a.get(), m.get(), b.get(), o.get()));
    let (v, c) = (OutStr::new(), OutStr::new());
    case!(mcpauth_pkce_generate(v, c); mcpauth_pkce_generate(v.get(), c.get()));
    let (v, o) = (
        req("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        OutStr::new(),
    );
    case!(mcpauth_pkce_from_verifier(v, o); mcpauth_pkce_from_verifier(v.get(), o.get()));
    let (v, o) = (
        req("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        OutStr::new(),
    );
    case!(mcpauth_code_challenge_s256(v, o); mcpauth_code_challenge_s256(v.get(), o.get()));
    let o = OutStr::new();
    case!(mcpauth_generate_state(o); mcpauth_generate_state(o.get()));
    let (e, g) = (req("st"), opt("st"));
    case!(mcpauth_verify_state(e, g); mcpauth_verify_state(e.get(), g.get()));
    let (u, o) = (
        req("http://localhost:3000/callback?code=c&state=s&iss=x"),
        OutStr::new(),
    );
    case!(mcpauth_parse_redirect(u, o); mcpauth_parse_redirect(u.get(), o.get()));
    let (i, s, o) = (req("client id"), req("secret"), OutStr::new());
    case!(mcpauth_client_secret_basic_header(i, s, o); mcpauth_client_secret_basic_header(i.get(), s.get(), o.get()));
    let (j, o) = (req(PRM), OutStr::new());
    case!(mcpauth_parse_protected_resource_metadata(j, o); mcpauth_parse_protected_resource_metadata(j.get(), o.get()));
    let (j, o) = (req(ASM), OutStr::new());
    case!(mcpauth_parse_oauth_metadata(j, o); mcpauth_parse_oauth_metadata(j.get(), o.get()));
    let (j, o) = (req(CLIENT_METADATA), OutStr::new());
    case!(mcpauth_parse_client_metadata(j, o); mcpauth_parse_client_metadata(j.get(), o.get()));
    let (j, o) = (req(CLIENT_INFO), OutStr::new());
    case!(mcpauth_parse_client_information(j, o); mcpauth_parse_client_information(j.get(), o.get()));
    let (j, o) = (req(TOKEN), OutStr::new());
    case!(mcpauth_parse_token(j, o); mcpauth_parse_token(j.get(), o.get()));
    let (j, p, o) = (req(r#"{"a":{"b":["x",1]}}"#), req("/a/b/0"), OutStr::new());
    case!(mcpauth_json_get(j, p, o); mcpauth_json_get(j.get(), p.get(), o.get()));
}

const UPSTREAM_HEADERS: &str = r#"[["WWW-Authenticate","Bearer error=\"invalid_token\", resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\""],["Connection","close"],["Access-Control-Expose-Headers","X-Trace"]]"#;
const BRIDGE_OPTIONS: &str = r#"{"resource_metadata_url":"https://proxy.example/prm","cors":{"allowed_origins":["https://app.example"]}}"#;

fn bridge(r: &Runner, server: &DemoServer) {
    macro_rules! case {
        ($f:ident ( $($a:ident),* ) ; $call:expr) => {
            r.case(stringify!($f), &[$(&$a),*], &|| unsafe { $call })
        };
    }
    let (h, g, j, o) = (
        req(UPSTREAM_HEADERS),
        opt("https://app.example"),
        opt(BRIDGE_OPTIONS),
        OutStr::new(),
    );
    case!(mcpauth_bridge_response(h, g, j, o); mcpauth_bridge_response(401, h.get(), g.get(), j.get(), o.get()));
    // With and without a challenge in the last error: the case runs after a failure that
    // carries none; the client tests cover the one that does.
    let (g, j, o) = (
        opt("https://app.example"),
        opt(BRIDGE_OPTIONS),
        OutStr::new(),
    );
    case!(mcpauth_bridge_last_error(g, j, o); mcpauth_bridge_last_error(g.get(), j.get(), o.get()));
    let (h, o) = (req(UPSTREAM_HEADERS), OutStr::new());
    case!(mcpauth_bridge_challenge(h, o); mcpauth_bridge_challenge(403, h.get(), o.get()));
    let (e, o) = (opt("X-Trace, www-authenticate"), OutStr::new());
    case!(mcpauth_bridge_merge_expose_headers(e, o); mcpauth_bridge_merge_expose_headers(e.get(), o.get()));
    let (h, c, o) = (
        req(r#"[["Origin","https://app.example"],["Access-Control-Request-Method","POST"]]"#),
        opt(r#"{"allowed_origins":["https://app.example"],"allow_credentials":true}"#),
        OutStr::new(),
    );
    case!(mcpauth_bridge_preflight(h, c, o); mcpauth_bridge_preflight(h.get(), c.get(), o.get()));
    let (h, o) = (
        req(r#"[["Authorization","Bearer x"],["Host","proxy"],["Origin","https://app.example"]]"#),
        OutStr::new(),
    );
    case!(mcpauth_bridge_upstream_request_headers(h, o); mcpauth_bridge_upstream_request_headers(h.get(), o.get()));
    let (w, u, o) = (
        req(r#"Bearer resource_metadata="https://up/prm", scope="a""#),
        req("https://proxy.example/prm"),
        OutStr::new(),
    );
    case!(mcpauth_bridge_rewrite_resource_metadata(w, u, o); mcpauth_bridge_rewrite_resource_metadata(w.get(), u.get(), o.get()));
    let (b, rs, o) = (
        Bytes::new(PRM.as_bytes()),
        opt("https://proxy.example/mcp"),
        OutStr::new(),
    );
    case!(mcpauth_bridge_relay_protected_resource_metadata(b, rs, o); mcpauth_bridge_relay_protected_resource_metadata(b.ptr(), b.len(), rs.get(), o.get()));
    let prm_url = server.prm_url().unwrap();
    let (u, rs, o) = (
        req(&prm_url),
        opt("https://proxy.example/mcp"),
        OutStr::new(),
    );
    case!(mcpauth_bridge_fetch_protected_resource_metadata(u, rs, o); mcpauth_bridge_fetch_protected_resource_metadata(u.get(), rs.get(), 5000, o.get()));
}

fn new_config(json: &str) -> *mut mcpauth_client_config {
    let json = CString::new(json).unwrap();
    let mut config = ptr::null_mut();
    // SAFETY: valid arguments.
    let s = unsafe { mcpauth_client_config_new(json.as_ptr(), &mut config) };
    assert_eq!(s, mcpauth_status::Ok, "{:?}", last_message());
    config
}

fn new_client(config: *const mcpauth_client_config) -> *mut mcpauth_client {
    let mut client = ptr::null_mut();
    // SAFETY: valid arguments.
    let s = unsafe { mcpauth_client_new(config, &mut client) };
    assert_eq!(s, mcpauth_status::Ok, "{:?}", last_message());
    client
}

#[allow(clippy::too_many_lines)]
fn client_api(r: &Runner, server: &DemoServer) {
    macro_rules! case {
        ($f:ident ( $($a:ident),* ) ; $call:expr) => {
            r.case(stringify!($f), &[$(&$a),*], &|| unsafe { $call })
        };
    }
    let options = format!(
        r#"{{"server_url":"{}","timeout_ms":5000}}"#,
        server.mcp_url()
    );

    let (j, o) = (req(&options), OutHandle::new(mcpauth_client_config_free));
    case!(mcpauth_client_config_new(j, o); mcpauth_client_config_new(j.get(), o.get()));

    let config = new_config(&options);
    let (c, g, s, rm, u) = (
        Handle::new(config),
        Callback::new(noop_get as unsafe extern "C" fn(_, _, _, _) -> _),
        Callback::new(noop_set as unsafe extern "C" fn(_, _, _, _, _) -> _),
        Callback::new(noop_remove as unsafe extern "C" fn(_, _, _, _) -> _),
        UserData::new(),
    );
    case!(mcpauth_client_config_set_storage(c, g, s, rm, u); mcpauth_client_config_set_storage(c.get(), g.get(), s.get(), rm.get(), u.get()));
    let (c, l, ul) = (
        Handle::new(config),
        Callback::new(noop_lock as unsafe extern "C" fn(_, _, _, _, _) -> _),
        Callback::new(noop_unlock as unsafe extern "C" fn(_, _, _, _) -> _),
    );
    case!(mcpauth_client_config_set_storage_lease(c, l, ul); mcpauth_client_config_set_storage_lease(c.get(), l.get(), ul.get()));
    // Both NULL removes the lease; a configuration without storage callbacks has none to add.
    // SAFETY: valid arguments.
    let s = unsafe { mcpauth_client_config_set_storage_lease(config, None, None) };
    assert_eq!(s, mcpauth_status::Ok);
    let bare = new_config(&options);
    // SAFETY: valid arguments.
    let s = unsafe {
        mcpauth_client_config_set_storage_lease(bare, Some(noop_lock), Some(noop_unlock))
    };
    assert_eq!(s, mcpauth_status::InvalidArgument);
    assert!(
        last_message()
            .unwrap()
            .contains("mcpauth_client_config_set_storage first")
    );
    // SAFETY: created above, not used afterwards.
    unsafe { mcpauth_client_config_free(bare) };
    let (c, h, u) = (
        Handle::new(config),
        Callback::new(noop_redirect as unsafe extern "C" fn(_, _, _) -> _),
        UserData::new(),
    );
    case!(mcpauth_client_config_set_redirect_handler(c, h, u); mcpauth_client_config_set_redirect_handler(c.get(), h.get(), u.get()));
    let (c, t, u) = (
        Handle::new(config),
        Callback::new(noop_trace as unsafe extern "C" fn(_, _)),
        UserData::new(),
    );
    case!(mcpauth_client_config_set_trace(c, t, u); mcpauth_client_config_set_trace(c.get(), t.get(), u.get()));
    let (c, t, u) = (
        Handle::new(config),
        Callback::new(noop_url as unsafe extern "C" fn(_, _, _)),
        UserData::new(),
    );
    case!(mcpauth_client_config_set_url_handler(c, t, u); mcpauth_client_config_set_url_handler(c.get(), t.get(), u.get()));
    let (c, o) = (Handle::new(config), OutHandle::new(mcpauth_client_free));
    case!(mcpauth_client_new(c, o); mcpauth_client_new(c.cget(), o.get()));
    // SAFETY: created above, not used afterwards.
    unsafe { mcpauth_client_config_free(config) };

    // A real client against the demo server (headless redirect, memory storage).
    let config = new_config(&options);
    let client = new_client(config);
    // SAFETY: created above, not used afterwards.
    unsafe { mcpauth_client_config_free(config) };
    let ping = br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let (c, m, u, h, b, o) = (
        Handle::new(client),
        req("POST"),
        opt(&server.mcp_url()),
        opt(
            r#"{"Content-Type":"application/json","Accept":"application/json, text/event-stream"}"#,
        ),
        Bytes::new(ping),
        OutHandle::new(mcpauth_response_free),
    );
    case!(mcpauth_client_send(c, m, u, h, b, o); mcpauth_client_send(c.cget(), m.get(), u.get(), h.get(), b.ptr(), b.len(), o.get()));
    let (c, j, o) = (
        Handle::new(client),
        req(std::str::from_utf8(ping).unwrap()),
        OutHandle::new(mcpauth_response_free),
    );
    case!(mcpauth_client_post_json(c, j, o); mcpauth_client_post_json(c.cget(), j.get(), o.get()));
    let (c, o) = (Handle::new(client), OutStr::new());
    case!(mcpauth_client_probe(c, o); mcpauth_client_probe(c.cget(), o.get()));
    let (c, o) = (Handle::new(client), OutStr::new());
    case!(mcpauth_client_discover(c, o); mcpauth_client_discover(c.cget(), o.get()));
    let (c, o) = (Handle::new(client), OutStr::new());
    case!(mcpauth_client_access_token(c, o); mcpauth_client_access_token(c.cget(), o.get()));
    let (c, o) = (Handle::new(client), OutStr::new());
    case!(mcpauth_client_current_token(c, o); mcpauth_client_current_token(c.cget(), o.get()));
    let (c, w, t, o) = (
        Handle::new(client),
        opt(r#"["Bearer error=\"invalid_token\""]"#),
        opt("not-the-current-token"),
        OutStr::new(),
    );
    case!(mcpauth_client_authorize_after(c, w, t, o); mcpauth_client_authorize_after(c.cget(), 401, w.get(), t.get(), o.get()));
    let (c, w, t, o) = (
        Handle::new(client),
        opt(r#"["Bearer error=\"insufficient_scope\", scope=\"mcp:read\""]"#),
        opt("x"),
        OutStr::new(),
    );
    case!(mcpauth_client_authorize_after(c, w, t, o); mcpauth_client_authorize_after(c.cget(), 403, w.get(), t.get(), o.get()));
    let (c, o) = (Handle::new(client), OutStr::new());
    case!(mcpauth_client_granted_scope(c, o); mcpauth_client_granted_scope(c.cget(), o.get()));
    let (c, o) = (Handle::new(client), OutStr::new());
    case!(mcpauth_client_redirect_uri(c, o); mcpauth_client_redirect_uri(c.cget(), o.get()));
    let (c, o) = (Handle::new(client), OutStr::new());
    case!(mcpauth_client_resource_key(c, o); mcpauth_client_resource_key(c.cget(), o.get()));

    // A response to read.
    let mut response = ptr::null_mut();
    let body = CString::new(ping.to_vec()).unwrap();
    // SAFETY: valid arguments.
    let s = unsafe { mcpauth_client_post_json(client, body.as_ptr(), &mut response) };
    assert_eq!(s, mcpauth_status::Ok, "{:?}", last_message());
    let (rh, o) = (Handle::new(response), OutVal::<u16>::new());
    case!(mcpauth_response_status(rh, o); mcpauth_response_status(rh.cget(), o.get()));
    let (rh, d, l) = (
        Handle::new(response),
        OutVal::<*const u8>::new(),
        OutVal::<usize>::new(),
    );
    case!(mcpauth_response_body(rh, d, l); mcpauth_response_body(rh.cget(), d.get(), l.get()));
    let (rh, n, o) = (Handle::new(response), req("content-type"), OutStr::new());
    case!(mcpauth_response_header(rh, n, o); mcpauth_response_header(rh.cget(), n.get(), o.get()));
    let (rh, o) = (Handle::new(response), OutStr::new());
    case!(mcpauth_response_headers_json(rh, o); mcpauth_response_headers_json(rh.cget(), o.get()));
    let (rh, o) = (Handle::new(response), OutStr::new());
    case!(mcpauth_response_challenge_json(rh, o); mcpauth_response_challenge_json(rh.cget(), o.get()));
    let (rh, o) = (Handle::new(response), OutVal::<u32>::new());
    case!(mcpauth_response_authorizations(rh, o); mcpauth_response_authorizations(rh.cget(), o.get()));
    let (rh, o) = (Handle::new(response), OutStr::new());
    case!(mcpauth_response_json_message(rh, o); mcpauth_response_json_message(rh.cget(), o.get()));
    let (rh, g, j, o) = (
        Handle::new(response),
        opt("https://app.example"),
        opt(r#"{"cors":{"allowed_origins":["https://app.example"]}}"#),
        OutStr::new(),
    );
    case!(mcpauth_response_bridge(rh, g, j, o); mcpauth_response_bridge(rh.cget(), g.get(), j.get(), o.get()));
    // SAFETY: created above, not used afterwards.
    unsafe { mcpauth_response_free(response) };

    let c = Handle::new(client);
    case!(mcpauth_client_cancel(c); mcpauth_client_cancel(c.cget()));
    let c = Handle::new(client);
    case!(mcpauth_client_logout(c); mcpauth_client_logout(c.cget()));
    let (c, o) = (Handle::new(client), OutStr::new());
    case!(mcpauth_client_logout_report(c, o); mcpauth_client_logout_report(c.cget(), o.get()));
    let (c, o) = (Handle::new(client), OutStr::new());
    case!(mcpauth_client_forget_client(c, o); mcpauth_client_forget_client(c.cget(), o.get()));
    // SAFETY: created above, not used afterwards.
    unsafe { mcpauth_client_free(client) };

    // The reply functions need a live reply: run their cases inside a storage callback.
    let config = new_config(&options);
    // SAFETY: valid arguments; the runner outlives the client.
    let s = unsafe {
        mcpauth_client_config_set_storage(
            config,
            Some(reply_cases_get),
            Some(noop_set),
            Some(noop_remove),
            r as *const Runner as *mut c_void,
        )
    };
    assert_eq!(s, mcpauth_status::Ok);
    let client = new_client(config);
    let mut response = ptr::null_mut();
    // SAFETY: valid arguments. The storage get fails on purpose (returns 1).
    let s = unsafe { mcpauth_client_post_json(client, body.as_ptr(), &mut response) };
    assert_eq!(s, mcpauth_status::Storage, "{:?}", last_message());
    assert!(response.is_null());
    assert!(
        last_message()
            .unwrap()
            .contains("storage get callback failed (1)")
    );
    // SAFETY: created above, not used afterwards.
    unsafe {
        mcpauth_client_free(client);
        mcpauth_client_config_free(config);
    }
}

unsafe extern "C" fn noop_log(_: *mut c_void, _: i32, _: *const c_char, _: *const c_char) {}

fn plain_functions(r: &Runner) {
    let (cb, u) = (
        Callback::nullable(noop_log as unsafe extern "C" fn(_, _, _, _)),
        UserData::new(),
    );
    r.case("mcpauth_set_log_callback", &[&cb, &u], &|| unsafe {
        mcpauth_set_log_callback(cb.get(), u.get(), 4)
    });
    // SAFETY: removing the callback; nothing else runs meanwhile.
    assert_eq!(
        unsafe { mcpauth_set_log_callback(None, ptr::null_mut(), 0) },
        mcpauth_status::Ok
    );
    macro_rules! case {
        ($f:ident ( $($a:ident),* ) ; $call:expr) => {
            r.case(stringify!($f), &[$(&$a),*], &|| unsafe { $call })
        };
    }
    let o = OutHandle::new(mcpauth_cancel_token_free);
    case!(mcpauth_cancel_token_new(o); mcpauth_cancel_token_new(o.get()));
    let mut token = ptr::null_mut();
    // SAFETY: valid arguments.
    assert_eq!(
        unsafe { mcpauth_cancel_token_new(&mut token) },
        mcpauth_status::Ok
    );
    let t = Handle::new(token);
    case!(mcpauth_cancel_token_cancel(t); mcpauth_cancel_token_cancel(t.cget()));
    // NULL is valid for bind (it unbinds): no NULL case.
    r.plain("mcpauth_cancel_token_bind", 1, &|| unsafe {
        assert_eq!(mcpauth_cancel_token_bind(token), mcpauth_status::Ok);
        assert_eq!(mcpauth_cancel_token_bind(ptr::null()), mcpauth_status::Ok);
    });
    // SAFETY: created above, not used afterwards; NULL is a no-op.
    r.plain("mcpauth_cancel_token_free", 1, &|| unsafe {
        mcpauth_cancel_token_free(token);
        mcpauth_cancel_token_free(ptr::null_mut());
    });
    r.plain("mcpauth_version", 0, &|| {
        assert!(!mcpauth_version().is_null());
    });
    r.plain("mcpauth_abi_version", 0, &|| {
        assert_eq!(mcpauth_abi_version(), MCPAUTH_ABI_VERSION);
    });
    for (name, f) in [
        (
            "mcpauth_status_str",
            mcpauth_status_str as extern "C" fn(i32) -> *const c_char,
        ),
        ("mcpauth_status_name", mcpauth_status_name),
    ] {
        r.plain(name, 0, &|| {
            for code in [
                i32::MIN,
                -1,
                0,
                1,
                99,
                100,
                150,
                151,
                199,
                950,
                999,
                1000,
                i32::MAX,
            ] {
                assert!(!f(code).is_null(), "{name}({code})");
            }
        });
    }
    for (name, f) in [
        (
            "mcpauth_last_error_message",
            mcpauth_last_error_message as extern "C" fn() -> *const c_char,
        ),
        (
            "mcpauth_last_error_oauth_error",
            mcpauth_last_error_oauth_error,
        ),
        (
            "mcpauth_last_error_oauth_error_description",
            mcpauth_last_error_oauth_error_description,
        ),
        (
            "mcpauth_last_error_oauth_error_uri",
            mcpauth_last_error_oauth_error_uri,
        ),
        ("mcpauth_last_error_check", mcpauth_last_error_check),
        (
            "mcpauth_last_error_challenge_json",
            mcpauth_last_error_challenge_json,
        ),
        ("mcpauth_last_error_json", mcpauth_last_error_json),
    ] {
        r.plain(name, 0, &|| {
            // With and without a last error.
            // SAFETY: a NULL out-parameter is a documented error.
            unsafe { mcpauth_generate_state(ptr::null_mut()) };
            assert!(!mcpauth_last_error_message().is_null());
            let _ = f();
            let mut out = ptr::null_mut();
            // SAFETY: valid arguments.
            unsafe {
                mcpauth_union_scopes(ptr::null(), ptr::null(), &mut out);
            }
            assert!(f().is_null(), "{name} after a success");
        });
    }
    r.plain("mcpauth_last_error_status", 0, &|| {
        let _ = mcpauth_last_error_status();
    });
    r.plain("mcpauth_last_error_http_status", 0, &|| {
        let _ = mcpauth_last_error_http_status();
    });
    // SAFETY (all frees): NULL is documented as a no-op.
    r.plain("mcpauth_string_free", 1, &|| unsafe {
        mcpauth_string_free(ptr::null_mut())
    });
    r.plain("mcpauth_client_config_free", 1, &|| unsafe {
        mcpauth_client_config_free(ptr::null_mut())
    });
    r.plain("mcpauth_client_free", 1, &|| unsafe {
        mcpauth_client_free(ptr::null_mut())
    });
    r.plain("mcpauth_response_free", 1, &|| unsafe {
        mcpauth_response_free(ptr::null_mut())
    });
}

#[test]
fn every_export_survives_bad_input() {
    let runner = Runner {
        header: parse_header(),
        covered: Mutex::new(BTreeMap::new()),
        failures: Mutex::new(Vec::new()),
        calls: Cell::new(0),
    };
    assert!(
        runner.header.len() > 70,
        "the header parser found only {} functions",
        runner.header.len()
    );
    let server = DemoServer::start(DemoConfig::default()).unwrap();
    plain_functions(&runner);
    stateless_functions(&runner);
    client_api(&runner, &server);
    bridge(&runner, &server);
    stream::stream_api(&runner, &server);

    let covered = runner.covered.lock().unwrap();
    let mut failures = runner.failures.lock().unwrap().clone();
    for (name, decl) in &runner.header {
        match covered.get(name) {
            None => failures.push(format!("{name}: no bad-input case")),
            Some(&n) if n != decl.pointer_params => failures.push(format!(
                "{name}: the case covers {n} pointer arguments, the header declares {}",
                decl.pointer_params
            )),
            Some(_) => {}
        }
        if decl.returns_status && !decl.documented.contains(&(mcpauth_status::Ok as i32)) {
            failures.push(format!("{name}: its documentation lists no statuses"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "bad input: {} functions, {} calls",
        covered.len(),
        runner.calls.get()
    );
}
