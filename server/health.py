"""``/healthz``: is the store reachable, is the broker connection up, how is ingestion doing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

if TYPE_CHECKING:
    from server.app import ServerRuntime

__all__ = ["health_report", "health_router"]


def health_report(runtime: ServerRuntime) -> dict[str, Any]:
    try:
        store = dict(runtime.store.health())
    except Exception as exc:  # health must answer even when the store cannot
        store = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    mqtt: dict[str, Any] = runtime.ingest.health() if runtime.ingest is not None else {"ok": False}
    broker = runtime.broker.health() if runtime.broker is not None else None
    ok = bool(store.get("ok")) and bool(mqtt.get("connected")) and (broker is None or broker["ok"])
    return {"ok": ok, "store": store, "mqtt": mqtt, "embedded_broker": broker}


def health_router() -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", tags=["operations"])
    def healthz(request: Request) -> JSONResponse:
        report = health_report(request.app.state.runtime)
        return JSONResponse(report, status_code=200 if report["ok"] else 503)

    return router
