"""Compiled query plans (server.graphql.compiled) answer exactly as graphql-core does.

Every query runs on the reference graph, on each store: through a schema
without plans (strawberry and graphql-core), then three times through one with
plans (the first time as usual, since a document is compiled when it comes
again; the second compiled and run inside strawberry's execution; the third
from the cache before strawberry runs).  The results (data and formatted
errors) must be identical, and the plan must have answered the queries it
supports and left the others (errors, directives, introspection) to graphql-core.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from strawberry.types.graphql import OperationType

sys.path.insert(0, str(Path(__file__).parents[1] / "queries"))
from queries_reference import BUILDING, ROOM, load, store_uri

from graph import TwinGraph, open_graph
from queries import QueryEngine
from server.auth import Authenticator
from server.graphql import Limits
from server.graphql.context import GraphQLContext
from server.graphql.schema import LiveSchema


@pytest.fixture(name="store",
                params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TwinGraph]:
    with open_graph(store_uri(request, request.param, tmp_path)) as graph:
        yield load(graph)


DEPTH = """query($d: Int, $id: String!) { twin(id: $id) { descendants(depth: $d) {
    depth twin { id } } } }"""

# (query, variables, operation name): answered by the plan.
COMPILED: list[tuple[str, dict[str, Any], str | None]] = [
    ("""{ twin(id: "floor1") { id model etag properties
         relationships { id name source target etag properties } } }""", {}, None),
    ('{ twin(id: "ghost") { id } }', {}, None),
    ("""query($id: String!) { twin(id: $id) {
         neighbors(names: ["isLocatedIn"], direction: IN) { twin { id model properties } } } }""",
     {"id": "room1"}, None),
    ("""query($id: String!) { twin(id: $id) { a: ancestors { depth twin { id model } }
         b: ancestors(depth: 1) { d: depth } } }""", {"id": "sens3"}, None),
    ("""query($building: String!) { twin(id: "sens1") {
         ancestors { depth twin { id } }
         nearestAncestor(model: $building) { depth twin { id properties } }
         neighbors(names: ["feeds"], direction: BOTH) { twin { id } relationship { id source } }
         path(to: "sens3", via: ["feeds"]) { length ids twins { id } relationships { id name } }
         siblings { id } paths(names: ["feeds"], maxHops: 2) { ids }
         expand(names: ["feeds"], minHops: 0) { depth twin { id } } } }""",
     {"building": BUILDING}, None),
    ("""query($room: String) { twin(id: "bldg1") {
         descendants(model: $room, where: [{property: "temperature", op: GT, value: 26}]) {
           depth twin { id property(name: "temperature") } }
         aggregate(property: "area") { model count values sum min max avg } } }""",
     {"room": ROOM}, None),
    ("""query($m: String, $after: String) { twins(filter: {model: $m}, first: 2,
         after: $after) { nodes { ...T } pageInfo { endCursor hasNextPage } } }
         fragment T on Twin { id model }""", {"m": ROOM, "after": None}, None),
    ("""query($f: TwinFilterInput) { twins(filter: $f, sort: {property: "area",
         descending: true}, first: 5) { nodes { id } } }""",
     {"f": {"model": ROOM, "where": [{"property": "area", "op": "GE", "value": 20}]}}, None),
    ("""query($m: String!) { models { id uploadTime decommissioned displayName extends }
         model(id: $m) { id extends contents document } }""", {"m": ROOM}, None),
    ("""{ room(id: "room1") { id model temperature area level occupied name }
         floor(id: "floor1") { name level contains { id name } }
         sensor(id: "sens1") { value firmware isLocatedIn { id } feeds { id firmware } } }""",
     {}, None),
    ("""{ wrong: room(id: "sens1") { id } missing: room(id: "nope") { id }
         base: space(id: "room2") { id name __typename twin { id } } }""", {}, None),
    ("""{ __typename twin(id: "room1") { __typename id metadata modelInfo { id }
         property(name: "nothing") } }""", {}, None),
    ("""{ twin(id: "bldg1") { ... on Twin { id } ...F } }
         fragment F on Twin { descendants(depth: 1) { twin { id ... on Twin { m: model } } } }""",
     {}, None),
    ("""{ twin(id: "floor1") { id descendants(depth: 1) { twin { id } }
         descendants(depth: 1) { depth twin { model } } } }""", {}, None),
    ("""{ twin(id: "sens1") { relationships(direction: BOTH) { id sourceTwin { id }
         targetTwin { id model } } } }""", {}, None),
    ("query A { twin(id: \"room1\") { id } } query B { twin(id: \"room2\") { id etag } }",
     {}, "B"),
    # strawberry runs the first operation when none is named
    ("query A { twin(id: \"room1\") { id } } query B { twin(id: \"room2\") { id } }", {}, None),
    ("""query($depth: Int = 1) { twin(id: "site1") { descendants(depth: $depth) {
         twin { id } } } }""", {}, None),
    (DEPTH, {"d": 1, "id": "site1"}, None),
    (DEPTH, {"d": None, "id": "site1"}, None),
    (DEPTH, {"id": "site1"}, None),
    ("""query($id: String!) { twin(id: $id) { id ancestors { depth twin { id } }
         descendants { depth twin { id } } neighbors(direction: BOTH) { twin { id } }
         expand(direction: BOTH) { twin { id } } siblings { id } } }""", {"id": "floor2"}, None),
    ("""{ a: twin(id: "ghost") { id } b: twin(id: "floor1") {
         descendants(depth: 1) { twin { id } } } }""", {}, None),
]

# Left to graphql-core: errors, directives, introspection, bad variables, mutations.
NOT_COMPILED: list[tuple[str, dict[str, Any], str | None]] = [
    ('{ twin(id: "site1") { neighbors(names: ["no spaces"]) { twin { id } } } }', {}, None),
    ('{ twin(id: "site1") { descendants(first: 999999) { depth } } }', {}, None),
    ('{ twin(id: "ghost") { descendants { depth } } }', {}, None),
    ("""{ a: twin(id: "ghost") { descendants { depth } } b: twin(id: "floor1") {
         descendants(depth: 1) { twin { id } } } }""", {}, None),
    ("""query($skip: Boolean!) { twin(id: "room1") { id model @skip(if: $skip) } }""",
     {"skip": True}, None),
    ("{ __schema { queryType { name } } }", {}, None),
    ('query($id: String!) { twin(id: $id) { id } }', {}, None),
    ('query($id: String!) { twin(id: $id) { id } }', {"id": 5}, None),
    (DEPTH, {"d": 2**40, "id": "site1"}, None),
    (DEPTH, {"d": True, "id": "site1"}, None),
    (DEPTH, {"d": 1, "id": None}, None),
    ('mutation { deleteTwin(id: "nope") }', {}, None),
    ('{ twin(id: "room1") { nope } }', {}, None),
]


def _run(store: TwinGraph, schema: LiveSchema, query: str, variables: dict[str, Any],
         name: str | None) -> tuple[Any, list[Any]]:
    auth = Authenticator.open_mode()
    ctx = GraphQLContext(store=store, engine=QueryEngine(store), auth=auth, limits=Limits(),
                         principal=auth.authenticate(None))
    result = asyncio.run(schema.execute(
        query, variable_values=variables, context_value=ctx, operation_name=name,
        allowed_operation_types=OperationType.from_http("POST")))  # as the HTTP view asks
    return result.data, [e.formatted for e in result.errors or ()]


def _every_way(store: TwinGraph, query: str, variables: dict[str, Any],
                name: str | None) -> tuple[list[tuple[Any, list[Any]]], int]:
    plain = LiveSchema(store, Limits(), compiled=False)
    compiled = LiveSchema(store, Limits())
    results = [_run(store, plain, query, variables, name)]
    results += [_run(store, compiled, query, variables, name) for _ in range(3)]
    return results, compiled.current().plans.answered


@pytest.mark.parametrize(("query", "variables", "name"), COMPILED)
def test_plan_answers_like_graphql_core(store: TwinGraph, query: str,
                                        variables: dict[str, Any], name: str | None) -> None:
    results, answered = _every_way(store, query, variables, name)
    assert all(r == results[0] for r in results)
    data, errors = results[0]
    assert data and not errors  # not vacuous: an answer without errors
    assert answered == 2  # both runs after the first came from the plan


@pytest.mark.parametrize(("query", "variables", "name"), NOT_COMPILED)
def test_graphql_core_answers_what_plans_do_not(store: TwinGraph, query: str,
                                                variables: dict[str, Any],
                                                name: str | None) -> None:
    results, answered = _every_way(store, query, variables, name)
    assert all(r == results[0] for r in results)
    assert answered == 0


def test_ghost_twin_walks_answer_null_without_errors(store: TwinGraph) -> None:
    """A walk below a missing twin makes the plan give up; graphql-core's answer is
    ``twin: null`` with no error (UnreadTwinMissing is dropped)."""
    results, _ = _every_way(store, '{ twin(id: "ghost") { descendants { depth } } }', {}, None)
    assert results[-1] == ({"twin": None}, [])


def test_changed_models_get_new_plans(tmp_path: Path) -> None:
    """Plans belong to one schema: after a model upload the new typed root field is
    compiled against the new schema."""
    with open_graph(f"embedded:{tmp_path / 'fresh'}") as fresh:
        load(fresh)
        schema = LiveSchema(fresh, Limits())
        query = '{ twin(id: "room1") { id } }'
        for _ in range(2):
            _run(fresh, schema, query, {}, None)
        first = schema.current()
        assert first.plans.answered == 1
        fresh.add_models([{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:ref:Lamp;1",
                           "@type": "Interface", "contents": []}])
        for _ in range(2):
            assert _run(fresh, schema, '{ lamp(id: "room1") { id } }', {}, None) == (
                {"lamp": None}, [])
        assert schema.current() is not first and schema.current().plans.answered == 1


def test_a_document_seen_once_is_not_compiled(store: TwinGraph) -> None:
    """Compiling costs about as much as one normal run: a document with its values
    written in, sent once, never pays for a plan."""
    schema = LiveSchema(store, Limits())
    for room in ("room1", "room2", "room3"):
        assert _run(store, schema, f'{{ twin(id: "{room}") {{ id }} }}', {}, None) == (
            {"twin": {"id": room}}, [])
    plans = schema.current().plans
    assert plans.answered == 0 and plans.get('{ twin(id: "room1") { id } }', None) is None


def test_generated_object_code_reads_like_graphql_cores_default_resolver() -> None:
    """Generated object completers read dicts, other mappings and attributes alike,
    pass plain values through, and give up where graphql-core would not simply
    read a value (a callable attribute, an Int past 32 bits, a null for non-null)."""
    from collections import UserDict
    from types import SimpleNamespace

    from server.graphql.compiled import Fallback
    from server.graphql.objcode import FieldCode, object_completer

    def checked_int(value: Any, _run: Any, _path: Any) -> Any:
        if value is None or not -(2**31) <= value < 2**31:
            raise Fallback
        return value

    fields = [FieldCode("n", "depth", checked_int, (int,)),
              FieldCode("name", "name", lambda v, _r, _p: str(v), (str,)),
              FieldCode("kind", None, lambda _s, _r, _p: "Thing")]
    complete = object_completer(fields, root=False, non_null=False, fallback=Fallback)
    expected = {"n": 3, "name": "x", "kind": "Thing"}
    assert complete({"depth": 3, "name": "x"}, None, None) == expected
    assert complete(UserDict(depth=3, name="x"), None, None) == expected
    assert complete(SimpleNamespace(depth=3, name="x"), None, None) == expected
    assert complete(SimpleNamespace(depth=3, name=7), None, None)["name"] == "7"
    assert complete(None, None, None) is None
    for bad in ({"depth": 2**40, "name": "x"}, {"depth": None, "name": "x"},
                SimpleNamespace(depth=3, name=lambda: "x")):
        with pytest.raises(Fallback):
            complete(bad, None, None)
    with pytest.raises(Fallback):
        object_completer(fields, root=False, non_null=True, fallback=Fallback)(None, None, None)


def test_nested_objects_read_inline_answer_like_their_own_completer() -> None:
    """A nested object's fields are read in its parent's generated code when it is a
    plain dict; any other value (a mapping, an object, null) goes to the object's own
    completer: the answers and the cases that give up are the same."""
    from collections import UserDict
    from types import SimpleNamespace

    from server.graphql.compiled import Fallback
    from server.graphql.objcode import FieldCode, object_completer

    def as_str(value: Any, _run: Any, _path: Any) -> Any:
        if value is None:
            raise Fallback
        return str(value)

    inner = [FieldCode("id", "id", as_str, (str,)), FieldCode("n", "name", as_str, (str,)),
             FieldCode("kind", None, lambda _s, _r, _p: "Twin")]
    twin = object_completer(inner, root=False, non_null=False, fallback=Fallback)
    outer = [FieldCode("twin", "twin", twin), FieldCode("depth", "depth", as_str, (str,))]
    separate = object_completer(outer, root=False, non_null=False, fallback=Fallback)
    fused = object_completer([FieldCode("twin", "twin", twin, (), tuple(inner)), outer[1]],
                             root=False, non_null=False, fallback=Fallback)
    for value in ({"id": "a", "name": 7}, UserDict(id="a", name="x"),
                  SimpleNamespace(id="a", name="x"), None):
        source = {"twin": value, "depth": "1"}
        assert fused(source, None, None) == separate(source, None, None)
    assert fused({"twin": {"id": "a", "name": 7}, "depth": "1"}, None, None) == {
        "twin": {"id": "a", "n": "7", "kind": "Twin"}, "depth": "1"}
    for bad in ({"id": None, "name": "x"}, {"id": "a", "name": lambda: "x"}, print):
        for complete in (separate, fused):
            with pytest.raises(Fallback):
                complete({"twin": bad, "depth": "1"}, None, None)


def test_answers_about_selections_belong_to_their_list() -> None:
    """A plan hands each run of a field the same selection list, so answers about it
    are remembered by that list; another list (an uncompiled run's, equal or not)
    gets its own answer."""
    from types import SimpleNamespace

    from strawberry.types.nodes import SelectedField

    from server.graphql import types

    def field(*names: str) -> SelectedField:
        return SelectedField(name="neighbors", directives={}, arguments={}, selections=[
            SelectedField(name="twin", directives={}, arguments={}, selections=[
                SelectedField(name=n, directives={}, arguments={}, selections=[])
                for n in names])])

    plain, more = [field("id", "properties")], [field("id", "metadata")]
    for _ in range(2):  # the second time from the memo
        assert types._twin_selects_only(SimpleNamespace(selected_fields=plain),
                                        types._PLAIN_TWIN_FIELDS)
        assert not types._twin_selects_only(SimpleNamespace(selected_fields=more),
                                            types._PLAIN_TWIN_FIELDS)
        assert not types._twin_selects_only(SimpleNamespace(selected_fields=plain),
                                            frozenset({"id"}))
        assert types._selects(SimpleNamespace(selected_fields=plain), "twin")
        assert not types._selects(SimpleNamespace(selected_fields=plain), "relationship")
