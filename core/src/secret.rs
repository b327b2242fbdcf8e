//! Secret values: access and refresh tokens, client secrets, authorization codes, PKCE
//! verifiers and `state`.
//!
//! Each is a newtype whose `Debug` prints `Name([redacted])`, which has no `Display`, whose
//! comparison is constant-time, and whose buffer is zeroized when dropped. Reading the value
//! requires calling [`secret`](AccessToken::secret) explicitly, which makes every place a secret
//! leaves the library greppable.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Default)]
        pub struct $name(String);

        impl $name {
            /// Wrap a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                $name(value.into())
            }

            /// The secret value.
            ///
            /// # Security Warning
            /// The returned string is the raw secret: do not log it, put it in an error
            /// message, or keep copies that outlive this value (they are not zeroized).
            pub fn secret(&self) -> &str {
                &self.0
            }

            /// Whether the value is empty.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl PartialEq for $name {
            /// Constant-time comparison, so that comparing a secret reveals nothing through
            /// timing (RFC 6749 §10.12 for `state`, and good hygiene for every other secret).
            fn eq(&self, other: &Self) -> bool {
                self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
            }
        }

        impl Eq for $name {}

        impl Drop for $name {
            fn drop(&mut self) {
                self.0.zeroize();
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                $name(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                $name(value.to_owned())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map($name)
            }
        }
    };
}

secret_type!(
    /// An OAuth access token (RFC 6749 §1.4), sent as `Authorization: Bearer` (RFC 6750 §2.1).
    AccessToken
);
secret_type!(
    /// An OAuth refresh token (RFC 6749 §1.5).
    RefreshToken
);
secret_type!(
    /// A client secret issued by registration (RFC 7591 §3.2.1).
    ClientSecret
);
secret_type!(
    /// An authorization code from the redirect (RFC 6749 §4.1.2).
    AuthorizationCode
);
secret_type!(
    /// A PKCE code verifier (RFC 7636 §4.1).
    PkceCodeVerifier
);
secret_type!(
    /// A JWT assertion presented as a grant or exchanged for one (RFC 7523 §2.1, RFC 8693
    /// `subject_token`): an identity token, an ID-JAG, a workload identity token.
    Assertion
);
secret_type!(
    /// The device code of the RFC 8628 device authorization grant (§3.2).
    DeviceCode
);
secret_type!(
    /// The `state` value binding an authorization request to its response (RFC 6749 §10.12).
    State
);

/// Constant-time string comparison (for `state` and other values that an attacker may probe).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_secret() {
        let values = [
            format!("{:?}", AccessToken::new("at-SECRET-1")),
            format!("{:?}", RefreshToken::new("rt-SECRET-2")),
            format!("{:?}", ClientSecret::new("cs-SECRET-3")),
            format!("{:?}", AuthorizationCode::new("code-SECRET-4")),
            format!("{:?}", PkceCodeVerifier::new("verifier-SECRET-5")),
            format!("{:?}", State::new("state-SECRET-6")),
        ];
        for v in &values {
            assert!(!v.contains("SECRET"), "{v}");
            assert!(v.ends_with("([redacted])"), "{v}");
        }
        assert_eq!(values[0], "AccessToken([redacted])");
    }

    #[test]
    fn equality_compares_values() {
        assert_eq!(State::new("abc"), State::new("abc"));
        assert_ne!(State::new("abc"), State::new("abd"));
        assert_ne!(State::new("abc"), State::new("abcd"));
        assert!(constant_time_eq("x", "x"));
        assert!(!constant_time_eq("x", "y"));
    }

    #[test]
    fn serde_is_transparent() {
        let t: AccessToken = serde_json::from_str("\"tok\"").unwrap();
        assert_eq!(t.secret(), "tok");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"tok\"");
    }
}
