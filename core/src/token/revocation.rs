//! Token revocation at logout (RFC 7009): what [`crate::Client::logout`] reports, and the
//! response parsing. The request goes through the one token-endpoint path
//! (`token::endpoint`): the same client authentication, redaction, transport limits and
//! trace.

use serde::Serialize;

use crate::discovery::Discovery;
use crate::error::{Error, ErrorKind, OAuthErrorResponse, Result};
use crate::metadata::OAuthToken;
use crate::registration::identity::Identity;
use crate::token::endpoint::TokenEndpoint;
use crate::trace::{Step, Tracer};

/// What [`crate::Client::logout`] did at the authorization server. The tokens are forgotten
/// locally in every case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Revocation {
    /// The authorization server confirmed the revocation of every token held (RFC 7009
    /// §2.2: HTTP 200).
    Revoked,
    /// No token was held: nothing to revoke.
    NoTokens,
    /// The authorization server publishes no `revocation_endpoint`: the tokens stay valid at
    /// the server until they expire.
    Unsupported,
    /// A revocation request failed (transport, an error response, no usable client
    /// credentials, discovery): the tokens may stay valid at the server until they expire.
    Failed {
        /// Why (no secrets).
        reason: String,
    },
}

impl Revocation {
    /// Whether the authorization server confirmed the revocation.
    pub fn confirmed(&self) -> bool {
        matches!(self, Revocation::Revoked)
    }

    /// A stable snake_case name: `revoked`, `no_tokens`, `unsupported`, `failed`.
    pub fn name(&self) -> &'static str {
        match self {
            Revocation::Revoked => "revoked",
            Revocation::NoTokens => "no_tokens",
            Revocation::Unsupported => "unsupported",
            Revocation::Failed { .. } => "failed",
        }
    }
}

/// Revoke `token` at `d`'s revocation endpoint: the refresh token first (RFC 7009 §2.1: an AS
/// may then drop the access tokens of the grant too), then the access token, each with its
/// `token_type_hint`, authenticated with the credentials the token was issued to (the same
/// choice as for a refresh). Never fails: the outcome says what happened, except a cancel,
/// which is returned as an error.
///
/// # Errors
/// [`Error::Cancelled`] when the call was cancelled.
pub(crate) fn revoke_token(
    endpoint: &TokenEndpoint<'_>,
    identity: &Identity<'_>,
    tracer: &Tracer,
    d: &Discovery,
    token: &OAuthToken,
) -> Result<Revocation> {
    let Some(url) = d
        .metadata
        .as_ref()
        .and_then(|m| m.revocation_endpoint.clone())
    else {
        tracer
            .step(Step::Revocation)
            .fallback(format!("{} publishes no revocation_endpoint", d.issuer));
        return Ok(Revocation::Unsupported);
    };
    let client = match identity.for_refresh(d, token) {
        Ok(Ok(client)) => client,
        Ok(Err(reason)) => {
            let reason = format!("no client credentials to revoke with: {reason}");
            tracer.step(Step::Revocation).failed(reason.clone());
            return Ok(Revocation::Failed { reason });
        }
        Err(e) => return failed(e),
    };
    let mut failures = Vec::new();
    let mut tokens = Vec::new();
    if let Some(refresh) = &token.refresh_token {
        tokens.push((refresh.secret(), "refresh_token"));
    }
    tokens.push((token.access_token.secret(), "access_token"));
    for (secret, hint) in tokens {
        if let Err(e) = endpoint.revoke(&url, d, &client, secret, hint) {
            if e.kind() == ErrorKind::Cancelled {
                return Err(e);
            }
            failures.push(format!("{hint}: {e}"));
        }
    }
    if failures.is_empty() {
        Ok(Revocation::Revoked)
    } else {
        Ok(Revocation::Failed {
            reason: failures.join("; "),
        })
    }
}

/// A failure before any revocation request (storage, discovery) as the outcome; a cancel stays
/// an error.
pub(crate) fn failed(e: Error) -> Result<Revocation> {
    if e.kind() == ErrorKind::Cancelled {
        return Err(e);
    }
    Ok(Revocation::Failed {
        reason: e.to_string(),
    })
}

/// Parse a revocation response (RFC 7009 §2.2): 200 is success (also for a token the server
/// did not know, §2.2); anything else is an error, with the §2.2.1 error object when there is
/// one (`unsupported_token_type`, `invalid_client`, ...). A non-JSON body is summarised,
/// never quoted.
///
/// # Errors
/// [`Error::Token`] for any other status.
pub fn handle_revocation_response(response: &http::Response<Vec<u8>>) -> Result<()> {
    let status = response.status().as_u16();
    if status == 200 {
        return Ok(());
    }
    let oauth = OAuthErrorResponse::from_json(response.body());
    let detail = match &oauth {
        Some(o) => o.to_string(),
        None => super::redirect_note(response).unwrap_or_else(|| super::body_summary(response)),
    };
    Err(Error::Token {
        message: format!("Revocation request failed ({status}): {detail}"),
        status: Some(status),
        oauth: oauth.map(Box::new),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> http::Response<Vec<u8>> {
        http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .unwrap()
    }

    #[test]
    fn rfc7009_2_2_ok_and_error_responses() {
        assert!(handle_revocation_response(&response(200, "")).is_ok());
        let e = handle_revocation_response(&response(400, r#"{"error":"unsupported_token_type"}"#))
            .unwrap_err();
        assert_eq!(e.oauth_error().unwrap().error, "unsupported_token_type");
        assert!(handle_revocation_response(&response(503, "down")).is_err());
    }

    #[test]
    fn outcome_serializes_with_a_status_tag() {
        let v = serde_json::to_value(Revocation::Failed { reason: "x".into() }).unwrap();
        assert_eq!(v, serde_json::json!({"status": "failed", "reason": "x"}));
        assert_eq!(Revocation::Revoked.name(), "revoked");
        assert!(Revocation::Revoked.confirmed());
    }
}
