"""An ASGI app for uvicorn (with httptools, FastAPI's usual install) in the probe's tests.

It answers without Content-Length, in two body parts, so uvicorn sends the body in chunks
to an HTTP/1.1 client; ``/no-content`` and ``/not-modified`` answer 204 and 304, which end
at their head. Run: ``python -m uvicorn tests.support.asgi_app:app --http httptools``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

STATUSES = {"/no-content": 204, "/not-modified": 304}
PARTS = [b"chunked ", b"by uvicorn\n"]


async def app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    """Answer an HTTP request as the module docstring says."""
    if scope["type"] != "http":
        return
    status = STATUSES.get(scope["path"], 200)
    await send({"type": "http.response.start", "status": status, "headers": []})
    parts = PARTS if status == 200 else [b""]
    for index, part in enumerate(parts):
        more = index < len(parts) - 1
        await send({"type": "http.response.body", "body": part, "more_body": more})
