//! Streamed response bodies ([`HttpClient::execute_streamed`](super::HttpClient::execute_streamed)).

use std::io::{self, Read};

use super::{declared_length, map_error};
use crate::error::{Error, Result};

/// A response whose body is read as it arrives.
///
/// Read errors are `std::io::Error`s carrying the [`Error`](crate::Error) (reach it with
/// [`io::Error::get_ref`] and `downcast_ref::<mcp_auth::Error>()`): [`Error::Timeout`] when
/// the idle timeout passed, [`Error::ResponseTooLarge`] past the configured cap,
/// [`Error::Transport`] when the connection failed.
pub type StreamedResponse = http::Response<Box<dyn Read + Send>>;

/// The body of a streamed response: counts decoded bytes against the cap and turns ureq's
/// errors into [`Error`]s.
struct StreamBody {
    inner: ureq::BodyReader<'static>,
    url: String,
    limit: Option<u64>,
    read: u64,
}

impl Read for StreamBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf).map_err(|e| self.error(e))?;
        self.read += n as u64;
        if let Some(limit) = self.limit {
            if self.read > limit {
                return Err(io::Error::other(self.too_large(limit)));
            }
        }
        Ok(n)
    }
}

impl StreamBody {
    fn too_large(&self, limit: u64) -> Error {
        Error::ResponseTooLarge {
            url: self.url.clone(),
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
        }
    }

    fn error(&self, e: io::Error) -> io::Error {
        let kind = e.kind();
        let limit = self
            .limit
            .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
        let mapped = map_error(ureq::Error::from(e), &self.url, limit);
        let kind = match mapped {
            Error::Timeout { .. } => io::ErrorKind::TimedOut,
            _ if kind == io::ErrorKind::WouldBlock => io::ErrorKind::TimedOut,
            _ => kind,
        };
        io::Error::new(kind, mapped)
    }
}

/// Turn ureq's response into a [`StreamedResponse`], refusing at once a declared length above
/// the cap.
pub(super) fn streamed(
    method: &http::Method,
    response: http::Response<ureq::Body>,
    url: String,
    limit: Option<u64>,
) -> Result<StreamedResponse> {
    let (parts, body) = response.into_parts();
    if let (Some(limit), Some(len)) = (limit, declared_length(method, &parts)) {
        if len > limit {
            return Err(Error::ResponseTooLarge {
                url,
                limit: usize::try_from(limit).unwrap_or(usize::MAX),
            });
        }
    }
    // No ureq limit: the cap (if any) is counted on decoded bytes above.
    let inner = body.into_with_config().limit(u64::MAX).reader();
    let body: Box<dyn Read + Send> = Box::new(StreamBody {
        inner,
        url,
        limit,
        read: 0,
    });
    Ok(http::Response::from_parts(parts, body))
}
