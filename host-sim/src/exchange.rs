//! A request and its answer as the host's HTTP routes see them: `serve`
//! routes them to the plugin's exports, and the console (`crate::console`)
//! renders pages into them. Their own module so that neither door depends
//! on the other for them.

use bytes::Bytes;
use serde_json::{Value, json};

/// An answer: status, content type, body, and any other headers (the
/// console's cookies, redirects and page policies).
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

pub fn json_reply(status: u16, value: &Value) -> Reply {
    Reply {
        status,
        content_type: "application/json",
        body: format!("{value:#}\n").into_bytes(),
        headers: Vec::new(),
    }
}

pub fn error_reply(status: u16, message: &str) -> Reply {
    json_reply(status, &json!({ "error": message }))
}

/// A request as the routes see it.
pub struct Incoming {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Incoming {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Result<Value, Reply> {
        serde_json::from_slice(&self.body)
            .map_err(|e| error_reply(400, &format!("the body is not JSON: {e}")))
    }

    /// The first value of the query's parameter `name`. A `+` stays a
    /// plus: the only parameter is `since`, an RFC 3339 time whose offset
    /// (`+02:00`) people type unescaped (`crate::query`).
    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.target.split_once('?')?.1;
        crate::query::param_keeping_plus(query, name)
    }
}
