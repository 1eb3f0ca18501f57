"""The JSON API under `symgrad serve`, through Starlette's TestClient (worker processes and
all): derive, check, errors with their position, the size bound, the time bound."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx2")

from starlette.testclient import TestClient  # noqa: E402

from symgrad.web.server import STATIC, create_app  # noqa: E402

FOUNDING = {"expression": "W X + b", "shapes": {"W": ["n", "m"], "X": ["m", "k"],
                                                "b": ["n", 1]}, "wrt": ["b"]}
ROW_SUMS = r"\frac{\partial L}{\partial f} \mathbf{1}_{k}"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(workers=2, timeout=30)) as c:
        yield c


def test_derive_founding_example(client):
    r = client.post("/api/derive", json=dict(FOUNDING, steps=True, code="numpy"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["results"] == {"b": ROW_SUMS}
    assert out["lhs"]["b"] == r"\frac{\partial L}{\partial b}"
    assert out["expression"] == r"W X \oplus b"
    assert out["explicit"] == r"W X + b \mathbf{1}_{k}^{\top}"
    assert out["assumptions"] == [] and out["syntax"] == "latex"
    (bc,) = out["broadcasts"]
    assert bc["latex"].startswith(r"b \mathbf{1}_{k}^{\top} = ")
    assert r"b & b & \cdots & b" in bc["latex"] and "k columns" in bc["text"]
    assert r"\begin{align*}" in out["derivation"] and "$$" in out["markdown"]
    assert out["tex"].startswith(r"\documentclass")
    # the generated code computes the row sums of the upstream gradient
    ns: dict = {}
    exec(compile(out["code"], "<generated>", "exec"), ns)  # symgrad's output, not user text
    rng = np.random.default_rng(0)
    W, X, b, G = (rng.normal(size=s) for s in [(3, 4), (4, 5), (3, 1), (3, 5)])
    (gb,) = ns["gradients"](W, X, b, G)
    np.testing.assert_allclose(gb, G.sum(axis=1, keepdims=True))


def test_derive_infers_shapes_and_says_so(client):
    out = client.post("/api/derive", json={"expression": "W X + b"}).json()
    assert set(out["results"]) == {"W", "X", "b"}  # every variable by default
    assert out["shapes"] == {"W": ["n", "m"], "X": ["m", "k"], "b": ["n", "1"]}
    assert any("b: n×1, a column" in a for a in out["assumptions"])
    assert out["results"]["b"] == ROW_SUMS


@pytest.mark.parametrize("expression", ["x'*A*x", "x @ A @ x", r"x^\top A x"])
def test_three_syntaxes_same_gradient_and_hessian(client, expression):
    out = client.post("/api/derive", json={"expression": expression, "wrt": "x",
                                           "jacobian": True, "hessian": True}).json()
    assert out["results"]["x"] == r"(A + A^{\top}) x"
    assert out["hessian"]["x"] == {"latex": r"A + A^{\top}"}
    assert out["jacobian"]["x"] == {"latex": r"(A + A^{\top}) x"}  # shape (n,): () + (n,)


def test_unsupported_jacobian_is_a_message(client):
    out = client.post("/api/derive", json=dict(FOUNDING, jacobian=True, hessian=True)).json()
    # the (n, k, n, 1) Jacobian is written in index notation, with Kronecker deltas
    assert r"\delta" in out["jacobian"]["b"]["latex"]
    assert "scalar objective" in out["hessian"]["b"]["error"]


def test_check_wrong_and_right(client):
    wrong = client.post("/api/check", json=dict(FOUNDING, claim=r"k \frac{\partial L}{\partial f}"))
    assert wrong.status_code == 200
    v = wrong.json()
    assert v["ok"] is False and "broadcast" in v["diagnosis"]
    assert v["gradient"] == ROW_SUMS and v["wrt"] == "b"
    ce = v["counterexample"]
    assert set(ce["sizes"]) == {"n", "m", "k"} and ce["text"].startswith("counterexample")
    right = client.post("/api/check", json=dict(FOUNDING, claim=ROW_SUMS)).json()
    assert right["ok"] is True and right["counterexample"] is None


def test_syntax_error_has_column_and_caret(client):
    r = client.post("/api/derive", json={"expression": "W @ X +", "shapes": "W: n×m, X: m×k"})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["type"] == "InputSyntaxError" and err["column"] == 8
    assert err["caret"].splitlines() == ["  W @ X +", "         ^"]
    r = client.post("/api/derive", json={"expression": r"W X + \frac{", "shapes": "W: n×m"})
    assert r.status_code == 422 and r.json()["error"]["type"] == "LatexSyntaxError"
    assert r.json()["error"]["column"] is not None


@pytest.mark.parametrize("body, status, kind", [
    ({"expression": "W X + b", "wrt": ["z"], "shapes": FOUNDING["shapes"]}, 422,
     "DifferentiationError"),
    ({"expression": "W @ X", "shapes": {"W": ["n", "m"], "X": ["k", "k"]}}, 422, "ShapeError"),
    ({"expression": ""}, 400, "RequestError"),
    ({"expression": "x", "shapes": [1, 2]}, 400, "RequestError"),
    ({"expression": "x", "syntax": "matlab"}, 400, "RequestError"),
    ({"expression": "x", "code": "fortran"}, 400, "RequestError"),
    ({"expression": "x", "steps": "yes"}, 400, "RequestError"),
])
def test_bad_requests_are_json_errors(client, body, status, kind):
    r = client.post("/api/derive", json=body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["type"] == kind and r.json()["error"]["message"]


def test_body_must_be_a_json_object(client):
    for content in (b"not json", b"[1, 2]", b"\xff\xfe", b"[" * 15000):
        r = client.post("/api/derive", content=content)
        assert r.status_code == 400 and r.json()["error"]["type"] == "RequestError"


def test_request_size_is_bounded(client):
    r = client.post("/api/derive", json={"expression": "x + " * 6000 + "x"})
    assert r.status_code == 413 and r.json()["error"]["type"] == "RequestTooLarge"

    def chunks():  # no Content-Length: the bound holds while reading
        for _ in range(30):
            yield b" " * 1000

    r = client.post("/api/derive", content=chunks())
    assert r.status_code == 413


def test_runaway_request_is_stopped_and_the_server_keeps_serving(client):
    pool = client.app.state.pool
    before = {w.proc.pid for w in pool.workers}
    pool.timeout = 0.001  # any real derivation runs longer
    try:
        r = client.post("/api/derive", json=dict(FOUNDING, steps=True))
    finally:
        pool.timeout = 30
    assert r.status_code == 503 and r.json()["error"]["type"] == "Timeout"
    assert "stopped" in r.json()["error"]["message"]
    after = {w.proc.pid for w in pool.workers}
    assert len(after) == pool.size and len(after - before) == 1  # one worker was replaced
    assert all(w.proc.is_alive() for w in pool.workers)
    ok = client.post("/api/derive", json=FOUNDING)
    assert ok.status_code == 200 and ok.json()["results"]["b"] == ROW_SUMS


def test_page_is_offline(client):
    page = client.get("/")
    assert page.status_code == 200 and "katex.min.js" in page.text
    for path in ("index.html", "app.js", "style.css"):
        assert not re.search(r"https?://", (STATIC / path).read_text()), path
    css = client.get("/static/katex/katex.min.css").text
    fonts = set(re.findall(r"url\((fonts/[^)]+\.woff2)\)", css))
    assert len(fonts) == 20
    for f in fonts:
        assert client.get(f"/static/katex/{f}").status_code == 200
    assert client.get("/static/katex/katex.min.js").status_code == 200
    assert client.get("/api/info").json()["syntaxes"] == ["auto", "latex", "python", "ascii"]


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_pdf_download(client):
    r = client.post("/api/pdf", json=FOUNDING)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


def test_derive_names_shared_parts_once():
    """Two layers: tanh(X W₁) is used by both gradients, so the display names it once."""
    from symgrad.web.api import derive

    r = derive({"expression": r"\tanh(\tanh(X W_1) W_2)", "wrt": ["W_1", "W_2"],
                "shapes": "X: N×d, W_1: d×h, W_2: h×k"})
    assert r["display"].count(r"\tanh(X W_{1})") == 1
    assert r"\frac{\partial L}{\partial W_{2}} &=" in r["display"]
    founding = derive({"expression": "W X + b", "shapes": "W: n×m, X: m×k, b: n×1",
                       "wrt": ["b"]})
    assert founding["display"] is None  # nothing shared: the results as they are
