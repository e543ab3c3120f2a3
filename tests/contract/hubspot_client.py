#!/usr/bin/env python3
"""Contract test of the fake CRM against HubSpot's official Python client.

`hubspot-api-client` (Apache-2.0) is generated from HubSpot's OpenAPI
specs: its models hold every request and answer field HubSpot marks as
required, and with `client_side_validation` turned on (off by default in 12.0.0) it refuses a
body that lacks one. This script sends every CRM request the plugin makes
(the same method, path and JSON body as `plugin/src/shell/crm.rs` and the
sync build them) to a fake CRM, and checks

  * the request body against the client's request model (deserialised into
    it with validation on: a missing required field fails), and
  * the answer against the client's answer model for that status.

Run by the e2e test `crm_contract::` (tests/tests/e2e/crm_contract.rs),
which starts the fake CRM on a loopback port and makes the venv:

    python3 tests/contract/hubspot_client.py --base http://127.0.0.1:PORT/api.hubapi.com \
        --token sim-crm-access-token --app-id 1000001

The fake must be seeded with one owner, a contact `ada@example.com` whose
secondary email is `ada@work.example`, and a deleted contact
`gone@example.com` (the e2e test does).

The workflow action's definitions (`hubspot.automation.actions`) take the
developer key in `hapikey` too, as the client sends them.

Paths are the plugin's, not always the client's: timeline templates go to
the client's `/integrators/timeline/v3/...` with the developer key in
`hapikey` (as the client sends them), timeline events to the older
`/crm/v3/timeline/events/...`; the models are the same. Custom events (R10
without timeline access): the client has the send models
(`hubspot.events.send`), not the definitions', so only the send is checked.
"""

import argparse
import datetime
import sys

import hubspot.automation.actions as actions
import hubspot.crm.associations.v4 as associations
import hubspot.crm.contacts as contacts
import hubspot.crm.objects.calls as calls
import hubspot.crm.owners as owners
import hubspot.crm.properties as properties
import hubspot.crm.timeline as timeline
import hubspot.events.send as events_send
import hubspot.marketing.events as marketing_events

CALL_KEY = "zoom_webinar_call_key"
# The fake CRM's developer account key (host-sim/src/fakes/crm/mod.rs).
DEVELOPER_KEY = "sim-crm-developer-api-key"
ACCOUNT = "zoom-account"
WEBINAR = "81234567890"


class Contract:
    def __init__(self, base, token):
        self.base = base
        self.token = token
        self.clients = {}
        self.checked = []

    def client(self, package):
        if package not in self.clients:
            configuration = package.Configuration(host=self.base)
            # Off by default in this client version: the whole point here.
            configuration.client_side_validation = True
            client = package.ApiClient(configuration=configuration)
            # The plugin sends its private app token as a Bearer header on
            # every call (the client would use a developer hapikey for
            # timeline templates).
            client.set_default_header("Authorization", "Bearer " + self.token)
            self.clients[package] = client
        return self.clients[package]

    def request_model(self, package, body, model):
        """The plugin's JSON body, read into the client's request model."""
        if model is None:
            return
        try:
            self.client(package)._ApiClient__deserialize(body, model)
        except (ValueError, TypeError, AttributeError) as error:
            raise AssertionError(f"the request body is not a valid {model}: {error}\n{body}")

    def call(self, package, method, path, body=None, request=None, answers=None, query=None, developer=False):
        """Sends one request; `answers` maps the statuses expected to the
        model the answer must be. Returns (status, answer model or None)."""
        answers = answers or {}
        self.request_model(package, body, request)
        client = self.client(package)
        query = dict(query or {})
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if developer:
            # Timeline templates: the developer key in `hapikey`, as the
            # client sends it (the fake refuses the token without it).
            query["hapikey"] = DEVELOPER_KEY
        try:
            data, status, _ = client.call_api(
                path,
                method,
                query_params=list(query.items()),
                header_params=headers,
                body=body,
                response_types_map=answers,
                auth_settings=[],
                _return_http_data_only=False,
            )
        except (ValueError, TypeError, AttributeError) as error:
            raise AssertionError(f"{method} {path}: the answer is not a valid {answers}: {error}")
        except package.ApiException as error:
            status = error.status
            if status not in answers:
                raise AssertionError(f"{method} {path}: {status} {error.body}")
            # An error answer: HubSpot's `Error` model.
            import json

            try:
                client._ApiClient__deserialize(json.loads(error.body), answers[status])
            except (ValueError, TypeError) as invalid:
                raise AssertionError(f"{method} {path}: {status} is not a valid {answers[status]}: {invalid}")
            data = None
        if status not in answers:
            raise AssertionError(f"{method} {path}: unexpected status {status}")
        self.checked.append(f"{method} {path} -> {status} {answers[status]}")
        return status, data


def rfc3339(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run(contract, app_id):
    c = contract
    # --- install (plugin/src/shell/install.rs through crm.rs) ---
    for object_type in ["contacts", "calls"]:
        group = {"name": "zoom_webinars", "label": "Zoom webinars", "displayOrder": -1}
        for expected in [201, 409]:
            status, _ = c.call(
                properties, "POST", f"/crm/v3/properties/{object_type}/groups", group,
                request="PropertyGroupCreate",
                answers={201: "PropertyGroup", 409: "Error"},
            )
            assert status == expected, (object_type, status)
    for object_type, name, kind, field in [
        ("contacts", "zoom_webinar_total_registrations", "number", "number"),
        ("contacts", "zoom_webinar_last_registered_url", "string", "text"),
        ("calls", CALL_KEY, "string", "text"),
    ]:
        prop = {
            "name": name, "label": name, "description": "Set by the Zoom webinars integration.",
            "groupName": "zoom_webinars", "type": kind, "fieldType": field,
        }
        for expected in [201, 409]:
            status, answer = c.call(
                properties, "POST", f"/crm/v3/properties/{object_type}", prop,
                request="PropertyCreate", answers={201: "ModelProperty", 409: "Error"},
            )
            assert status == expected, (name, status)
    templates = f"/integrators/timeline/v3/{app_id}/event-templates"
    # The portal's token is refused there (R10: templates are the developer's).
    c.call(timeline, "GET", templates, answers={401: "Error"})
    c.call(
        timeline, "GET", templates, developer=True,
        answers={200: "CollectionResponseTimelineEventTemplateNoPaging"},
    )
    template = {
        "name": "Zoom webinar registration", "objectType": "contacts",
        "headerTemplate": "Registered for {{webinar_name}}", "detailTemplate": "Webinar {{webinar_id}}",
        "tokens": [
            {"name": "webinar_id", "label": "Webinar id", "type": "string"},
            {"name": "duration_minutes", "label": "Minutes", "type": "number"},
        ],
    }
    _, created = c.call(
        timeline, "POST", templates, template, developer=True,
        request="TimelineEventTemplateCreateRequest", answers={201: "TimelineEventTemplate"},
    )
    template_id = created.id
    _, listed = c.call(
        timeline, "GET", templates, developer=True,
        answers={200: "CollectionResponseTimelineEventTemplateNoPaging"},
    )
    assert any(t.id == template_id for t in listed.results)

    # --- the workflow action's definition (R21, plugin/src/shell/crm/workflow_action.rs) ---
    definitions = f"/automation/v4/actions/{app_id}"
    # Only the developer key opens them, as for templates.
    c.call(actions, "GET", definitions, answers={401: "Error"})
    _, page = c.call(
        actions, "GET", definitions, developer=True, query={"limit": 100},
        answers={200: "CollectionResponsePublicActionDefinitionForwardPaging"},
    )
    assert page.results == [], page
    action_url = "https://host-sim.local/actions/add-contact-to-zoom-webinar"
    text = {"type": "string", "fieldType": "text", "options": [], "externalOptions": False}
    definition = {
        "actionUrl": action_url, "published": True, "objectTypes": ["CONTACT"], "functions": [],
        "inputFields": [{
            "typeDefinition": dict(text, name="webinar_id"),
            "supportedValueTypes": ["STATIC_VALUE", "OBJECT_PROPERTY"], "isRequired": True,
        }],
        "outputFields": [{"typeDefinition": dict(text, name=n)} for n in ["registrant_id", "join_url"]],
        "labels": {"en": {
            "actionName": "Add contact to Zoom webinar",
            "actionDescription": "Registers the contact for a Zoom webinar.",
            "appDisplayName": "Zoom webinars",
            "inputFieldLabels": {"webinar_id": "Webinar ID"},
            "inputFieldDescriptions": {"webinar_id": "The Zoom webinar ID, digits only."},
            "outputFieldLabels": {"registrant_id": "Zoom registrant ID", "join_url": "Join URL"},
        }},
    }
    _, made = c.call(
        actions, "POST", definitions, definition, developer=True,
        request="PublicActionDefinitionEgg", answers={201: "PublicActionDefinition"},
    )
    _, page = c.call(
        actions, "GET", definitions, developer=True, query={"limit": 100},
        answers={200: "CollectionResponsePublicActionDefinitionForwardPaging"},
    )
    assert [d.id for d in page.results if d.action_url == action_url] == [made.id], page
    patch = {k: v for k, v in definition.items() if k != "functions"}
    patch["labels"]["en"]["actionName"] = "Add contact to a Zoom webinar"
    _, patched = c.call(
        actions, "PATCH", f"{definitions}/{made.id}", patch, developer=True,
        request="PublicActionDefinitionPatch", answers={200: "PublicActionDefinition"},
    )
    assert patched.id == made.id and patched.revision_id != made.revision_id, patched

    # --- the sync (plugin/src/shell/sync.rs through crm.rs) ---
    _, page = c.call(
        owners, "GET", "/crm/v3/owners", query={"limit": 500},
        answers={200: "CollectionResponsePublicOwnerForwardPaging"},
    )
    assert page.results and page.results[0].email, page
    emails = ["ada@example.com", "ada@work.example", "new@example.com", "gone@example.com"]
    read = {
        "idProperty": "email", "properties": ["email"], "propertiesWithHistory": [],
        "inputs": [{"id": e} for e in emails],
    }
    for archived in ["true", "True"]:
        _, answer = c.call(
            contacts, "POST", "/crm/v3/objects/contacts/batch/read", read,
            request="BatchReadInputSimplePublicObjectId",
            query={"archived": archived},
            answers={200: "BatchResponseSimplePublicObject", 207: "BatchResponseSimplePublicObjectWithErrors"},
        )
        found = [r.properties["email"] for r in answer.results]
        assert found == ["gone@example.com"], (archived, found)
    upsert = {
        "inputs": [
            {"id": e, "idProperty": "email", "objectWriteTraceId": e, "properties": {}}
            for e in ["ada@work.example", "new@example.com", "not-an-email"]
        ]
    }
    status, answer = c.call(
        contacts, "POST", "/crm/v3/objects/contacts/batch/upsert", upsert,
        request="BatchInputSimplePublicObjectBatchInputUpsert",
        answers={200: "BatchResponseSimplePublicUpsertObject", 207: "BatchResponseSimplePublicUpsertObjectWithErrors"},
    )
    assert status == 207, status
    by_trace = {r.object_write_trace_id: r for r in answer.results}
    assert by_trace["ada@work.example"].properties["email"] == "ada@example.com"
    assert by_trace["new@example.com"].new
    assert answer.errors[0].context["ids"] == ["not-an-email"], answer.errors[0]
    ada = by_trace["ada@work.example"].id
    new = by_trace["new@example.com"].id

    event = {
        "externalAccountId": ACCOUNT, "externalEventId": WEBINAR, "eventName": "Pipeline reviews",
        "eventOrganizer": "Hannah Host", "eventType": "WEBINAR",
        "eventUrl": f"https://us06web.zoom.us/w/{WEBINAR}", "eventDescription": f"Zoom webinar {WEBINAR}",
        "startDateTime": "2026-11-20T15:00:00Z", "endDateTime": "2026-11-20T16:00:00Z",
        "eventCancelled": False, "eventCompleted": True,
    }
    for _ in range(2):
        c.call(
            marketing_events, "POST", "/marketing/v3/marketing-events/events/upsert", {"inputs": [event]},
            request="BatchInputMarketingEventCreateRequestParams",
            answers={200: "BatchResponseMarketingEventPublicDefaultResponse"},
        )
    at = 1795186800000
    for state, extra in [("register", {}), ("attend", {"properties": {"joinedAt": rfc3339(at), "leftAt": rfc3339(at + 1800000)}}), ("cancel", {})]:
        inputs = [dict({"email": e, "interactionDateTime": at}, **extra) for e in ["ada@example.com", "new@example.com", "not-an-email"]]
        status, answer = c.call(
            marketing_events, "POST",
            f"/marketing/v3/marketing-events/attendance/{WEBINAR}/{state}/email-create",
            {"inputs": inputs}, query={"externalAccountId": ACCOUNT},
            request="BatchInputMarketingEventEmailSubscriber",
            answers={200: "BatchResponseSubscriberEmailResponse", 207: "BatchResponseSubscriberEmailResponse"},
        )
        assert status == 207 and {r.email for r in answer.results} == {"ada@example.com", "new@example.com"}, answer
        assert answer.errors[0].context["emails"] == ["not-an-email"], answer.errors

    events = {
        "inputs": [
            {"eventTemplateId": template_id, "id": f"zoom-registration-{WEBINAR}-{i}", "objectId": contact,
             "tokens": {"webinar_id": WEBINAR}, "timestamp": "2026-11-20T15:00:00Z"}
            for i, contact in enumerate([ada, new])
        ]
    }
    for expected in [201, 207]:  # the second time: CONFLICT on the same ids
        status, answer = c.call(
            timeline, "POST", "/crm/v3/timeline/events/batch/create", events,
            request="BatchInputTimelineEvent",
            answers={201: "BatchResponseTimelineEventResponse", 207: "BatchResponseTimelineEventResponseWithErrors"},
        )
        assert status == expected, status
    assert {e.category for e in answer.errors} == {"CONFLICT"}, answer.errors

    # R10 without timeline access: custom events (plugin/src/shell/crm/activity.rs).
    # The definitions API has no model in this client: plain JSON.
    definition = {
        "label": "Attended a Zoom webinar", "name": "zoom_webinar_attendance",
        "description": "Attended {{webinar_name}}", "primaryObject": "CONTACT",
        "propertyDefinitions": [
            {"name": "webinar_id", "label": "Webinar ID", "type": "string"},
            {"name": "attendance_percentage", "label": "Duration (%)", "type": "number"},
        ],
    }
    _, made = c.call(events_send, "POST", "/events/v3/event-definitions", definition, answers={201: "object"})
    qualified = made["fullyQualifiedName"]
    occurrences = {"inputs": [{
        "eventName": qualified, "objectId": ada, "occurredAt": "2026-11-20T15:00:00Z",
        "uuid": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "properties": {"webinar_id": WEBINAR, "attendance_percentage": "75"},
    }]}
    for _ in range(2):  # the same uuid twice: one event, and a 204 each time
        c.call(
            events_send, "POST", "/events/v3/send/batch", occurrences,
            request="BatchedBehavioralEventHttpCompletionRequest", answers={204: None},
        )

    update = {"inputs": [
        {"id": new, "properties": {"zoom_webinar_total_registrations": "1", "firstname": "New", "lastname": "Person"}},
        {"id": "999999999", "properties": {"zoom_webinar_total_registrations": "1"}},
    ]}
    status, answer = c.call(
        contacts, "POST", "/crm/v3/objects/contacts/batch/update", update,
        request="BatchInputSimplePublicObjectBatchInput",
        answers={200: "BatchResponseSimplePublicObject", 207: "BatchResponseSimplePublicObjectWithErrors"},
    )
    assert status == 207 and answer.errors[0].context["ids"] == ["999999999"], answer

    # The workflow action reads the contact (plugin/src/shell/action.rs).
    c.call(
        contacts, "GET", f"/crm/v3/objects/contacts/{ada}",
        query={"properties": "email,firstname,lastname"},
        answers={200: "SimplePublicObjectWithAssociations"},
    )
    c.call(
        contacts, "GET", "/crm/v3/objects/contacts/999999999",
        query={"properties": "email"}, answers={404: "Error"},
    )

    # --- recordings: calls (plugin/src/shell/sync/recording.rs, crm/calls.rs) ---
    key = f"{WEBINAR}:{ada}"
    call = {
        "properties": {
            "hs_timestamp": "2026-11-20T15:00:00Z", "hs_call_title": "Pipeline reviews (recording)",
            "hs_call_body": "Hannah Host: Welcome.", "hs_call_recording_url": "https://us06web.zoom.us/rec/play/1",
            "hs_call_status": "COMPLETED", "hs_call_duration": "3600000", CALL_KEY: key,
        },
        "associations": [{"to": {"id": ada}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194}]}],
    }
    status, made = c.call(
        calls, "POST", "/crm/v3/objects/calls/batch/create",
        {"inputs": [dict(call, objectWriteTraceId=ada)]},
        request="BatchInputSimplePublicObjectBatchInputForCreate",
        answers={201: "BatchResponseSimplePublicObject", 207: "BatchResponseSimplePublicObjectWithErrors"},
    )
    assert status == 201 and made.results[0].properties[CALL_KEY] == key, made
    # After a lost answer: the contacts' calls, read from the records
    # (search lags writes), then their keys. The second contact has none.
    _, associated = c.call(
        associations, "POST", "/crm/v4/associations/contacts/calls/batch/read",
        {"inputs": [{"id": ada}, {"id": "999999999"}]},
        request="BatchInputPublicFetchAssociationsBatchRequest",
        answers={
            200: "BatchResponsePublicAssociationMultiWithLabel",
            207: "BatchResponsePublicAssociationMultiWithLabelWithErrors",
        },
    )
    call_ids = [str(to.to_object_id) for r in associated.results for to in r.to]
    assert call_ids == [made.results[0].id], associated
    _, read = c.call(
        calls, "POST", "/crm/v3/objects/calls/batch/read",
        {"inputs": [{"id": i} for i in call_ids], "properties": [CALL_KEY], "propertiesWithHistory": []},
        request="BatchReadInputSimplePublicObjectId",
        answers={200: "BatchResponseSimplePublicObject", 207: "BatchResponseSimplePublicObjectWithErrors"},
    )
    assert [r.properties[CALL_KEY] for r in read.results] == [key], read


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the fake CRM's base URL")
    parser.add_argument("--token", required=True)
    parser.add_argument("--app-id", required=True)
    args = parser.parse_args()
    contract = Contract(args.base.rstrip("/"), args.token)
    try:
        run(contract, args.app_id)
    except AssertionError as error:
        for line in contract.checked:
            print("ok  ", line)
        print("FAIL", error, file=sys.stderr)
        return 1
    for line in contract.checked:
        print("ok  ", line)
    print(f"{len(contract.checked)} requests checked against hubspot-api-client's models")
    return 0


if __name__ == "__main__":
    sys.exit(main())
