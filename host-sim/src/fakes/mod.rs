//! In-process fakes of the remote services, speaking the real APIs' shapes
//! and failing the way they fail. Only the remote services are faked.

pub mod crm;
pub mod zoom;

use base64::Engine as _;

/// The `user:password` of a `Basic` authorization header.
pub(crate) fn basic_credentials(header: Option<&str>) -> Option<(String, String)> {
    let encoded = header?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The token of a `Bearer` authorization header.
pub(crate) fn bearer(header: Option<&str>) -> Option<&str> {
    header?.strip_prefix("Bearer ").map(str::trim)
}

/// `application/x-www-form-urlencoded` pairs, as the query parser reads them.
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    let uri: http::Uri = match format!("http://form/?{text}").parse() {
        Ok(uri) => uri,
        Err(_) => return Vec::new(),
    };
    crate::outbound::FakeRequest {
        method: http::Method::POST,
        uri,
        headers: http::HeaderMap::new(),
        body: bytes::Bytes::new(),
    }
    .query()
}
