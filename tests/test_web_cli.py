"""`symgrad serve` on the command line: without the web extra it says how to install it."""

from __future__ import annotations

import sys

import pytest

from symgrad.cli import main


@pytest.mark.parametrize("missing", ["uvicorn", "starlette"])
def test_serve_without_the_web_extra(missing, monkeypatch, capsys):
    # Import fails as if not installed: the package and every submodule an earlier test loaded.
    for name in [m for m in sys.modules if m == missing or m.startswith(missing + ".")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, missing, None)
    monkeypatch.delitem(sys.modules, "symgrad.web.server", raising=False)
    assert main(["serve", "--port", "8765"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symgrad: error: symgrad serve needs the web extra")
    assert 'pip install "symgrad[web]"' in err and "Traceback" not in err


def test_serve_options_in_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["serve", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "--host" in out and "--port" in out
