//! Cloud recordings (R11): `GET /meetings/{id}/recordings`, the
//! `download_url` redirect and the storage host it leads to.

use super::*;

impl FakeZoom {
    pub(super) fn recordings(&self, id: &str) -> FakeResponse {
        let state = self.lock();
        let Some(webinar) = id
            .parse::<u64>()
            .ok()
            .and_then(|id| state.account.webinar(id))
        else {
            return zoom_error(404, 3301, "This recording does not exist.");
        };
        match &webinar.recording {
            Some(recording) if !recording.deleted => {
                FakeResponse::json(200, &recording_json(webinar, recording))
            }
            _ => zoom_error(404, 3301, "This recording does not exist."),
        }
    }

    /// `zoom.us/rec/download/{file id}`, with a bearer or download token: a
    /// 302 to the file on the storage host, as Zoom answers (a 302 whose
    /// `Location` is a signed `ssrweb.zoom.us` URL: see the devforum thread
    /// <https://devforum.zoom.us/t/zak-token-stopped-working-for-authenticating-file-downloads/53338>
    /// and youtube-dl issue 25605). The content itself comes from
    /// [`Self::storage`].
    pub(super) fn download(&self, request: &FakeRequest) -> FakeResponse {
        if !self.token_valid(request)
            && request
                .query_param("access_token")
                .is_none_or(|t| !t.starts_with("dl-"))
        {
            return zoom_error(401, 124, "Invalid access token.");
        }
        let file_id = request.path().trim_start_matches("/rec/download/");
        let state = self.lock();
        let file = state
            .account
            .webinars
            .iter()
            .filter_map(|w| w.recording.as_ref().filter(|r| !r.deleted))
            .flat_map(|r| &r.files)
            .find(|f| f.id == file_id);
        match file {
            Some(f) if f.status == "completed" => {
                let expires = self.clock.now_ms() + STORAGE_URL_LIFETIME_MS;
                let location = format!(
                    "https://{STORAGE_HOST}/file/{}?Expires={expires}&Signature={}",
                    f.id,
                    storage_signature(&f.id, expires)
                );
                let mut answer = FakeResponse::empty(302);
                answer.headers.push(("location".into(), location));
                answer
            }
            Some(_) => zoom_error(404, 3303, "The recording file is still processing."),
            None => zoom_error(404, 3301, "This recording does not exist."),
        }
    }

    /// `ssrweb.zoom.us/file/{file id}?Expires=&Signature=`: the file, for a
    /// signed URL that has not expired. The URL is the credential; a request
    /// that also carries an `Authorization` header is refused (400), as S3
    /// refuses a presigned URL with a second credential ("Only one auth
    /// mechanism allowed"). Zoom documents neither: the harsher reading, so
    /// a client that forwards the account's token to the storage host fails
    /// here instead of leaking it there.
    pub(super) fn storage(&self, request: &FakeRequest) -> FakeResponse {
        let forbidden = |message: &str| {
            FakeResponse::bytes(
                403,
                "application/xml",
                format!("<Error><Code>AccessDenied</Code><Message>{message}</Message></Error>")
                    .into_bytes(),
            )
        };
        if request.header("authorization").is_some() {
            return FakeResponse::bytes(
                400,
                "application/xml",
                b"<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; only the Signature query parameter should be specified</Message></Error>".to_vec(),
            );
        }
        let Some(file_id) = request.path().strip_prefix("/file/") else {
            return forbidden("Not a file.");
        };
        let expires = request
            .query_param("Expires")
            .and_then(|e| e.parse::<i64>().ok());
        let signed = expires.is_some_and(|expires| {
            request.query_param("Signature") == Some(storage_signature(file_id, expires))
        });
        match expires {
            Some(expires) if signed && expires > self.clock.now_ms() => {}
            Some(_) if signed => return forbidden("Request has expired."),
            _ => return forbidden("Invalid signature."),
        }
        let state = self.lock();
        let file = state
            .account
            .webinars
            .iter()
            .filter_map(|w| w.recording.as_ref().filter(|r| !r.deleted))
            .flat_map(|r| &r.files)
            .find(|f| f.id == file_id);
        match file {
            Some(f) => FakeResponse::bytes(200, "text/vtt", f.content.clone().into_bytes()),
            None => forbidden("The file does not exist."),
        }
    }
}

/// The storage URL's signature of a file until `expires` (the fake's own key).
fn storage_signature(file_id: &str, expires: i64) -> String {
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"fake-zoom-storage")
        .expect("HMAC takes any key");
    mac.update(format!("{file_id}:{expires}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub(super) fn recording_json(w: &Webinar, recording: &model::Recording) -> Value {
    let (start, end) = w
        .ran
        .as_ref()
        .map(|r| (r.start_time.clone(), r.end_time.clone()))
        .unwrap_or_else(|| (w.start_time.clone(), w.start_time.clone()));
    let files: Vec<Value> = recording
        .files
        .iter()
        .map(|f| {
            json!({
                "id": f.id,
                "meeting_id": w.uuid,
                "recording_start": start,
                "recording_end": end,
                "file_type": f.file_type,
                "file_extension": match f.file_type.as_str() { "TRANSCRIPT" => "VTT", "CHAT" => "TXT", "M4A" => "M4A", _ => "MP4" },
                "file_size": f.content.len().max(1024),
                "play_url": format!("https://zoom.us/rec/play/{}", f.id),
                "download_url": format!("https://zoom.us/rec/download/{}", f.id),
                "status": f.status,
                "recording_type": match f.file_type.as_str() { "TRANSCRIPT" => "audio_transcript", "CHAT" => "chat_file", _ => "shared_screen_with_speaker_view" },
            })
        })
        .collect();
    json!({
        "uuid": w.uuid,
        "id": w.id,
        "host_id": "",
        "topic": w.topic,
        "type": w.r#type,
        "start_time": start,
        "duration": w.duration,
        "recording_count": files.len(),
        "share_url": format!("https://zoom.us/rec/share/{}", w.id),
        "recording_files": files,
    })
}
