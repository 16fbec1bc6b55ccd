"""REST model upload beside GraphQL: files, zips, JSON bodies, errors with locations, roles."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from graph import TwinGraph, open_graph
from server.auth import Authenticator
from server.rest import create_rest_router

ADMIN = {"Authorization": "Bearer a"}
READER = {"X-API-Key": "r"}

SPACE = {
    "@context": "dtmi:dtdl:context;3",
    "@id": "dtmi:up:Space;1",
    "@type": "Interface",
    "contents": [{"@type": "Property", "name": "name", "schema": "string"}],
}
ROOM = {
    "@context": "dtmi:dtdl:context;3",
    "@id": "dtmi:up:Room;1",
    "@type": "Interface",
    "extends": "dtmi:up:Space;1",
}
BAD_TEXT = """{
  "@context": "dtmi:dtdl:context;3",
  "@id": "dtmi:up:Bad;1",
  "@type": "Interface",
  "contents": [
    {"@type": "Property", "name": "ok", "schema": "notASchema"}
  ]
}
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TwinGraph]:
    with open_graph(f"embedded:{tmp_path / 'store'}") as graph:
        yield graph


@pytest.fixture
def client(store: TwinGraph) -> TestClient:
    app = FastAPI()
    auth = Authenticator.from_keys({"a": ("ops", "admin"), "r": ("dash", "reader")})
    app.include_router(create_rest_router(store, auth=auth))
    return TestClient(app)


def test_upload_files_then_list(client: TestClient) -> None:
    files = [
        ("files", ("Space.json", json.dumps(SPACE), "application/json")),
        ("files", ("Room.json", json.dumps(ROOM), "application/json")),
    ]
    resp = client.post("/models", files=files, headers=ADMIN)
    assert resp.status_code == 201, resp.text
    assert sorted(m["id"] for m in resp.json()) == ["dtmi:up:Room;1", "dtmi:up:Space;1"]
    listed = client.get("/models", headers=READER).json()
    assert [m["id"] for m in listed] == ["dtmi:up:Room;1", "dtmi:up:Space;1"]
    one = client.get("/models/dtmi:up:Room;1", headers=READER).json()
    assert one["document"]["extends"] == "dtmi:up:Space;1"


def test_upload_zip(client: TestClient) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("models/Space.json", json.dumps(SPACE))
        z.writestr("models/Room.json", json.dumps(ROOM))
        z.writestr("README.txt", "not a model")
    resp = client.post("/models", files={"files": ("set.zip", buf.getvalue())}, headers=ADMIN)
    assert resp.status_code == 201, resp.text
    assert len(resp.json()) == 2


def test_upload_accepts_files_under_any_field_name(client: TestClient) -> None:
    # `curl -F model=@Space.json` names the field freely; the upload must still work.
    files = [("model", ("Space.json", json.dumps(SPACE), "application/json"))]
    resp = client.post("/models", files=files, headers=ADMIN)
    assert resp.status_code == 201, resp.text
    assert [m["id"] for m in resp.json()] == ["dtmi:up:Space;1"]


def test_multipart_without_files_is_a_clear_400(client: TestClient) -> None:
    resp = client.post("/models", data={"note": "no file here"}, files=[], headers=ADMIN)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["code"] == "BAD_REQUEST"


def test_upload_json_body(client: TestClient) -> None:
    resp = client.post("/models", json=[SPACE, ROOM], headers=ADMIN)
    assert resp.status_code == 201, resp.text


def test_invalid_model_reports_file_line_column(client: TestClient, store: TwinGraph) -> None:
    files = [("files", ("Space.json", json.dumps(SPACE))), ("files", ("Bad.json", BAD_TEXT))]
    resp = client.post("/models", files=files, headers=ADMIN)
    assert resp.status_code == 422
    err = resp.json()["error"]
    assert err["code"] == "MODEL_INVALID"
    located = [e for e in err["errors"] if e["file"] == "Bad.json"]
    assert located and located[0]["line"] == 6, err["errors"]
    assert store.list_models() == []  # all or nothing


def test_roles_and_missing(client: TestClient) -> None:
    resp = client.post("/models", json=SPACE)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "UNAUTHENTICATED"
    resp = client.post("/models", json=SPACE, headers=READER)
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "FORBIDDEN"
    resp = client.get("/models/dtmi:up:Nope;1", headers=READER)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "NOT_FOUND"
    assert client.post("/models", content=b"", headers=ADMIN).status_code == 400


def test_duplicate_and_delete(client: TestClient) -> None:
    assert client.post("/models", json=SPACE, headers=ADMIN).status_code == 201
    assert client.post("/models", json=SPACE, headers=ADMIN).json()["error"]["code"] == "CONFLICT"
    resp = client.post("/models/dtmi:up:Space;1/decommission", headers=ADMIN)
    assert resp.json()["decommissioned"] is True
    assert client.delete("/models/dtmi:up:Space;1", headers=ADMIN).status_code == 204
    assert client.get("/models", headers=READER).json() == []
