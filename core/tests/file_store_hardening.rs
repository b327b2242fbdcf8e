//! `FileStorage` against another local user and against a hung process: files planted at the
//! names an attacker can predict are never followed, a lock held by someone else ends in a
//! clear `Storage` error at the deadline with the credential file untouched, and a credential
//! file that others may read is narrowed to 0600.
//!
//! The "hung process" is this test binary re-executed with `MCP_AUTH_LOCK_ROLE=holder` and
//! `--exact child_entry` (a no-op in a normal run): it takes the store's lock and keeps it until
//! its stdin closes.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mcp_auth::ErrorKind;
use mcp_auth::metadata::{OAuthClientInformationFull, OAuthToken};
use mcp_auth::storage::{FileStorage, TokenStorage};

const ROLE: &str = "MCP_AUTH_LOCK_ROLE";

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "mcp-auth-hardening-{tag}-{}-{}",
        std::process::id(),
        mcp_auth::pkce::generate_state().secret()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn token(access: &str) -> OAuthToken {
    let mut t = OAuthToken::new(access);
    t.refresh_token = Some(format!("{access}-refresh").into());
    t
}

fn access_of(storage: &FileStorage, key: &str) -> Option<String> {
    storage
        .get_tokens(key)
        .unwrap()
        .map(|t| t.access_token.secret().to_owned())
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A file of the victim's that a planted symlink points to.
fn victim(dir: &Path) -> (PathBuf, Vec<u8>) {
    let path = dir.join("victim-ssh-config");
    let bytes = b"Host *\n  IdentityFile ~/.ssh/id_ed25519\n".to_vec();
    std::fs::write(&path, &bytes).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    (path, bytes)
}

/// The entry point of the child process (a no-op in the normal test run).
#[test]
fn child_entry() {
    if std::env::var(ROLE).as_deref() == Ok("holder") {
        let lock = std::env::var("LOCK_PATH").unwrap();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(lock)
            .unwrap();
        fs4::FileExt::lock(&file).unwrap();
        println!("locked");
        // Hold the lock until the parent closes our stdin (a hung process, as seen from the
        // store).
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        drop(file);
    }
}

#[test]
fn symlinks_planted_at_every_predictable_temp_name_are_not_followed() {
    let dir = tempdir("symlink");
    let path = dir.join("credentials.json");
    let (target, original) = victim(&dir);
    let me = std::process::id();
    // Every name the old `<file>.tmp-<pid>` scheme would use for this process and its
    // neighbours, and a few other plausible names.
    let mut planted = Vec::new();
    for pid in me.saturating_sub(64)..=me + 64 {
        planted.push(dir.join(format!("credentials.json.tmp-{pid}")));
    }
    for name in [
        "credentials.json.tmp",
        "credentials.json.tmp-",
        "credentials.json.new",
        ".credentials.json.tmp",
    ] {
        planted.push(dir.join(name));
    }
    for link in &planted {
        std::os::unix::fs::symlink(&target, link).unwrap();
    }

    let store = FileStorage::new(&path);
    store
        .set_tokens("https://r.example/mcp", &token("first"))
        .unwrap();
    store
        .set_client_info(
            "https://as.example",
            &OAuthClientInformationFull::new("client-1"),
        )
        .unwrap();
    store
        .set_tokens("https://r.example/mcp", &token("second"))
        .unwrap();

    assert_eq!(
        std::fs::read(&target).unwrap(),
        original,
        "the symlink target was written"
    );
    assert_eq!(mode(&target), 0o644, "the symlink target was chmod'ed");
    let meta = std::fs::symlink_metadata(&path).unwrap();
    assert!(
        meta.file_type().is_file(),
        "the credential file is a symlink"
    );
    assert_eq!(mode(&path), 0o600);
    let fresh = FileStorage::new(&path);
    assert_eq!(
        access_of(&fresh, "https://r.example/mcp").as_deref(),
        Some("second")
    );
    assert_eq!(
        fresh
            .get_client_info("https://as.example")
            .unwrap()
            .unwrap()
            .client_id,
        "client-1"
    );
    // No temp file of ours left next to the store.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("credentials.json.tmp-")
                && std::fs::symlink_metadata(p).unwrap().file_type().is_file()
        })
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_symlink_planted_at_the_lock_file_is_not_followed() {
    let dir = tempdir("locklink");
    let path = dir.join("credentials.json");
    let store = FileStorage::new(&path);
    store
        .set_tokens("https://r.example/mcp", &token("kept"))
        .unwrap();
    let committed = std::fs::read(&path).unwrap();
    std::fs::remove_file(store.lock_path()).unwrap();
    let (target, original) = victim(&dir);
    std::os::unix::fs::symlink(&target, store.lock_path()).unwrap();
    // A missing target would be created through the link by a following open: not either.
    let absent = dir.join("created-through-link");
    let other = FileStorage::new(dir.join("other.json"));
    std::os::unix::fs::symlink(&absent, other.lock_path()).unwrap();

    let e = store
        .set_tokens("https://r.example/mcp", &token("new"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Storage);
    assert!(e.to_string().contains("cannot lock"), "{e}");
    assert!(!e.to_string().contains("new-refresh"), "{e}");
    let e = other
        .set_tokens("https://r.example/mcp", &token("x"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Storage);

    assert_eq!(std::fs::read(&target).unwrap(), original);
    assert_eq!(mode(&target), 0o644);
    assert!(!absent.exists(), "a file was created through the link");
    assert_eq!(std::fs::read(&path).unwrap(), committed);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_lock_held_by_a_hung_process_fails_at_the_deadline_with_a_clear_error() {
    let dir = tempdir("hung");
    let path = dir.join("credentials.json");
    let store = FileStorage::new(&path).with_lock_timeout(Duration::from_secs(1));
    store
        .set_tokens("https://r.example/mcp", &token("committed"))
        .unwrap();
    let committed = std::fs::read(&path).unwrap();

    let mut holder = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(ROLE, "holder")
        .env("LOCK_PATH", store.lock_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(holder.stdout.take().unwrap()).lines();
    assert!(
        lines.any(|l| l.unwrap().contains("locked")),
        "the holder took the lock"
    );

    let started = Instant::now();
    let e = store
        .set_tokens("https://r.example/mcp", &token("blocked"))
        .unwrap_err();
    assert!(started.elapsed() >= Duration::from_secs(1), "gave up early");
    assert_eq!(e.kind(), ErrorKind::Storage);
    let text = e.to_string();
    assert!(text.contains("credential store"), "{text}");
    assert!(text.contains("is locked by another process for"), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(!text.contains("blocked-refresh"), "{text}");
    assert_eq!(std::fs::read(&path).unwrap(), committed);
    // Reads do not take the lock: the committed value is still readable meanwhile.
    assert_eq!(
        access_of(&store, "https://r.example/mcp").as_deref(),
        Some("committed")
    );

    // The holder goes away: the store works again, and kept everything.
    drop(holder.stdin.take());
    assert!(holder.wait().unwrap().success());
    store
        .set_tokens("https://r.example/other", &token("after"))
        .unwrap();
    assert_eq!(
        access_of(&store, "https://r.example/mcp").as_deref(),
        Some("committed")
    );
    assert_eq!(
        access_of(&store, "https://r.example/other").as_deref(),
        Some("after")
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_lock_held_through_another_open_file_fails_at_the_deadline() {
    let dir = tempdir("held");
    let path = dir.join("credentials.json");
    let store = FileStorage::new(&path).with_lock_timeout(Duration::from_millis(300));
    store
        .set_tokens("https://r.example/mcp", &token("v1"))
        .unwrap();
    let committed = std::fs::read(&path).unwrap();
    // Another open file description of the lock file (as another process has).
    let held = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(store.lock_path())
        .unwrap();
    fs4::FileExt::try_lock(&held).unwrap();

    let e = store
        .set_client_info(
            "https://as.example",
            &OAuthClientInformationFull::new("late"),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Storage);
    assert!(
        e.to_string().contains("is locked by another process for"),
        "{e}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), committed);

    fs4::FileExt::unlock(&held).unwrap();
    store
        .set_tokens("https://r.example/mcp", &token("v2"))
        .unwrap();
    assert_eq!(
        access_of(&store, "https://r.example/mcp").as_deref(),
        Some("v2")
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_default_lock_deadline_is_bounded() {
    assert_eq!(FileStorage::DEFAULT_LOCK_TIMEOUT, Duration::from_secs(10));
}

#[test]
fn a_credential_file_readable_by_others_is_narrowed_on_first_read() {
    let dir = tempdir("mode");
    let path = dir.join("credentials.json");
    FileStorage::new(&path)
        .set_tokens("https://r.example/mcp", &token("t"))
        .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = std::fs::read(&path).unwrap();

    let store = FileStorage::new(&path);
    assert_eq!(
        access_of(&store, "https://r.example/mcp").as_deref(),
        Some("t")
    );
    assert_eq!(mode(&path), 0o600, "not narrowed by a read");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a read changed the content"
    );

    // Narrowed on a first write too, and group-writable counts as well.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o660)).unwrap();
    FileStorage::new(&path)
        .set_tokens("https://r.example/other", &token("u"))
        .unwrap();
    assert_eq!(mode(&path), 0o600);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn directories_created_for_the_store_are_private() {
    let dir = tempdir("dirs");
    let path = dir.join("a").join("b").join("credentials.json");
    FileStorage::new(&path)
        .set_tokens("https://r.example/mcp", &token("t"))
        .unwrap();
    assert_eq!(mode(&dir.join("a")), 0o700);
    assert_eq!(mode(&dir.join("a").join("b")), 0o700);
    assert_eq!(mode(&path), 0o600);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_on_disk_format_is_unchanged() {
    let dir = tempdir("format");
    let path = dir.join("credentials.json");
    // A file as earlier versions wrote it (pretty JSON, version 1, fields in this order).
    let old = r#"{
  "version": 1,
  "tokens": {
    "https://r.example/mcp": {
      "access_token": "at",
      "token_type": "Bearer"
    }
  },
  "clients": {
    "https://as.example": {
      "client_id": "cid",
      "grant_types": [
        "authorization_code",
        "refresh_token"
      ],
      "response_types": [
        "code"
      ]
    }
  }
}"#;
    std::fs::write(&path, old).unwrap();
    let store = FileStorage::new(&path);
    assert_eq!(
        access_of(&store, "https://r.example/mcp").as_deref(),
        Some("at")
    );
    // Rewriting the same content yields the same bytes.
    let t = store.get_tokens("https://r.example/mcp").unwrap().unwrap();
    store.set_tokens("https://r.example/mcp", &t).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), old);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn remove_client_info_forgets_one_registration_and_keeps_the_rest() {
    let dir = tempdir("forget");
    let path = dir.join("credentials.json");
    let store = FileStorage::new(&path);
    store
        .set_client_info(
            "https://as1.example",
            &OAuthClientInformationFull::new("c1"),
        )
        .unwrap();
    store
        .set_client_info(
            "https://as2.example",
            &OAuthClientInformationFull::new("c2"),
        )
        .unwrap();
    store
        .set_tokens("https://r.example/mcp", &token("t"))
        .unwrap();
    store.remove_client_info("https://as1.example").unwrap();
    assert!(
        store
            .get_client_info("https://as1.example")
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .get_client_info("https://as2.example")
            .unwrap()
            .unwrap()
            .client_id,
        "c2"
    );
    assert_eq!(
        access_of(&store, "https://r.example/mcp").as_deref(),
        Some("t")
    );
    // Forgetting what is not there is not an error.
    store.remove_client_info("https://as1.example").unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
