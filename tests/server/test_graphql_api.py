"""GraphQL mutations, roles, limits, error codes and subscriptions (embedded store)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "queries"))
from queries_reference import ROOM
from test_graphql import (  # the store fixture runs every test on both stores
    ADMIN,
    KEYS,
    READER,
    WRITER,
    codes,
    data,
    gql,
    make_client,
    store_fixture,  # noqa: F401 - the ``store`` fixture
)

from graph import PropertyUpdate, TwinGraph
from server.auth import Authenticator
from server.graphql import Limits, create_graphql_router


@pytest.fixture
def client(store: TwinGraph) -> TestClient:
    return make_client(store, Authenticator.from_keys(KEYS))


CREATE = """mutation($props: JSON) { createTwin(id: "room9", model: "%s", properties: $props)
    { id etag properties } }""".replace("%s", ROOM)


# ------------------------------------------------------------------ mutations


def test_create_then_read_sees_the_write(client: TestClient) -> None:
    made = data(client, CREATE, WRITER, props={"name": "New", "area": 9.5})["createTwin"]
    assert made["properties"] == {"name": "New", "area": 9.5}
    got = data(client, '{ twin(id: "room9") { properties etag } }')["twin"]
    assert got == {"properties": {"name": "New", "area": 9.5}, "etag": made["etag"]}


def test_patch_with_etag(client: TestClient) -> None:
    etag = data(client, '{ twin(id: "room1") { etag } }')["twin"]["etag"]
    patch = [{"op": "replace", "path": "/area", "value": 21.0}]
    q = """mutation($p: JSON!, $e: String) { patchTwin(id: "room1", patch: $p, ifMatch: $e)
        { etag property(name: "area") } }"""
    done = data(client, q, WRITER, p=patch, e=etag)["patchTwin"]
    assert done["property"] == 21.0 and done["etag"] != etag
    stale = gql(client, q, WRITER, p=patch, e=etag)
    assert codes(stale) == ["PRECONDITION_FAILED"]


def test_validation_error_lists_problems(client: TestClient) -> None:
    body = gql(client, CREATE, WRITER, props={"area": "big"})
    assert codes(body) == ["VALIDATION_FAILED"]
    problems = body["errors"][0]["extensions"]["problems"]
    assert [p["path"] for p in problems] == ["/area"]


def test_conflict_and_not_found_codes(client: TestClient) -> None:
    data(client, CREATE, WRITER, props={})
    assert codes(gql(client, CREATE, WRITER, props={})) == ["CONFLICT"]
    body = gql(client, 'mutation { deleteTwin(id: "ghost") }', WRITER)
    assert codes(body) == ["NOT_FOUND"]


def test_bad_patch_shape(client: TestClient) -> None:
    body = gql(client, 'mutation { patchTwin(id: "room1", patch: {op: "add"}) { id } }', WRITER)
    assert codes(body) == ["INVALID_PATCH"]


def test_relationship_mutations(client: TestClient) -> None:
    data(client, CREATE, WRITER, props={})
    q = """mutation { createRelationship(source: "floor1", id: "c-r9", name: "contains",
        target: "room9") { id source target targetTwin { id } } }"""
    rel = data(client, q, WRITER)["createRelationship"]
    assert rel == {
        "id": "c-r9",
        "source": "floor1",
        "target": "room9",
        "targetTwin": {"id": "room9"},
    }
    kids = data(client, '{ twin(id: "floor1") { descendants(depth: 1) { twin { id } } } }')
    assert "room9" in [d["twin"]["id"] for d in kids["twin"]["descendants"]]
    data(client, 'mutation { deleteRelationship(source: "floor1", id: "c-r9") }', WRITER)
    data(client, 'mutation { deleteTwin(id: "room9") }', WRITER)
    assert data(client, '{ twin(id: "room9") { id } }') == {"twin": None}


def test_model_upload_errors_are_structured(client: TestClient) -> None:
    bad = {
        "@context": "dtmi:dtdl:context;3",
        "@id": "dtmi:x:Bad;1",
        "@type": "Interface",
        "contents": [{"@type": "Property", "name": "9lives", "schema": "nope"}],
    }
    body = gql(client, "mutation($d: JSON!) { uploadModels(documents: $d) { id } }", ADMIN, d=[bad])
    assert codes(body) == ["MODEL_INVALID"]
    errors = body["errors"][0]["extensions"]["errors"]
    assert errors and all({"code", "message", "line", "column", "file"} <= e.keys() for e in errors)
    good = {"@context": "dtmi:dtdl:context;3", "@id": "dtmi:x:Good;1", "@type": "Interface"}
    up = data(client, "mutation($d: JSON!) { uploadModels(documents: $d) { id } }", ADMIN, d=good)
    assert up == {"uploadModels": [{"id": "dtmi:x:Good;1"}]}


# ------------------------------------------------------------------ roles


def test_unauthenticated_refused_before_running(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-API-Key": ""}):
        body = gql(client, CREATE, headers, props={})
        assert codes(body) == ["UNAUTHENTICATED"] and body["data"] is None
    assert data(client, '{ twin(id: "room9") { id } }') == {"twin": None}


def test_reader_cannot_write_writer_cannot_upload(client: TestClient) -> None:
    assert codes(gql(client, CREATE, READER, props={})) == ["FORBIDDEN"]
    body = gql(client, "mutation { uploadModels(documents: []) { id } }", WRITER)
    assert codes(body) == ["FORBIDDEN"]
    assert "admin" in body["errors"][0]["message"]
    data(client, CREATE, WRITER, props={})


def test_open_mode_needs_no_credentials(store: TwinGraph) -> None:
    client = make_client(store, Authenticator.open_mode())
    assert data(client, '{ twin(id: "site1") { id } }', {}) == {"twin": {"id": "site1"}}


def test_keys_file(tmp_path: Path) -> None:
    import hashlib

    digest = hashlib.sha256(b"hashed-secret").hexdigest()
    path = tmp_path / "keys.yaml"
    path.write_text(
        f"keys:\n  - {{name: a, role: reader, sha256: {digest}}}\n"
        "  - {name: b, role: admin, key: plain-secret}\n"
    )
    auth = Authenticator.from_file(path)
    assert auth.authenticate("hashed-secret").role == "reader"
    assert auth.authenticate_headers({"authorization": "Bearer plain-secret"}).name == "b"
    path.write_text("keys:\n  - {name: c, role: root, key: x}\n")
    with pytest.raises(ValueError, match=r"keys\[0\]: role must be one of"):
        Authenticator.from_file(path)


# ------------------------------------------------------------------ limits


def test_depth_limit_refuses_before_running(store: TwinGraph) -> None:
    client = make_client(store, Authenticator.from_keys(KEYS), Limits(max_depth=3))
    q = """mutation { createTwin(id: "room9", model: "%s") {
        neighbors { twin { neighbors { twin { id } } } } } }""".replace("%s", ROOM)
    body = gql(client, q, WRITER)
    assert codes(body) == ["QUERY_TOO_DEEP"]
    assert "max_depth is 3" in body["errors"][0]["message"]
    assert data(client, '{ twin(id: "room9") { id } }') == {"twin": None}


def test_cost_limit(store: TwinGraph) -> None:
    client = make_client(store, Authenticator.from_keys(KEYS), Limits(max_cost=500))
    assert data(client, "{ twins(first: 10) { nodes { id model } } }")
    body = gql(client, "{ twins(first: 100) { nodes { id descendants { twin { id } } } } }")
    assert codes(body) == ["QUERY_TOO_COSTLY"]
    assert "max_cost is 500" in body["errors"][0]["message"]


def test_page_and_traversal_caps(store: TwinGraph) -> None:
    client = make_client(
        store, Authenticator.from_keys(KEYS), Limits(max_page_size=10, max_traversal_depth=5)
    )
    body = gql(client, "{ twins(first: 11) { nodes { id } } }")
    assert codes(body) == ["PAGE_TOO_LARGE"] and "max_page_size=10" in body["errors"][0]["message"]
    body = gql(client, '{ twin(id: "site1") { descendants(depth: 6) { depth } } }')
    assert codes(body) == ["BAD_QUERY"] and "max_depth=5" in body["errors"][0]["message"]
    # traversal lists without ``first`` stop at max_page_size too
    got = data(client, '{ twin(id: "site1") { descendants { depth } } }')
    assert len(got["twin"]["descendants"]) == 10


def test_paths_cap(store: TwinGraph) -> None:
    q = '{ twin(id: "sens1") { paths(names: ["feeds"], maxHops: 3) { ids } } }'
    client = make_client(store, Authenticator.from_keys(KEYS), Limits(max_paths=2))
    assert len(data(client, q)["twin"]["paths"]) == 2
    client = make_client(store, Authenticator.from_keys(KEYS))
    assert len(data(client, q)["twin"]["paths"]) == 5


def test_request_size_limit(store: TwinGraph) -> None:
    client = make_client(store, Authenticator.from_keys(KEYS), Limits(max_request_bytes=200))
    resp = client.post(
        "/graphql", json={"query": '{ twin(id: "%s") { id } }' % ("x" * 300)}, headers=READER
    )
    assert resp.status_code == 413
    assert "max_request_bytes=200" in resp.text


# ------------------------------------------------------------------ subscriptions


def _subscribe(client: TestClient, query: str, init: dict[str, Any]) -> Any:
    ws = client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"])
    conn = ws.__enter__()
    conn.send_json({"type": "connection_init", "payload": init})
    assert conn.receive_json()["type"] == "connection_ack"
    conn.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})
    return ws, conn


def _keep_writing(store: TwinGraph, stop: threading.Event) -> threading.Thread:
    """Telemetry for room1 every 20 ms until stopped: the subscription may start late."""

    def loop() -> None:
        n = 0
        while not stop.wait(0.02):
            n += 1
            store.apply_property_updates(
                [PropertyUpdate("room1", {"temperature": 20.0 + n}, f"2030-01-01T00:00:{n:02d}Z")]
            )

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def test_subscription_receives_telemetry_updates(client: TestClient, store: TwinGraph) -> None:
    q = """subscription { twinChanges(subtree: "bldg1", property: "temperature")
        { kind id patch data } }"""
    ws, conn = _subscribe(client, q, {"authorization": "Bearer r-secret"})
    stop = threading.Event()
    writer = _keep_writing(store, stop)
    try:
        msg = conn.receive_json()
    finally:
        stop.set()
        writer.join()
        ws.__exit__(None, None, None)
    assert msg["type"] == "next", msg
    event = msg["payload"]["data"]["twinChanges"]
    assert (event["kind"], event["id"]) == ("twin.updated", "room1")
    assert [op["path"] for op in event["patch"]] == ["/temperature"]
    assert event["data"]["properties"]["temperature"] > 20.0


def test_subscription_needs_credentials(client: TestClient) -> None:
    ws, conn = _subscribe(client, "subscription { twinChanges { id } }", {})
    try:
        msg = conn.receive_json()
    finally:
        ws.__exit__(None, None, None)
    assert msg["type"] == "error" or "errors" in msg.get("payload", {}), msg
    errors = msg["payload"] if msg["type"] == "error" else msg["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_graphiql_page_served_without_cdn(store: TwinGraph) -> None:
    app = FastAPI()
    app.include_router(
        create_graphql_router(store, auth=Authenticator.from_keys(KEYS)), prefix="/graphql"
    )
    client = TestClient(app)
    page = client.get("/graphql", headers={"Accept": "text/html"})  # no credentials needed
    assert page.status_code == 200 and "GraphiQL" in page.text
    assert "unpkg" not in page.text and "cdn" not in page.text.lower()
    import re

    assets = re.findall(r'(?:src|href)="(/[^"]+)"', page.text)
    assert len(assets) == 5 and all(a.startswith("/graphql/static/graphiql/") for a in assets)
    for asset in assets:
        got = client.get(asset)
        assert got.status_code == 200 and len(got.content) > 500, asset
    assert client.get("/graphql/static/graphiql/../../etc/passwd").status_code == 404


class _SlowStore:
    """A store whose reads take a second: stands in for an overloaded database."""

    def __init__(self, store: TwinGraph) -> None:
        self._store = store

    def get_twins(self, ids: list[str]) -> Any:
        import time

        time.sleep(1.0)
        return self._store.get_twins(ids)

    def __getattr__(self, name: str) -> Any:
        if name == "read_view":  # not the in-memory store: calls go to worker threads
            raise AttributeError(name)
        return getattr(self._store, name)


def test_timeout(store: TwinGraph) -> None:
    slow = _SlowStore(store)
    client = make_client(slow, Authenticator.from_keys(KEYS),  # type: ignore[arg-type]
                         Limits(timeout_seconds=0.2))
    body = gql(client, '{ twin(id: "room1") { id } }')
    assert codes(body) == ["TIMEOUT"] and "timeout_seconds=0.2" in body["errors"][0]["message"]


def test_subscription_subtree_follows_containment_changes(
    client: TestClient, store: TwinGraph
) -> None:
    q = """subscription { twinChanges(subtree: "bldg2", property: "temperature")
        { id data } }"""
    ws, conn = _subscribe(client, q, {"apiKey": "r-secret"})
    stop = threading.Event()

    def warm_room5() -> None:  # inside bldg2's subtree from the start
        n = 0
        while not stop.wait(0.02):
            n += 1
            store.apply_property_updates(
                [PropertyUpdate("room5", {"temperature": 1.0 + n}, f"2030-01-01T00:00:{n:02d}Z")]
            )

    thread = threading.Thread(target=warm_room5, daemon=True)
    thread.start()
    try:
        first = conn.receive_json()  # the subscription is live
        stop.set()
        thread.join()
        assert first["payload"]["data"]["twinChanges"]["id"] == "room5"
        # room1 (bldg1) joins bldg2's subtree; then one update of room1 and a sentinel
        store.create_relationship("floor3", "c-r1", "contains", "room1")
        store.apply_property_updates([PropertyUpdate("room1", {"temperature": 99.0},
                                                     "2031-01-01T00:00:00Z")])
        store.apply_property_updates([PropertyUpdate("room5", {"temperature": -1.0},
                                                     "2031-01-01T00:00:00Z")])
        seen = []
        while True:
            event = conn.receive_json()["payload"]["data"]["twinChanges"]
            seen.append(event["id"])
            if event["data"]["properties"]["temperature"] in (99.0, -1.0):
                break
    finally:
        stop.set()
        ws.__exit__(None, None, None)
    assert seen[-1] == "room1", seen  # room1's update came, before the sentinel
