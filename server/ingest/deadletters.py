"""Dead letters of ingestion: kept in the store (``graph.deadletters``), shaped here.

Ingestion writes them on its own thread before the refused messages are
acknowledged, so a dead letter is never lost between refusal and
acknowledgement; every server sharing the store sees the same ones.
"""

from __future__ import annotations

from graph.deadletters import DeadLetter, DeadLetterLog

__all__ = ["DeadLetter", "DeadLetterLog", "payload_excerpt"]


def payload_excerpt(payload: bytes, limit: int) -> str:
    """The payload's start as text; undecodable bytes shown as escapes, never refused."""
    text = payload[:limit].decode("utf-8", errors="backslashreplace")
    return text + ("…" if len(payload) > limit else "")
