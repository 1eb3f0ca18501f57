"""The Starlette app behind `symgrad serve`: the page, its static files (KaTeX shipped in the
install, no CDN) and the JSON API, whose work runs in worker processes (pool.py).

Requests are bounded: bodies by `max_body` bytes, work by the pool's time limit.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import __version__
from ..codegen import BACKENDS
from ..syntax import SYNTAXES
from . import api
from .pool import Busy, Timeout, WorkerDied, WorkerPool

STATIC = Path(__file__).parent / "static"
MAX_BODY = 20_000  # bytes


def _error(kind: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message, "column": None,
                                   "caret": None}}, status_code=status)


async def _body(request: Request, limit: int) -> dict | JSONResponse:
    """The JSON object of the request, read up to `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return _error("RequestTooLarge", f"the request is larger than {limit} bytes", 413)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            return _error("RequestTooLarge", f"the request is larger than {limit} bytes", 413)
    try:
        req = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _error("RequestError", "the request body must be a JSON object", 400)
    if not isinstance(req, dict):
        return _error("RequestError", "the request body must be a JSON object", 400)
    return req


async def _run(request: Request, job: str):
    """("ok", result) from a worker, or the JSONResponse of an error."""
    app = request.app
    req = await _body(request, app.state.max_body)
    if isinstance(req, JSONResponse):
        return req
    try:
        answer = await app.state.pool.run(job, req)
    except (Busy, Timeout) as exc:
        return _error(type(exc).__name__, str(exc), 503)
    except WorkerDied as exc:
        return _error("WorkerDied", str(exc), 500)
    if answer[0] == "error":
        return JSONResponse(answer[1], status_code=answer[2])
    return answer


async def derive(request: Request) -> Response:
    out = await _run(request, "derive")
    return out if isinstance(out, Response) else JSONResponse(out[1])


async def check(request: Request) -> Response:
    out = await _run(request, "check")
    return out if isinstance(out, Response) else JSONResponse(out[1])


async def pdf(request: Request) -> Response:
    if not api.has_pdflatex():
        return _error("ToolError", "pdflatex is not installed on the server: download the "
                      ".tex instead (Debian: apt-get install texlive-latex-recommended)", 501)
    out = await _run(request, "pdf")
    if isinstance(out, Response):
        return out
    return Response(out[1], media_type="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="derivation.pdf"'})


async def info(request: Request) -> Response:
    return JSONResponse({"version": __version__, "syntaxes": list(SYNTAXES),
                         "backends": list(BACKENDS), "pdf": api.has_pdflatex()})


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


def create_app(workers: int = 2, timeout: float = 20.0, max_body: int = MAX_BODY,
               wait: float = 10.0) -> Starlette:
    """The app: `workers` processes, each request stopped after `timeout` seconds."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        pool = WorkerPool(workers, timeout, wait)
        pool.start()
        app.state.pool = pool
        try:
            yield
        finally:
            pool.close()

    app = Starlette(routes=[
        Route("/", index),
        Route("/api/derive", derive, methods=["POST"]),
        Route("/api/check", check, methods=["POST"]),
        Route("/api/pdf", pdf, methods=["POST"]),
        Route("/api/info", info),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ], lifespan=lifespan)
    app.state.max_body = max_body
    return app
