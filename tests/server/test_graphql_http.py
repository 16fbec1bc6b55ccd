"""GraphQL over HTTP at its edges: bodies that are not JSON, syntax errors, oversized
requests, the OpenAPI page, and uploading a model that already exists (both stores)."""

from __future__ import annotations

import sys
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
    codes,
    gql,
    store_fixture,  # noqa: F401 - the ``store`` fixture
)

from graph import TwinGraph
from server.auth import Authenticator
from server.graphql import Limits, create_graphql_router
from server.rest import create_rest_router

UPLOAD = "mutation($d: JSON!) { uploadModels(documents: $d) { id } }"


def make_app(store: TwinGraph, limits: Limits | None = None) -> TestClient:
    auth = Authenticator.from_keys(KEYS)
    app = FastAPI()
    app.include_router(create_graphql_router(store, auth=auth, limits=limits), prefix="/graphql")
    app.include_router(create_rest_router(store, auth=auth))
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(store: TwinGraph) -> TestClient:
    return make_app(store, Limits(max_request_bytes=1_000_000))


def refusal(resp: Any, status: int) -> dict[str, Any]:
    """The one GraphQL error of a request refused before any GraphQL ran."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["data"] is None and len(body["errors"]) == 1
    return body["errors"][0]  # type: ignore[no-any-return]


def test_deeply_nested_json_body_is_a_400(client: TestClient) -> None:
    depth = 50_000  # the standard library's json.loads raised RecursionError here (a 500)
    body = '{"query": ' + "[" * depth + "]" * depth + "}"
    resp = client.post("/graphql", content=body,
                       headers={**READER, "content-type": "application/json"})
    error = refusal(resp, 400)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "not valid JSON" in error["message"] and "depth" in error["message"]
    resp = client.post("/graphql", content=b'{"query": ', headers={**READER,
                       "content-type": "application/json"})
    assert refusal(resp, 400)["extensions"]["code"] == "BAD_REQUEST"
    # the server still answers
    assert gql(client, '{ twin(id: "room1") { id } }')["data"] == {"twin": {"id": "room1"}}


def test_syntax_errors_have_a_code(client: TestClient) -> None:
    body = gql(client, '{ twin(id: "room1") { id }')
    assert codes(body) == ["GRAPHQL_PARSE_FAILED"] and body["data"] is None
    assert "Syntax Error" in body["errors"][0]["message"]
    nested = gql(client, "{ twin " * 5_000)  # graphql-core's own nesting guard
    assert codes(nested) == ["GRAPHQL_PARSE_FAILED"]
    assert codes(gql(client, "{ nope }")) == ["GRAPHQL_VALIDATION_FAILED"]


def test_oversized_request_is_a_graphql_error(store: TwinGraph) -> None:
    client = make_app(store, Limits(max_request_bytes=200))
    query = '{ twin(id: "%s") { id } }' % ("x" * 300)
    error = refusal(client.post("/graphql", json={"query": query}, headers=READER), 413)
    assert error["extensions"]["code"] == "TOO_LARGE"
    assert "max_request_bytes=200" in error["message"]

    def chunks() -> Any:  # no content-length: the body is measured as read
        yield b'{"query": "'
        yield b"x" * 300
        yield b'"}'

    resp = client.post("/graphql", content=chunks(),
                       headers={**READER, "content-type": "application/json"})
    assert refusal(resp, 413)["extensions"]["code"] == "TOO_LARGE"


def test_openapi_page_describes_graphql(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    summaries = {method: op["summary"] for method, op in paths["/graphql"].items()}
    assert set(summaries) == {"get", "post"}
    assert not any(s.startswith("Handle Http") for s in summaries.values())
    assert "GraphQL operation" in summaries["post"]


def test_uploading_an_existing_model_is_a_conflict(client: TestClient) -> None:
    existing = {"@context": "dtmi:dtdl:context;3", "@id": ROOM, "@type": "Interface"}
    resp = client.post("/models", json=existing, headers=ADMIN)
    assert resp.status_code == 409, resp.text
    error = resp.json()["error"]
    assert error["code"] == "CONFLICT" and ROOM in error["message"]
    files = {"files": ("Room.json", b'{"@context": "dtmi:dtdl:context;3", "@id": "%s", '
                       b'"@type": "Interface"}' % ROOM.encode(), "application/json")}
    resp = client.post("/models", files=files, headers=ADMIN)
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "CONFLICT"
    body = gql(client, UPLOAD, ADMIN, d=[existing])
    assert codes(body) == ["CONFLICT"] and ROOM in body["errors"][0]["message"]
