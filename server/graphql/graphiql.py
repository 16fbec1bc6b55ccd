"""The GraphiQL page, served with its scripts by GraphTwin itself (no CDN).

The scripts and styles (GraphiQL 3, React 17, graphql-ws)
come from the ``graphene-django-graphiql-static`` package's data files; only
those files are used, not its Django view.  The page sits at the router's root
(``/graphql`` once mounted) and loads ``<root>/static/graphiql/<file>``, so it
works behind a firewall and under any mount prefix.
"""

from __future__ import annotations

import html
import importlib.resources
import json

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

__all__ = ["ASSETS", "add_asset_route", "graphiql_page"]

_PACKAGE = "graphene_django_graphiql_static"
ASSETS = {
    "graphiql.min.css": "text/css",
    "react.production.min.js": "text/javascript",
    "react-dom.production.min.js": "text/javascript",
    "graphiql.min.js": "text/javascript",
    "graphql-ws.min.js": "text/javascript",
}
_EXAMPLE = """# GraphTwin: the twin graph in GraphQL.  Ctrl-Enter runs the query.
# If the server asks for credentials, add a header below:
#   {"Authorization": "Bearer <token>"}
{
  twins(first: 10) {
    nodes { id model }
  }
}
"""


def _asset(name: str) -> bytes:
    root = importlib.resources.files(_PACKAGE) / "static" / _PACKAGE
    return (root / name).read_bytes()


def add_asset_route(router: APIRouter) -> None:
    """``GET /static/graphiql/{name}`` for the files GraphiQL needs, cached by browsers."""

    @router.get("/static/graphiql/{name}", include_in_schema=False)
    def graphiql_asset(name: str) -> Response:
        media = ASSETS.get(name)
        if media is None:
            raise HTTPException(404, f"no GraphiQL asset {name!r}")
        return Response(_asset(name), media_type=media,
                        headers={"Cache-Control": "public, max-age=86400"})


def graphiql_page(page_path: str) -> str:
    """The GraphiQL HTML for a page served at ``page_path`` (e.g. ``/graphql``)."""
    base = html.escape(page_path.rstrip("/") + "/static/graphiql/", quote=True)
    styles = f'<link rel="stylesheet" href="{base}graphiql.min.css">'
    scripts = "".join(f'<script src="{base}{n}"></script>' for n in (
        "react.production.min.js", "react-dom.production.min.js", "graphql-ws.min.js",
        "graphiql.min.js"))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>GraphTwin GraphiQL</title>
<link rel="icon" href="data:,">
<style>html, body, #graphiql {{ height: 100%; margin: 0; overflow: hidden; width: 100%; }}</style>
{styles}
{scripts}
</head>
<body>
<div id="graphiql">Loading GraphiQL...</div>
<script>
  const url = window.location.href.split("?")[0].split("#")[0];
  const wsUrl = url.replace(/^http/, "ws");
  const fetcher = GraphiQL.createFetcher({{ url: url, subscriptionUrl: wsUrl }});
  ReactDOM.render(
    React.createElement(GraphiQL, {{
      fetcher: fetcher,
      defaultQuery: {json.dumps(_EXAMPLE)},
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    }}),
    document.getElementById("graphiql"),
  );
</script>
</body>
</html>
"""
