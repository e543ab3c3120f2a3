//! The host's one reader of query strings and
//! `application/x-www-form-urlencoded` bodies, on `form_urlencoded` (the
//! `url` crate's, already in the build through wasmtime-wasi): the fakes'
//! requests (`FakeRequest::query`, Zoom's OAuth grant in a form body) and
//! `serve`'s operator routes read their parameters here.
//!
//! How a text is read, everywhere: pairs split on `&`, empty ones skipped;
//! a pair without `=` is a name with an empty value; `%XX` is a byte and a
//! malformed escape (`%zz`) is kept as written; bytes that are not UTF-8
//! become U+FFFD; repeated names are all kept, in order, and [`param`]
//! takes the first. `+` is a space, as Zoom's and HubSpot's servers read
//! it; [`param_keeping_plus`] is for `serve`'s `?since=`, whose RFC 3339
//! offsets (`+02:00`) people type unescaped.

/// Every `name=value` pair of `text`, decoded, in order.
pub fn pairs(text: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(text).into_owned().collect()
}

/// The first value of `name` in `text`.
pub fn param(text: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(text)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// As [`param`], but a `+` stays a plus (RFC 3986's reading of a URL's
/// query; only HTML forms write a space as `+`). `%2B` is a plus as well,
/// and `%20` a space.
pub fn param_keeping_plus(text: &str, name: &str) -> Option<String> {
    param(text.replace('+', "%2B").as_bytes(), name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_escapes_and_repeated_names_read_as_before() {
        let text =
            b"status=approved&next_page_token=a%2Bb&q=a+b&bad=%zz&&flag&status=denied&t=%3A%3a";
        assert_eq!(
            pairs(text),
            [
                ("status", "approved"),
                ("next_page_token", "a+b"),
                ("q", "a b"),
                ("bad", "%zz"),
                ("flag", ""),
                ("status", "denied"),
                ("t", "::"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        // A repeated name: its first value.
        assert_eq!(param(text, "status").as_deref(), Some("approved"));
        assert_eq!(param(text, "missing"), None);
        // Not UTF-8: replaced, not refused.
        assert_eq!(param(b"n=%FF", "n").as_deref(), Some("\u{FFFD}"));
        // Names are decoded too.
        assert_eq!(param(b"a%5Fb=1", "a_b").as_deref(), Some("1"));
    }

    #[test]
    fn serves_since_keeps_a_plus_and_decodes_escapes() {
        let query = "since=2026-11-01T00:00:00+02:00&since=2026-01-01T00:00:00Z";
        assert_eq!(
            param_keeping_plus(query, "since").as_deref(),
            Some("2026-11-01T00:00:00+02:00")
        );
        assert_eq!(
            param_keeping_plus("since=2026-11-01T00%3A00%3A00%2B02%3A00", "since").as_deref(),
            Some("2026-11-01T00:00:00+02:00")
        );
        assert_eq!(param_keeping_plus("a=x%20y", "a").as_deref(), Some("x y"));
    }
}
