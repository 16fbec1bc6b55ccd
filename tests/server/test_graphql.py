"""GraphQL over HTTP against an app built from ``create_graphql_router`` (embedded store)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parents[1] / "queries"))
from queries_reference import BUILDING, ROOM, load, store_uri

from graph import TwinGraph, open_graph
from server.auth import Authenticator
from server.graphql import Containment, Limits, create_graphql_router

KEYS = {
    "r-secret": ("dash", "reader"),
    "w-secret": ("app", "writer"),
    "a-secret": ("ops", "admin"),
}
READER = {"Authorization": "Bearer r-secret"}
WRITER = {"X-API-Key": "w-secret"}
ADMIN = {"Authorization": "Bearer a-secret"}


@pytest.fixture(name="store",
                params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TwinGraph]:
    """The reference graph (tests/queries/queries_reference.py) on each store."""
    with open_graph(store_uri(request, request.param, tmp_path)) as graph:
        yield load(graph)


def make_client(store: TwinGraph, auth: Authenticator, limits: Limits | None = None) -> TestClient:
    app = FastAPI()
    app.include_router(create_graphql_router(store, auth=auth, limits=limits), prefix="/graphql")
    return TestClient(app)


@pytest.fixture
def client(store: TwinGraph) -> TestClient:
    return make_client(store, Authenticator.from_keys(KEYS))


def gql(
    client: TestClient, query: str, headers: dict[str, str] | None = None, **variables: Any
) -> dict[str, Any]:
    resp = client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers=READER if headers is None else headers,
    )
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


def data(
    client: TestClient, query: str, headers: dict[str, str] | None = None, **variables: Any
) -> dict[str, Any]:
    body = gql(client, query, headers, **variables)
    assert "errors" not in body, body["errors"]
    return body["data"]  # type: ignore[no-any-return]


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body["errors"]]


def test_twin_with_properties_and_relationships(client: TestClient) -> None:
    got = data(
        client,
        """{ twin(id: "floor1") { id model properties
        relationships { name target } } }""",
    )["twin"]
    assert got["id"] == "floor1"
    assert got["properties"] == {"name": "Ground", "area": 100.0, "level": 0}
    assert sorted((r["name"], r["target"]) for r in got["relationships"]) == [
        ("contains", "room1"),
        ("contains", "room1"),
        ("contains", "room2"),
    ]


def test_missing_twin_is_null(client: TestClient) -> None:
    assert data(client, '{ twin(id: "ghost") { id } }') == {"twin": None}


def test_incoming_relationships_and_property(client: TestClient) -> None:
    got = data(
        client,
        """{ twin(id: "room1") { property(name: "area")
        relationships(direction: IN, name: "isLocatedIn") { source id } } }""",
    )["twin"]
    assert got["property"] == 20.0
    assert [r["source"] for r in got["relationships"]] == ["sens1", "sens2"]


def test_traversals_on_a_twin(client: TestClient) -> None:
    got = data(
        client,
        """query($building: String!) { twin(id: "sens1") {
        ancestors { depth twin { id } }
        nearestAncestor(model: $building) { depth twin { id properties } }
        neighbors(names: ["feeds"], direction: BOTH) { twin { id } relationship { id source } }
        path(to: "sens3", via: ["feeds"]) { length ids twins { id } }
        siblings { id }
        paths(names: ["feeds"], maxHops: 2) { ids }
        expand(names: ["feeds"], minHops: 0) { depth twin { id } }
    } }""",
        building=BUILDING,
    )["twin"]
    assert [(a["twin"]["id"], a["depth"]) for a in got["ancestors"]] == [
        ("room1", 1),
        ("floor1", 2),
        ("bldg1", 3),
        ("site1", 4),
    ]
    assert got["nearestAncestor"]["twin"]["properties"]["name"] == "Main"
    assert [(n["twin"]["id"], n["relationship"]["source"]) for n in got["neighbors"]] == [
        ("sens2", "sens1"),
        ("sens3", "sens3"),
    ]
    assert got["path"] == {
        "length": 2,
        "ids": ["sens1", "sens2", "sens3"],
        "twins": [{"id": "sens1"}, {"id": "sens2"}, {"id": "sens3"}],
    }
    assert got["siblings"] == [{"id": "sens2"}]
    assert [p["ids"] for p in got["paths"]] == [
        ["sens1", "sens2"],
        ["sens1", "sens2", "sens2"],
        ["sens1", "sens2", "sens3"],
    ]
    assert [(e["twin"]["id"], e["depth"]) for e in got["expand"]] == [
        ("sens1", 0),
        ("sens2", 1),
        ("sens3", 2),
    ]


def test_descendants_with_filter_and_aggregate(client: TestClient) -> None:
    got = data(
        client,
        """query($room: String) { twin(id: "bldg1") {
        descendants(model: $room, where: [{property: "temperature", op: GT, value: 26}]) {
            depth twin { id property(name: "temperature") } }
        aggregate(property: "area") { model count values sum min max avg }
    } }""",
        room=ROOM,
    )["twin"]
    assert [(d["twin"]["id"], d["twin"]["property"]) for d in got["descendants"]] == [
        ("room2", 26.5),
        ("room3", 27.0),
    ]
    total = got["aggregate"][-1]
    assert total == {
        "model": None,
        "count": 9,
        "values": 4,
        "sum": 167.5,
        "min": 12.0,
        "max": 100.0,
        "avg": pytest.approx(41.875),
    }


def test_twins_search_sort_and_pages(client: TestClient) -> None:
    q = """query($after: String, $room: String) { twins(filter: {model: $room},
        sort: {property: "area"}, first: 2, after: $after) {
        nodes { id } pageInfo { endCursor hasNextPage } } }"""
    seen: list[str] = []
    after = None
    for _ in range(5):
        page = data(client, q, after=after, room=ROOM)["twins"]
        seen += [n["id"] for n in page["nodes"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert seen == ["room3", "room1", "room2", "room5", "room4"]


def test_models_listed(client: TestClient) -> None:
    got = data(client, "query($m: String!) { models { id } model(id: $m) { id extends } }", m=ROOM)
    assert len(got["models"]) == 7
    assert got["model"] == {"id": ROOM, "extends": ["dtmi:ref:Space;1"]}


def test_bad_traversal_argument_has_code(client: TestClient) -> None:
    body = gql(client, '{ twin(id: "site1") { neighbors(names: ["no spaces"]) { twin { id } } } }')
    assert codes(body) == ["BAD_QUERY"]
    assert "DTDL name" in body["errors"][0]["message"]


def test_containment_names_configurable(store: TwinGraph) -> None:
    app = FastAPI()
    router = create_graphql_router(store, auth=Authenticator.open_mode(),
                                   containment=Containment(down=("feeds",), up=()))
    app.include_router(router, prefix="/graphql")
    got = data(TestClient(app), '{ twin(id: "sens1") { descendants { depth twin { id } } } }', {})
    assert [(d["twin"]["id"], d["depth"]) for d in got["twin"]["descendants"]] == [
        ("sens2", 1), ("sens3", 2),
    ]


@pytest.mark.parametrize("query", [
    """{ twin(id: "bldg1") { descendants { depth twin { id model etag __typename } } } }""",
    """{ twin(id: "bldg1") { d: descendants(model: "dtmi:ref:Room;1") { depth
         t: twin { id ... on Twin { m: model } properties } } } }""",
    """query($skip: Boolean!) { twins(first: 20) { nodes { id model @skip(if: $skip)
         neighbors(first: 5) { twin { id } relationship { id name source target } } } } }""",
    """{ twin(id: "sens1") { paths(names: ["feeds"], maxHops: 3) { length ids
         relationships { id } twins { id } } aggregate(property: "value", scope: TRAVERSAL,
         names: ["feeds"]) { model count sum avg } } }""",
])
def test_fast_list_completion_matches_graphql_core(store: TwinGraph, query: str) -> None:
    """The fast completion of plain lists returns exactly what graphql-core would."""
    import asyncio

    from queries import QueryEngine
    from server.graphql.context import GraphQLContext
    from server.graphql.schema import build_schema

    auth = Authenticator.open_mode()
    limits = Limits()
    results = []
    for fast in (True, False):
        schema = build_schema(limits, store.registry, fast_lists=fast)
        ctx = GraphQLContext(store=store, engine=QueryEngine(store), auth=auth, limits=limits,
                             principal=auth.authenticate(None))
        result = asyncio.run(schema.execute(query, variable_values={"skip": True},
                                            context_value=ctx))
        assert not result.errors, result.errors
        results.append(result.data)
    assert results[0] == results[1]
    assert results[0]  # not vacuous: each query returns data


def test_id_and_model_only_answers_match_full_documents(client: TestClient) -> None:
    """Selecting only id and model skips reading the documents: same answer either way."""
    lean = data(client, """{ twin(id: "site1") { ancestors { depth twin { id } }
        descendants { depth twin { id model } } } }""")["twin"]
    full = data(client, """{ twin(id: "site1") { ancestors { depth twin { id etag } }
        descendants { depth twin { id model etag properties } } } }""")["twin"]
    assert [(d["depth"], d["twin"]["id"], d["twin"]["model"]) for d in lean["descendants"]] == [
        (d["depth"], d["twin"]["id"], d["twin"]["model"]) for d in full["descendants"]
    ]
    assert len(lean["descendants"]) == 13 and lean["ancestors"] == []
    assert all(d["twin"]["etag"] for d in full["descendants"])
    frag = data(client, """{ twin(id: "floor1") { descendants(depth: 1) {
        twin { ... on Twin { id model } } } } }""")["twin"]["descendants"]
    assert [d["twin"] for d in frag] == [{"id": "room1", "model": ROOM},
                                         {"id": "room2", "model": ROOM}]


def test_walk_documents_equal_the_twins_own(client: TestClient) -> None:
    """On Neo4j walks and neighbours read the documents they answer with (no second
    read): the same documents, etags and metadata as reading each twin."""
    walk = data(client, """{ twin(id: "site1") {
        descendants(where: [{property: "name", op: EXISTS}]) {
            depth twin { id model etag properties metadata } }
        ancestors { twin { id } } } }""")["twin"]["descendants"]
    near = data(client, """{ twin(id: "site1") { neighbors(direction: OUT) {
        twin { id model etag properties metadata } } } }""")["twin"]["neighbors"]
    assert len(walk) > 1 and near
    for d in walk + near:
        own = data(client, """query($id: String!) { twin(id: $id) {
            id model etag properties metadata } }""", id=d["twin"]["id"])["twin"]
        assert d["twin"] == own


NEIGHBOURS = """{ twin(id: "%s") { neighbors(%s) { relationship { id name source target }
    twin { __typename id model etag properties %s } } } }"""


@pytest.mark.parametrize(("twin", "args"), [
    ("room1", 'names: ["isLocatedIn"], direction: IN'),
    ("sens2", "direction: BOTH"),
    ("sens2", 'names: ["feeds"], direction: BOTH, first: 2'),
    ("floor1", f'names: ["contains", "hasPart"], model: "{ROOM}", '
               'where: [{property: "area", op: GT, value: 25}]'),
    ("room2", "direction: OUT"),
    ("ghost", "direction: IN"),
    ("room1", "direction: IN, first: -1"),
    ("room1", 'names: ["no spaces"]'),
])
def test_neighbours_with_plain_twin_fields_answer_as_with_more(client: TestClient, twin: str,
                                                               args: str) -> None:
    """Selecting only fields a twin's document holds, the embedded store answers from
    the walk's own read; with a resolver field (metadata) or a fragment, from twins
    read the usual way: the same answers and errors."""
    plain = gql(client, NEIGHBOURS % (twin, args, ""))
    fragment = gql(client, NEIGHBOURS.replace("__typename", "...T") % (twin, args, "")
                   + " fragment T on Twin { __typename }")
    full = gql(client, NEIGHBOURS % (twin, args, "metadata"))
    for n in ((full.get("data") or {}).get("twin") or {}).get("neighbors") or ():
        assert n["twin"].pop("metadata") is not None
    assert plain == fragment == full
    if twin in ("room1", "sens2") and "errors" not in plain:
        assert plain["data"]["twin"]["neighbors"]  # not vacuous


def test_traversals_as_deep_as_the_cap(client: TestClient, store: TwinGraph) -> None:
    """The default cap (max_traversal_depth=50) through GraphQL, not Azure's 10 hops."""
    from graph import RelationshipUpsert, TwinUpsert

    store.upsert_batch(
        [TwinUpsert(f"c{i}", ROOM, {"level": i}) for i in range(51)],
        [RelationshipUpsert(f"c{i}", "down", "contains", f"c{i + 1}") for i in range(50)],
    )
    got = data(client, '{ twin(id: "c0") { descendants { depth twin { id } } } }')
    assert [(d["depth"], d["twin"]["id"]) for d in got["twin"]["descendants"]] == [
        (i, f"c{i}") for i in range(1, 51)]
    q = """query($m: String) { twin(id: "c50") { ancestors(depth: 45, model: $m) { depth }
        path(to: "c0", via: ["contains"]) { ids } } }"""
    got = data(client, q, m=ROOM)
    assert [a["depth"] for a in got["twin"]["ancestors"]] == list(range(1, 46))
    assert got["twin"]["path"] is None  # contains points down the chain, not up
    got = data(client, '{ twin(id: "c0") { path(to: "c50", via: ["contains"]) { ids } } }')
    assert got["twin"]["path"]["ids"] == [f"c{i}" for i in range(51)]
    assert codes(gql(client, '{ twin(id: "c0") { descendants(depth: 51) { depth } } }')) == [
        "BAD_QUERY"]


def test_search_ids_only_matches_full_documents(client: TestClient) -> None:
    """``nodes { id }`` skips reading documents; the ids are the same as with more."""
    def search(nodes: str) -> list[dict[str, Any]]:
        q = ("query($m: String) { twins(filter: {model: $m, where: [{property: \"area\", "
             "op: GE, value: 20}]}) { nodes " + nodes + " } }")
        if "...T" in nodes:
            q += " fragment T on Twin { id }"
        return data(client, q, m=ROOM)["twins"]["nodes"]  # type: ignore[no-any-return]

    expected = ["room1", "room2", "room5"]
    assert search("{ id __typename }") == [{"id": i, "__typename": "Twin"} for i in expected]
    full = search('{ id model name: property(name: "name") }')
    assert [(n["id"], n["model"]) for n in full] == [(i, ROOM) for i in expected]
    assert full[0]["name"] == "Room 101"
    assert search("{ ...T }") == [{"id": i} for i in expected]


WALKS_ONLY = """{ twin(id: $id) { id ancestors { depth twin { id } }
    descendants { depth twin { id } } neighbors(direction: BOTH) { twin { id } }
    expand(direction: BOTH) { twin { id } } siblings { id } } }""".replace(
    "{ twin(id: $id)", "query Q($id: String!) { twin(id: $id)")


def test_missing_twin_is_null_when_only_walks_are_selected(client: TestClient) -> None:
    # The twin is not read first (its walks check it exists): still null, no error.
    assert data(client, WALKS_ONLY, id="ghost") == {"twin": None}
    for field in ("ancestors { depth }", "descendants { depth }", "siblings { id }",
                  "neighbors { twin { id } }", "expand { depth }"):
        assert data(client, f'{{ twin(id: "ghost") {{ {field} }} }}') == {"twin": None}, field


def test_walks_only_twin_that_exists(client: TestClient) -> None:
    got = data(client, WALKS_ONLY, id="sens3")["twin"]
    assert got["id"] == "sens3"
    assert [(r["depth"], r["twin"]["id"]) for r in got["ancestors"]] == [
        (1, "room3"), (2, "floor2"), (3, "bldg1"), (4, "site1")]
    assert got["descendants"] == []  # a leaf: the walk itself finds it exists
    assert sorted(n["twin"]["id"] for n in got["neighbors"]) == ["room3", "sens1", "sens2"]
    assert got["siblings"] == []
    both = data(client, """{ a: twin(id: "ghost") { descendants { depth } }
        b: twin(id: "floor1") { descendants(depth: 1) { twin { id } } } }""")
    assert both["a"] is None
    assert [r["twin"]["id"] for r in both["b"]["descendants"]] == ["room1", "room2"]


def test_walk_errors_other_than_a_missing_start_still_show(client: TestClient) -> None:
    body = gql(client, '{ twin(id: "ghost") { descendants(depth: 51) { depth } } }')
    assert body["data"] == {"twin": None}
    assert codes(body) == ["BAD_QUERY"]
