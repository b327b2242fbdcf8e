//! The request log.

use serde_json::Value;

/// One request as the server received it (recorded before any routing or fault).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The method, as sent (e.g. `GET`).
    pub method: String,
    /// The path of the request target, without the query (not percent-decoded).
    pub path: String,
    /// The query string without `?`, if the target had one.
    pub query: Option<String>,
    /// Headers in arrival order, names lowercased, values as sent (trimmed).
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
    /// The server's number for the TCP connection that carried the request (1-based, in accept
    /// order): requests on one keep-alive connection share it.
    pub connection: usize,
}

impl RecordedRequest {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as `application/x-www-form-urlencoded`.
    pub fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body).into_owned().collect()
    }

    /// The first form field with this name.
    pub fn form_value(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(&self.body)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The query string parsed as `application/x-www-form-urlencoded`.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query
            .as_deref()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default()
    }

    /// The first query parameter with this name.
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The JSON-RPC `method` of an MCP request body, if any.
    pub fn rpc_method(&self) -> Option<String> {
        self.json()?.get("method")?.as_str().map(str::to_owned)
    }

    /// `"METHOD /path"`, handy for asserting request sequences.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}
