//! The fake Zoom's cloud recordings: their files, and downloads through
//! signed storage URLs.

use super::*;

/// R11: a download answers 302 to a signed URL on the storage host, which
/// serves the file to the URL alone: no token, not after it expires.
#[test]
fn r11_a_download_redirects_to_a_signed_storage_url_that_takes_no_token() {
    let (zoom, clock) = zoom();
    let auth = token(&zoom);
    let recording = body(&get(&zoom, &auth, "/meetings/81234567890/recordings"));
    let url = recording["recording_files"][1]["download_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        zoom.handle(&request("GET", &url, None, None)).status,
        401,
        "the download needs the account's token"
    );
    let redirect = zoom.handle(&request("GET", &url, Some(&auth), None));
    assert_eq!(redirect.status, 302);
    let location = redirect
        .headers
        .iter()
        .find(|(n, _)| n == "location")
        .map(|(_, v)| v.clone())
        .unwrap();
    assert!(
        location.starts_with("https://ssrweb.zoom.us/file/"),
        "{location}"
    );
    assert_eq!(zoom.also_serves(), [STORAGE_HOST]);

    let file = zoom.handle(&request("GET", &location, None, None));
    assert_eq!(file.status, 200);
    assert!(String::from_utf8_lossy(&file.body).contains("Hannah Host: Welcome!"));
    // The token does not belong there.
    assert_eq!(
        zoom.handle(&request("GET", &location, Some(&auth), None))
            .status,
        400
    );
    // A forged or expired signature is refused.
    let forged = location.replace("Signature=", "Signature=0");
    assert_eq!(
        zoom.handle(&request("GET", &forged, None, None)).status,
        403
    );
    clock.advance(Duration::from_millis(STORAGE_URL_LIFETIME_MS as u64));
    assert_eq!(
        zoom.handle(&request("GET", &location, None, None)).status,
        403
    );
}

/// Follows the fake's download redirect as a client would (without the token).
fn download(zoom: &FakeZoom, url: &str, auth: &str) -> FakeResponse {
    let answer = zoom.handle(&request("GET", url, Some(auth), None));
    match answer.headers.iter().find(|(n, _)| n == "location") {
        Some((_, location)) if answer.status == 302 => {
            zoom.handle(&request("GET", location, None, None))
        }
        _ => answer,
    }
}

#[test]
fn recordings_list_their_files_and_download_transcripts() {
    let (zoom, _) = zoom();
    let auth = token(&zoom);
    let recording = body(&get(&zoom, &auth, "/meetings/81234567890/recordings"));
    let files = recording["recording_files"].as_array().unwrap();
    assert_eq!(
        files
            .iter()
            .map(|f| f["file_type"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["MP4", "TRANSCRIPT"]
    );
    let url = files[1]["download_url"].as_str().unwrap();
    let vtt = download(&zoom, url, &auth);
    assert!(String::from_utf8_lossy(&vtt.body).contains("Hannah Host: Welcome!"));

    let none = get(&zoom, &auth, "/meetings/89999999999/recordings");
    assert_eq!(
        (none.status, body(&none)["code"].as_u64()),
        (404, Some(3301))
    );
    zoom.update(|a| {
        a.webinar_mut(81234567890)
            .unwrap()
            .recording
            .as_mut()
            .unwrap()
            .files[1]
            .status = "processing".into()
    });
    assert_eq!(
        zoom.handle(&request("GET", url, Some(&auth), None)).status,
        404,
        "still processing"
    );
    zoom.update(|a| {
        a.webinar_mut(81234567890)
            .unwrap()
            .recording
            .as_mut()
            .unwrap()
            .deleted = true
    });
    assert_eq!(
        body(&get(&zoom, &auth, "/meetings/81234567890/recordings"))["code"],
        3301
    );
}
