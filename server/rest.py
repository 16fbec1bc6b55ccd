"""REST beside GraphQL, for what is naturally a file: DTDL model upload and listing.

``create_rest_router(store, auth=...)`` returns a router with its full paths
(``/models``...); FastAPI documents it on the OpenAPI page (``/docs``).

``POST /models`` takes multipart files (``.json`` DTDL documents, each an
interface or an array of them, and ``.zip`` archives of such files), or a JSON
body (one document or an array).  The batch is stored as one unit or refused;
a refusal lists every parser error with file, line and column::

    {"error": {"code": "MODEL_INVALID", "message": "...",
               "errors": [{"code": "...", "message": "...", "file": "Room.json",
                           "line": 12, "column": 7, "dtmi": "...", "hint": "..."}]}}
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile as StarletteUploadFile

from graph.base import ModelInfo, TwinGraph
from graph.errors import GraphError
from server.auth import Authenticator, AuthError, Role
from server.graphql.errors import error_extensions

__all__ = ["MAX_UPLOAD_BYTES", "create_rest_router"]

MAX_UPLOAD_BYTES = 50_000_000  # the whole upload, zips unpacked
_STATUS = {"NOT_FOUND": 404, "CONFLICT": 409, "IN_USE": 409, "MODEL_INVALID": 422,
           "PRECONDITION_FAILED": 412, "STORE_UNAVAILABLE": 503}


def _error(status: int, code: str, message: str, **details: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **details}}, status)


def _graph_error(exc: GraphError) -> JSONResponse:
    ext = error_extensions(exc) or {"code": exc.code}
    details = {k: v for k, v in ext.items() if k != "code"}
    return _error(_STATUS.get(exc.code, 400), exc.code, exc.message, **details)


def _model_json(info: ModelInfo) -> dict[str, Any]:
    return {"id": info.id, "uploadTime": info.upload_time,
            "decommissioned": info.decommissioned, "document": info.document}


class _TooLarge(Exception):
    pass


def _unpack(name: str, raw: bytes, budget: list[int]) -> list[tuple[str, bytes]]:
    """(file name, text) of each DTDL document in an upload; zips are opened."""
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        return [(name, raw)]
    out: list[tuple[str, bytes]] = []
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        for entry in archive.infolist():
            if entry.is_dir() or not entry.filename.lower().endswith(".json"):
                continue
            budget[0] -= entry.file_size  # declared size: refuse zip bombs before reading
            if budget[0] < 0:
                raise _TooLarge(f"the upload unpacks to more than {MAX_UPLOAD_BYTES} bytes")
            out.append((f"{name}/{entry.filename}", archive.read(entry)))
    return out


def create_rest_router(store: TwinGraph, *, auth: Authenticator) -> APIRouter:
    def refused(request: Request, role: Role) -> JSONResponse | None:
        """The 401/403 answer for a caller without ``role``, else None."""
        try:
            principal = auth.authenticate_headers(request.headers)
            auth.require(principal, role, f"{request.method} {request.url.path}")
        except AuthError as exc:
            return _error(exc.status, exc.code, str(exc))
        return None

    router = APIRouter(tags=["models"])

    @router.get("/models", response_model=None, summary="List the stored models (reader)")
    def list_models(request: Request) -> Any:
        if denied := refused(request, "reader"):
            return denied
        return [_model_json(m) for m in sorted(store.list_models(), key=lambda m: m.id)]

    @router.get("/models/{dtmi}", response_model=None,
                summary="One model's DTDL document (reader)")
    def get_model(dtmi: str, request: Request) -> Any:
        if denied := refused(request, "reader"):
            return denied
        try:
            return _model_json(store.get_model(dtmi))
        except GraphError as exc:
            return _graph_error(exc)

    @router.post("/models", status_code=201, response_model=None,
                 summary="Upload DTDL files (.json or .zip) or a JSON body, as one batch (admin)")
    async def upload_models(
        request: Request,
        files: Annotated[list[UploadFile] | None, File()] = None,
    ) -> Any:
        if denied := refused(request, "admin"):
            return denied
        sources: list[tuple[str, bytes]] = []
        budget = [MAX_UPLOAD_BYTES]
        try:
            form = request.headers.get("content-type", "").startswith(
                ("multipart/", "application/x-www-form-urlencoded"))
            if files or form:
                # Accept files under any field name, not only ``files``: curl users name
                # fields freely.  The form is already parsed (and cached) by FastAPI.
                uploads: list[StarletteUploadFile] = list(files or ()) or [
                    v for _, v in (await request.form()).multi_items()
                    if isinstance(v, StarletteUploadFile)]
                for upload in uploads:
                    raw = await upload.read(MAX_UPLOAD_BYTES + 1)
                    budget[0] -= len(raw)
                    if budget[0] < 0:
                        raise _TooLarge(f"the upload is over {MAX_UPLOAD_BYTES} bytes")
                    sources += _unpack(upload.filename or "upload.json", raw, budget)
            else:
                raw = await request.body()
                if len(raw) > MAX_UPLOAD_BYTES:
                    raise _TooLarge(f"the upload is over {MAX_UPLOAD_BYTES} bytes")
                if raw.strip():
                    sources.append(("request body", raw))
        except _TooLarge as exc:
            return _error(413, "TOO_LARGE", str(exc))
        if not sources:
            return _error(400, "BAD_REQUEST", "no DTDL documents: send .json/.zip files or JSON")
        texts = [text.decode("utf-8", errors="replace") for _, text in sources]
        try:  # parsing a large batch takes a while: off the event loop
            added = await asyncio.to_thread(store.add_models, texts,
                                            source_names=[n for n, _ in sources])
        except GraphError as exc:
            return _graph_error(exc)
        return [_model_json(m) for m in added]

    @router.post("/models/{dtmi}/decommission", response_model=None,
                 summary="Decommission a model (admin)")
    def decommission(dtmi: str, request: Request) -> Any:
        if denied := refused(request, "admin"):
            return denied
        try:
            return _model_json(store.decommission_model(dtmi))
        except GraphError as exc:
            return _graph_error(exc)

    @router.delete("/models/{dtmi}", status_code=204, response_model=None,
                   summary="Delete an unused model (admin)")
    def delete(dtmi: str, request: Request) -> Response:
        if denied := refused(request, "admin"):
            return denied
        try:
            store.delete_model(dtmi)
        except GraphError as exc:
            return _graph_error(exc)
        return Response(status_code=204)

    return router
