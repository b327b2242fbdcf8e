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

unsafe extern "C" fn noop_device_code(
    _: *mut c_void,
    _: *const c_char,
    _: *const c_char,
    _: *const c_char,
    _: u64,
) {
}

mod cases;
// The streamed-response exports.
mod stream;

use cases::{bridge, client_api, plain_functions, stateless_functions};

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
