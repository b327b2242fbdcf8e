//! The user agent's part of an authorization, for the ffi tests: a redirect handler follows the
//! authorization URL (the demo AS approves at once) to the redirect it answers.

use std::io::{Read, Write};

/// GET `url` (http, loopback) without following redirects and return its `Location`.
pub fn location_of(url: &str) -> Option<String> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = rest.split_at(rest.find('/')?);
    let mut s = std::net::TcpStream::connect(authority).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    s.read_to_string(&mut response).ok()?;
    response
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(n, _)| n.eq_ignore_ascii_case("location"))
        })
        .map(|(_, v)| v.trim().to_owned())
}
