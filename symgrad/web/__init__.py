"""`symgrad serve`: a local web page over the JSON API (the `web` extra: Starlette, uvicorn)."""

from __future__ import annotations

from ..errors import SymgradError

INSTALL = 'pip install "symgrad[web]"'


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the page at http://host:port until interrupted."""
    try:
        import uvicorn

        from .server import create_app
    except ImportError as exc:
        raise SymgradError(f"symgrad serve needs the web extra ({exc.name} is missing): "
                           f"{INSTALL}") from None
    print(f"symgrad: serving on http://{host}:{port} (Ctrl-C stops)", flush=True)
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")
