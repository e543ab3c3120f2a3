//! The policy's routing: deny by default, fakes only for allowed hosts,
//! host patterns, remote fakes; and how a fake reads a query.

use super::*;

struct Echo;
impl FakeService for Echo {
    fn handle(&self, _request: &FakeRequest) -> FakeResponse {
        FakeResponse::json(200, &serde_json::json!({}))
    }
}

#[test]
fn deny_by_default() {
    let outbound = Outbound::deny_all();
    assert!(outbound.route("api.zoom.us").is_err());
}

#[test]
fn a_fake_is_used_only_for_allowed_hosts() {
    let outbound = Outbound::deny_all().fake("api.zoom.us", Arc::new(Echo));
    let reason = outbound.route("api.zoom.us").err().unwrap();
    assert!(reason.contains("allow-list"), "{reason}");
    let outbound = outbound.allow("API.zoom.us");
    assert!(matches!(outbound.route("api.zoom.us"), Ok(Route::Fake(_))));
}

struct WithStorage;
impl FakeService for WithStorage {
    fn handle(&self, _request: &FakeRequest) -> FakeResponse {
        FakeResponse::json(200, &serde_json::json!({}))
    }
    fn also_serves(&self) -> &'static [&'static str] {
        &["ssrweb.zoom.us"]
    }
}

#[test]
fn r11_host_patterns_allow_the_names_under_a_domain_only() {
    let outbound = Outbound::deny_all()
        .allow("zoom.us")
        .allow("*.ZOOM.us")
        .fake("zoom.us", Arc::new(WithStorage));
    for allowed in [
        "zoom.us",
        "ssrweb.zoom.us",
        "us06web.zoom.us",
        "a.b.zoom.us",
    ] {
        assert!(
            !matches!(outbound.route(allowed), Err(ref r) if r.contains("allow-list")),
            "{allowed}"
        );
    }
    for denied in ["evilzoom.us", "zoom.us.evil.example", ".zoom.us", "us"] {
        let reason = outbound.route(denied).err().unwrap();
        assert!(reason.contains("allow-list"), "{denied}: {reason}");
    }
    // Only a leading `*.` is a pattern; a bare `*` allows nothing.
    assert!(Outbound::deny_all().allow("*").route("zoom.us").is_err());
    assert!(Outbound::deny_all().allow("*.").route("zoom.us").is_err());
}

#[test]
fn r11_a_fake_serves_the_storage_host_it_redirects_to_when_allowed() {
    let outbound = Outbound::deny_all()
        .allow("zoom.us")
        .fake("zoom.us", Arc::new(WithStorage));
    let reason = outbound.route("ssrweb.zoom.us").err().unwrap();
    assert!(reason.contains("allow-list"), "{reason}");
    let outbound = outbound.allow("ssrweb.zoom.us");
    assert!(matches!(
        outbound.route("ssrweb.zoom.us"),
        Ok(Route::Fake(_))
    ));
    assert_eq!(service_of("ssrweb.zoom.us"), "zoom");
    assert_eq!(service_of("notzoom.us"), "notzoom.us");
}

#[test]
fn allowed_hosts_without_a_fake_need_a_real_connection() {
    let outbound = Outbound::deny_all().allow("example.com");
    assert!(
        outbound
            .route("example.com")
            .err()
            .unwrap()
            .contains("no real connection")
    );
    assert!(matches!(
        outbound.real_network(true).route("example.com"),
        Ok(Route::Real)
    ));
}

#[test]
fn remote_fakes_serve_allowed_hosts_without_an_in_process_fake() {
    let outbound = Outbound::deny_all()
        .allow("api.zoom.us")
        .allow("api.hubapi.com")
        .fake("api.zoom.us", Arc::new(Echo))
        .remote_fakes("http://127.0.0.1:8788")
        .unwrap();
    assert!(matches!(outbound.route("api.zoom.us"), Ok(Route::Fake(_))));
    assert!(
        matches!(outbound.route("api.hubapi.com"), Ok(Route::Remote(a)) if a == "127.0.0.1:8788")
    );
    // Still deny by default.
    assert!(outbound.route("example.com").is_err());
    for bad in [
        "https://127.0.0.1:8788",
        "http://127.0.0.1",
        "127.0.0.1:8788",
        "not a url",
    ] {
        let reason = Outbound::deny_all().remote_fakes(bad).err().unwrap();
        assert!(reason.contains("fakes_url"), "{reason}");
    }
}

#[test]
fn query_parameters_are_decoded() {
    let request = FakeRequest {
        method: http::Method::GET,
        uri: "https://api.zoom.us/v2/x?status=approved&next_page_token=a%2Bb&q=a+b&bad=%zz"
            .parse()
            .unwrap(),
        headers: http::HeaderMap::new(),
        body: Bytes::new(),
    };
    assert_eq!(request.query_param("status").as_deref(), Some("approved"));
    assert_eq!(
        request.query_param("next_page_token").as_deref(),
        Some("a+b")
    );
    assert_eq!(request.query_param("q").as_deref(), Some("a b"));
    assert_eq!(request.query_param("bad").as_deref(), Some("%zz"));
}
