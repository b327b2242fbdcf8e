//! Building and running the C programs (`examples/c`, `ffi/tests/c`, `examples/cpp`) for the
//! C test binaries (`c_examples`, `c_fleet`, `c_stream`), plainly or under valgrind or a
//! sanitizer as `MCPAUTH_TEST_MODE` says (see `c_examples.rs`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Plain,
    Valgrind,
    Asan,
    Tsan,
}

pub fn mode() -> Mode {
    match std::env::var("MCPAUTH_TEST_MODE").as_deref() {
        Ok("valgrind") => Mode::Valgrind,
        Ok("asan") => Mode::Asan,
        Ok("tsan") => Mode::Tsan,
        Ok("") | Err(_) => Mode::Plain,
        Ok(other) => panic!("unknown MCPAUTH_TEST_MODE {other:?} (valgrind, asan, tsan)"),
    }
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `target/<profile>` of this test binary (`target/<profile>/deps/c_examples-…`).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// The directory holding a fresh `libmcpauth.a`.
pub fn lib_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(d) = std::env::var_os("MCPAUTH_LIB_DIR") {
            return PathBuf::from(d);
        }
        let dir = profile_dir();
        let target = dir.parent().unwrap();
        let profile = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "-p", "mcp-auth-ffi"])
            .arg("--target-dir")
            .arg(target)
            .current_dir(root());
        match profile.as_str() {
            "debug" => {}
            "release" => {
                cmd.arg("--release");
            }
            other => {
                cmd.args(["--profile", other]);
            }
        }
        let status = cmd.status().expect("cannot run cargo");
        assert!(status.success(), "cargo build -p mcp-auth-ffi failed");
        dir
    })
}

pub fn out_dir() -> PathBuf {
    profile_dir()
        .join("c-tests")
        .join(format!("{:?}", mode()).to_lowercase())
}

pub fn make(srcdir: &Path, programs: &str) {
    let mut cmd = Command::new("make");
    cmd.arg("-s")
        .arg("-C")
        .arg(root().join("examples/c"))
        .arg(format!("OUT={}", out_dir().display()))
        .arg(format!("LIBDIR={}", lib_dir().display()))
        .arg(format!("SRCDIR={}", srcdir.display()))
        .arg(format!("EXAMPLES={programs}"));
    match mode() {
        Mode::Asan => {
            cmd.arg("SANITIZE=1");
        }
        Mode::Tsan => {
            cmd.arg("SANITIZE=thread");
        }
        _ => {}
    }
    let out = cmd.output().expect("cannot run make");
    assert!(
        out.status.success(),
        "building {programs} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Build the C++ examples (`examples/cpp/Makefile`) into the same directory.
pub fn make_cpp() {
    let mut cmd = Command::new("make");
    cmd.arg("-s")
        .arg("-C")
        .arg(root().join("examples/cpp"))
        .arg(format!("OUT={}", out_dir().display()))
        .arg(format!("LIBDIR={}", lib_dir().display()))
        .arg("SUFFIX=_cpp");
    match mode() {
        Mode::Asan => {
            cmd.arg("SANITIZE=1");
        }
        Mode::Tsan => {
            cmd.arg("SANITIZE=thread");
        }
        _ => {}
    }
    let out = cmd.output().expect("cannot run make");
    assert!(
        out.status.success(),
        "building the C++ examples failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Build every C program once per test process.
pub fn programs() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            make(
                &root().join("examples/c"),
                "quickstart demo probe conformance_client bridge",
            );
            make(
                &root().join("ffi/tests/c"),
                "abi threads cancel tls_probe fleet_store",
            );
            make_cpp();
            let dir = out_dir();
            if mode() == Mode::Asan {
                // Prove the sanitizer is really linked in.
                let nm = Command::new("nm").arg(dir.join("demo")).output().unwrap();
                assert!(
                    String::from_utf8_lossy(&nm.stdout).contains("__asan_init"),
                    "demo is not built with ASan"
                );
            }
            dir
        })
        .clone()
}

/// Run one program (under valgrind in that mode) and return its output; checks the
/// instrumentation's verdict.
pub fn run(program: &str, args: &[&str]) -> Output {
    run_env(program, args, &[])
}

/// Run an instrumented program without judging the instrumentation's report.
pub fn run_raw(program: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(programs().join(program));
    cmd.env(
        "TSAN_OPTIONS",
        format!(
            "halt_on_error=1:exitcode=66:suppressions={}",
            root().join("ffi/tests/tsan.supp").display()
        ),
    );
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).output().expect("cannot run the program")
}

/// [`run`] with extra environment variables.
pub fn run_env(program: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let bin = programs().join(program);
    let (mut cmd, vg_log) = command_for_mode(&bin, program);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().expect("cannot run the program");
    check_reports(&format!("{program} {args:?}"), &out, vg_log);
    out
}

/// `bin` as this mode runs it: under valgrind (with the log it writes, to give to
/// [`check_reports`]), with the sanitizers' options, or plain.
pub fn command_for_mode(bin: &Path, name: &str) -> (Command, Option<PathBuf>) {
    match mode() {
        Mode::Valgrind => {
            let log = out_dir().join(format!(
                "valgrind-{name}-{}-{}.log",
                std::process::id(),
                COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            ));
            let mut cmd = Command::new("valgrind");
            cmd.args([
                "--error-exitcode=1",
                "--leak-check=full",
                "--show-leak-kinds=definite,possible",
                "--errors-for-leak-kinds=definite,possible",
                "--track-origins=yes",
            ])
            .arg(format!(
                "--suppressions={}",
                root().join("ffi/tests/valgrind.supp").display()
            ))
            .arg(format!("--log-file={}", log.display()))
            .arg(bin);
            (cmd, Some(log))
        }
        Mode::Asan => {
            let mut cmd = Command::new(bin);
            cmd.env(
                "ASAN_OPTIONS",
                "detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=86",
            )
            .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
            (cmd, None)
        }
        Mode::Tsan => {
            let mut cmd = Command::new(bin);
            cmd.env(
                "TSAN_OPTIONS",
                format!(
                    "halt_on_error=1:exitcode=66:suppressions={}",
                    root().join("ffi/tests/tsan.supp").display()
                ),
            );
            (cmd, None)
        }
        Mode::Plain => (Command::new(bin), None),
    }
}

/// Fails on what valgrind (its log) or a sanitizer (stderr, exit code) reported for `what`.
pub fn check_reports(what: &str, out: &Output, vg_log: Option<PathBuf>) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    if let Some(log) = vg_log {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            text.contains("ERROR SUMMARY: 0 errors"),
            "valgrind found errors in {what} (exit {:?}):\n{text}\nstderr:\n{stderr}",
            out.status
        );
        assert!(
            !text.contains("definitely lost: ") || text.contains("definitely lost: 0 bytes"),
            "valgrind found leaks in {what}:\n{text}"
        );
        let _ = std::fs::remove_file(log);
    }
    if mode() == Mode::Asan {
        assert!(
            !stderr.contains("ERROR: AddressSanitizer")
                && !stderr.contains("ERROR: LeakSanitizer")
                && !stderr.contains("runtime error:"),
            "sanitizer report in {what}:\n{stderr}"
        );
        assert_ne!(out.status.code(), Some(86), "ASan failure:\n{stderr}");
    }
    if mode() == Mode::Tsan {
        assert!(
            !stderr.contains("WARNING: ThreadSanitizer"),
            "ThreadSanitizer report in {what}:\n{stderr}"
        );
        assert_ne!(out.status.code(), Some(66), "TSan failure:\n{stderr}");
    }
}

pub static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn assert_ok(out: &Output, what: &str) -> String {
    let text = stdout(out);
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\nstdout:\n{text}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    text
}
