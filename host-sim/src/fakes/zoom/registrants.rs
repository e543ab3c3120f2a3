//! Registrants: `GET`/`POST /webinars/{id}/registrants`, the status
//! update and the registration questions (R7, R21-R24).

use super::*;

impl FakeZoom {
    pub(super) fn list_registrants(&self, request: &FakeRequest, id: &str) -> FakeResponse {
        let status = request
            .query_param("status")
            .unwrap_or_else(|| "approved".into());
        if !matches!(status.as_str(), "approved" | "pending" | "denied") {
            return zoom_error(400, 300, &format!("Invalid field: status {status}."));
        }
        self.with_webinar(id, |webinar, _| {
            let registrants: Vec<&Registrant> = webinar
                .registrants
                .iter()
                .filter(|r| r.status == status)
                .collect();
            let listing = format!("webinars/{id}/registrants/{status}");
            self.page_of(
                request,
                &listing,
                registrants,
                MAX_PAGE_SIZE,
                "registrants",
                |r| registrant_json(webinar, r),
            )
        })
    }

    pub(super) fn add_registrant(&self, request: &FakeRequest, id: &str) -> FakeResponse {
        let body: Value = match serde_json::from_slice(&request.body) {
            Ok(body) => body,
            Err(_) => return zoom_error(400, 300, "Request Body should be a valid JSON object."),
        };
        let today = self.clock.now_ms().div_euclid(crate::clock::DAY_MS);
        let mut state = self.lock();
        let State {
            account,
            registrations_today,
            next_registrant,
            ..
        } = &mut *state;
        let account_users: Vec<String> = account
            .users
            .iter()
            .map(|u| u.email.to_ascii_lowercase())
            .collect();
        let Some(webinar) = id
            .parse::<u64>()
            .ok()
            .and_then(|id| account.webinar_mut(id))
        else {
            return webinar_not_found(id);
        };
        if let Some(closed) = registration_closed(webinar, id) {
            return closed;
        }
        let email = text_field(&body, "email");
        let missing = missing_fields(webinar, &body);
        if !missing.is_empty() {
            return validation_failed(&missing);
        }
        // R23: the host (or another user of the account) cannot register as a registrant.
        if webinar.host.eq_ignore_ascii_case(&email)
            || account_users.contains(&email.to_ascii_lowercase())
        {
            return zoom_error(400, 3027, "Host can not register");
        }
        let count = registrations_today
            .entry((webinar.id, email.to_ascii_lowercase(), today))
            .or_insert(0);
        if *count >= DAILY_REGISTRATIONS_PER_PERSON {
            return zoom_error(
                429,
                429,
                &format!(
                    "You have exceeded the daily rate limit of ({DAILY_REGISTRATIONS_PER_PERSON}) for Add webinar registrant API requests for the registrant ({email})."
                ),
            );
        }
        *count += 1;
        let registrant_id = self.registrant(webinar, next_registrant, &body, &email);
        FakeResponse::json(
            201,
            &json!({
                "id": webinar.id,
                "registrant_id": registrant_id,
                "join_url": webinar.registrant_join_url(&registrant_id),
                "topic": webinar.topic,
                "start_time": webinar.start_time,
            }),
        )
    }

    /// The id of `email`'s registrant of `webinar`, added from `body` if
    /// it has none.
    fn registrant(
        &self,
        webinar: &mut Webinar,
        next_registrant: &mut u64,
        body: &Value,
        email: &str,
    ) -> String {
        match webinar
            .registrants
            .iter_mut()
            .find(|r| r.email.eq_ignore_ascii_case(email))
        {
            // Registering again returns the same registrant, re-approved if it had been cancelled.
            Some(existing) => {
                if existing.status == "cancelled" {
                    existing.status = if webinar.approval_type == 1 {
                        "pending"
                    } else {
                        "approved"
                    }
                    .into();
                }
                existing.id.clone()
            }
            None => {
                *next_registrant += 1;
                let id = format!("new{:08}", next_registrant);
                webinar.registrants.push(Registrant {
                    id: id.clone(),
                    email: email.to_owned(),
                    first_name: text_field(body, "first_name"),
                    last_name: text_field(body, "last_name"),
                    status: if webinar.approval_type == 1 {
                        "pending"
                    } else {
                        "approved"
                    }
                    .into(),
                    create_time: rfc3339(self.clock.now_ms()),
                });
                id
            }
        }
    }

    pub(super) fn update_registrant_status(&self, request: &FakeRequest, id: &str) -> FakeResponse {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let new_status = match body.get("action").and_then(Value::as_str) {
            Some("approve") => "approved",
            Some("deny") => "denied",
            Some("cancel") => "cancelled",
            _ => return zoom_error(400, 300, "Invalid field: action."),
        };
        let targets: Vec<(String, String)> = body
            .get("registrants")
            .and_then(Value::as_array)
            .map(|rs| {
                rs.iter()
                    .map(|r| {
                        let get = |k| {
                            r.get(k)
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned()
                        };
                        (get("id"), get("email"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut state = self.lock();
        let Some(webinar) = id
            .parse::<u64>()
            .ok()
            .and_then(|id| state.account.webinar_mut(id))
        else {
            return webinar_not_found(id);
        };
        for registrant in &mut webinar.registrants {
            if targets.iter().any(|(rid, email)| {
                (!rid.is_empty() && *rid == registrant.id)
                    || (!email.is_empty() && email.eq_ignore_ascii_case(&registrant.email))
            }) {
                registrant.status = new_status.into();
            }
        }
        FakeResponse::empty(204)
    }
}

/// A registration field of the body, trimmed; empty when absent.
fn text_field(body: &Value, name: &str) -> String {
    body.get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Why `webinar` takes no registrations now: it needs no registration
/// (approval type 2), or it is a one-time webinar that has run.
fn registration_closed(webinar: &Webinar, id: &str) -> Option<FakeResponse> {
    if webinar.approval_type == 2 {
        return Some(zoom_error(
            400,
            3000,
            &format!("Registration has not been enabled for this webinar: {id}."),
        ));
    }
    if webinar.r#type == 5 && webinar.ran.is_some() {
        return Some(zoom_error(
            400,
            3000,
            "This webinar has ended. Registration is closed.",
        ));
    }
    None
}

/// The fields and questions `webinar` requires that `body` leaves empty:
/// `email` and `first_name` always, then the webinar's own.
fn missing_fields(webinar: &Webinar, body: &Value) -> Vec<String> {
    let mut missing: Vec<String> = ["email", "first_name"]
        .iter()
        .filter(|f| text_field(body, f).is_empty())
        .map(|f| f.to_string())
        .collect();
    missing.extend(
        webinar
            .required_fields
            .iter()
            .filter(|f| text_field(body, f).is_empty())
            .cloned(),
    );
    let answered: Vec<String> = body
        .get("custom_questions")
        .and_then(Value::as_array)
        .map(|qs| {
            qs.iter()
                .filter(|q| {
                    q.get("value")
                        .and_then(Value::as_str)
                        .is_some_and(|v| !v.is_empty())
                })
                .filter_map(|q| q.get("title").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    missing.extend(
        webinar
            .required_questions
            .iter()
            .filter(|q| !answered.contains(q))
            .cloned(),
    );
    missing
}

/// The 400 naming each missing field.
fn validation_failed(missing: &[String]) -> FakeResponse {
    // The exact code of a missing required question is not documented; 300 is Zoom's validation code.
    let errors: Vec<Value> = missing
        .iter()
        .map(|f| json!({ "field": f, "message": format!("{f} is required.") }))
        .collect();
    FakeResponse::json(
        400,
        &json!({ "code": 300, "message": "Validation Failed.", "errors": errors }),
    )
}

fn registrant_json(w: &Webinar, r: &Registrant) -> Value {
    json!({
        "id": r.id, "email": r.email, "first_name": r.first_name, "last_name": r.last_name,
        "status": r.status, "create_time": r.create_time, "join_url": w.registrant_join_url(&r.id),
        "custom_questions": [],
    })
}

pub(super) fn questions_json(w: &Webinar) -> Value {
    let mut questions = vec![json!({ "field_name": "last_name", "required": false })];
    questions.extend(
        w.required_fields
            .iter()
            .map(|f| json!({ "field_name": f, "required": true })),
    );
    let custom: Vec<Value> = w
        .required_questions
        .iter()
        .map(|q| json!({ "title": q, "type": "short", "required": true, "answers": [] }))
        .collect();
    json!({ "questions": questions, "custom_questions": custom })
}
