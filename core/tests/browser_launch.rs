//! `BrowserLaunch::Open` hands the authorization URL to the browser as one argument, unmodified,
//! with no shell in between: a URL full of shell metacharacters (as a hostile authorization
//! server can make it) reaches a fake browser (`$BROWSER`, a script that writes its argv to a
//! FIFO) byte for byte, runs nothing, and the flow completes when the "browser" delivers the
//! redirect to the loopback listener.
//!
//! The launching process is this test binary re-executed with `MCP_AUTH_BROWSER_ROLE=launcher`
//! and `--exact child_entry` (a no-op in a normal run), so that `BROWSER` is set only there.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use mcp_auth::Error;
use mcp_auth::authorization::{BrowserLaunch, LoopbackBrowser, RedirectContext, RedirectHandler};

const ROLE: &str = "MCP_AUTH_BROWSER_ROLE";

/// Query parameters a hostile server could put in its authorization endpoint (already in the
/// form the `url` crate serializes, as every authorization URL the client builds is).
const HOSTILE_QUERY: &str = "x=1&calc=a|touch${IFS}pwned-pipe;touch${IFS}pwned-semi&sub=$(touch${IFS}pwned-sub)&tick=`touch${IFS}pwned-tick`&q=%22quoted%22&sq=%27single%27&sp=a%20b+c&amp=%26&caret=^&pct=%25";

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "mcp-auth-browser-{}-{}",
        std::process::id(),
        mcp_auth::pkce::generate_state().secret()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The child: a loopback handler that opens "the system browser" on the hostile URL.
#[test]
fn child_entry() {
    if std::env::var(ROLE).as_deref() != Ok("launcher") {
        return;
    }
    let handler = LoopbackBrowser::bind(0, Duration::from_secs(120), BrowserLaunch::Open).unwrap();
    let redirect_uri = handler.redirect_uri().unwrap();
    let url = format!(
        "https://as.example/authorize?response_type=code&client_id=app&redirect_uri={}&state=st-1&{HOSTILE_QUERY}",
        percent_encoding::utf8_percent_encode(&redirect_uri, percent_encoding::NON_ALPHANUMERIC)
    );
    assert_eq!(
        url::Url::parse(&url).unwrap().as_str(),
        url,
        "the test URL is in serialized form"
    );
    println!("url {url}");
    let http =
        |_r: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, Error> { unreachable!() };
    let ctx = RedirectContext {
        http: &http,
        redirect_uri: &redirect_uri,
    };
    let result = handler.authorize(&url, &ctx).unwrap();
    println!(
        "code {} state {}",
        result.code.secret(),
        result.state.as_deref().unwrap_or("")
    );
}

#[test]
fn the_authorization_url_reaches_the_browser_unmodified_and_no_shell_runs() {
    let dir = tempdir();
    let fifo = dir.join("argv.fifo");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let browser = dir.join("fake-browser");
    std::fs::write(
        &browser,
        "#!/bin/sh\n# Records its argv (NUL-separated) and exits.\n\
         { for a in \"$@\"; do printf '%s\\0' \"$a\"; done; } > \"$ARGV_FIFO\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(ROLE, "launcher")
        .env("BROWSER", &browser)
        .env("ARGV_FIFO", &fifo)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let sent_url = loop {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the child printed no URL"
        );
        if let Some(i) = line.find("url ") {
            break line[i + 4..].trim().to_owned();
        }
    };

    // The browser's argv, read through the FIFO (blocks until the browser writes it).
    let (tx, rx) = mpsc::channel();
    let reader_fifo = fifo.clone();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::fs::File::open(reader_fifo)
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();
        let _ = tx.send(bytes);
    });
    let argv = loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(bytes) => break bytes,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some(status) = child.try_wait().unwrap() {
                    let mut err = String::new();
                    child
                        .stderr
                        .take()
                        .unwrap()
                        .read_to_string(&mut err)
                        .unwrap();
                    panic!("the child exited ({status}) without starting the browser:\n{err}");
                }
            }
            Err(e) => panic!("{e}"),
        }
    };
    let args: Vec<&[u8]> = argv.split(|b| *b == 0).filter(|a| !a.is_empty()).collect();
    assert_eq!(
        args.len(),
        1,
        "the URL was split: {:?}",
        String::from_utf8_lossy(&argv)
    );
    assert_eq!(std::str::from_utf8(args[0]).unwrap(), sent_url);
    assert!(sent_url.contains('&') && sent_url.contains('|') && sent_url.contains(';'));

    // Play the authorization server's redirect back to the listener.
    let parsed = url::Url::parse(&sent_url).unwrap();
    let param = |k: &str| {
        parsed
            .query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    let redirect = url::Url::parse(&param("redirect_uri")).unwrap();
    let mut s = TcpStream::connect(("127.0.0.1", redirect.port().unwrap())).unwrap();
    write!(
        s,
        "GET {}?code=the-code&state={} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        redirect.path(),
        param("state")
    )
    .unwrap();
    let mut page = String::new();
    s.read_to_string(&mut page).unwrap();
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");

    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{rest}");
    assert!(rest.contains("code the-code state st-1"), "{rest}");
    // Nothing the URL spelled was run by a shell.
    for f in [
        "pwned-pipe",
        "pwned-semi",
        "pwned-sub",
        "pwned-tick",
        "pwned",
    ] {
        assert!(!dir.join(f).exists(), "{f} was created: a shell ran");
    }
    let _ = std::fs::remove_dir_all(dir);
}
