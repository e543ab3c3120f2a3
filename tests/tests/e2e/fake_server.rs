//! The fakes on a loopback port answer real HTTP, as `curl` would send it.

use std::sync::Arc;

use base64::Engine as _;
use host_sim::clock::Clock;
use host_sim::fake_server::{Fakes, serve};
use host_sim::fakes::zoom::{FakeZoom, ZoomApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn http(addr: std::net::SocketAddr, request: String) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

#[tokio::test]
async fn curl_gets_a_token_then_the_users() {
    let zoom = Arc::new(FakeZoom::new(
        ZoomApp {
            account_id: "acct".into(),
            client_id: "id".into(),
            client_secret: "secret".into(),
        },
        Clock::real(),
    ));
    let mut fakes = Fakes::new();
    fakes.insert("zoom.us".into(), zoom.clone());
    fakes.insert("api.zoom.us".into(), zoom);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve(listener, Arc::new(fakes)));

    let basic = base64::engine::general_purpose::STANDARD.encode("id:secret");
    let answer = http(
        addr,
        format!("POST /zoom.us/oauth/token?grant_type=account_credentials&account_id=acct HTTP/1.1\r\nhost: {addr}\r\nauthorization: Basic {basic}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
    let token = serde_json::from_str::<serde_json::Value>(body).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let users = http(addr, format!("GET /api.zoom.us/v2/users HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\nconnection: close\r\n\r\n")).await;
    assert!(users.starts_with("HTTP/1.1 200"), "{users}");
    let unknown = http(
        addr,
        format!("GET /example.com/ HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"),
    )
    .await;
    assert!(
        unknown.starts_with("HTTP/1.1 404") && unknown.contains("api.zoom.us"),
        "{unknown}"
    );
    server.abort();
}
