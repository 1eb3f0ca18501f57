"""Variable names (symgrad/names.py): one canonical name per variable, valid LaTeX or refused."""

import re
import shutil
import subprocess

import numpy as np
import pytest

import symgrad as sg
from symgrad.names import check_name, latex_name, name_key, unicode_name

n, m = sg.dims("n m")


@pytest.mark.parametrize("spellings, canonical, tex, text", [
    (["W1", "W_1", "W_{1}", "W₁", r"\mathbf{W}_1"], "W_1", "W_{1}", "W₁"),
    (["Xr", r"\mathit{Xr}"], "Xr", r"\mathit{Xr}", "Xr"),
    (["Xr2", "Xr_2"], "Xr_2", r"\mathit{Xr}_{2}", "Xr₂"),
    (["alpha_1", r"\alpha_{1}", "α1", "alpha1"], "alpha_1", r"\alpha_{1}", "α₁"),
    (["lambda", "λ", r"\lambda"], "lambda", r"\lambda", "λ"),
    (["ell", "ℓ"], "ell", r"\ell", "ℓ"),
    (["Sigma", "Σ"], "Sigma", r"\Sigma", "Σ"),
    (["b_1_2", "b_{1,2}", "b_{1, 2}"], "b_1,2", "b_{1,2}", "b₁,₂"),
    (["b_out", r"b_{\text{out}}"], "b_out", r"b_{\text{out}}", "bₒᵤₜ"),
    (["x_alpha", r"x_{\alpha}"], "x_alpha", r"x_{\alpha}", "x_α"),
    (["exp"], "exp", r"\mathit{exp}", "exp"),
])
def test_spellings_are_one_variable(spellings, canonical, tex, text):
    for s in spellings:
        assert check_name(s) == canonical
        assert name_key(s) == canonical
    assert latex_name(canonical) == tex and unicode_name(canonical) == text
    assert sg.matrix(spellings[0], n, m) is sg.matrix(spellings[-1], n, m)
    assert sg.latex(sg.scalar(spellings[-1])) == tex


@pytest.mark.parametrize("bad", ["V_", "x_", "#", "a&b", "$x", "}", "x}", "W 1", "", "1W", "W1a",
                                 "I_n", r"\foo", "λx", "W__1", "b_{1,,2}", "x-y", "é", "x_{"])
def test_bad_names_are_refused_with_the_rule(bad):
    for declare in (sg.scalar, lambda s: sg.vector(s, n), lambda s: sg.matrix(s, n, m),
                    lambda s: sg.name(s, sg.scalar("x"))):
        with pytest.raises(sg.InvalidNameError, match="a name is a base"):
            declare(bad)
    assert name_key(bad) == bad  # an env key that is no name matches no variable


def test_env_keys_use_any_spelling():
    W = sg.matrix("W1", 2, 2)
    a = np.arange(4.0).reshape(2, 2)
    for key in ("W1", "W_1", "W_{1}", "W₁"):
        np.testing.assert_array_equal(sg.evaluate(W, {key: a}), a)


def test_upstream_names_still_work():
    f = sg.name("f", sg.matrix("W", n, m) * 2)
    g = sg.grad(f, sg.matrix("W", n, m))
    assert r"\frac{\partial L}{\partial f}" in sg.latex(g)
    assert sg.latex(sg.grad(sg.name("Xr", f), sg.matrix("W", n, m))).count(r"\mathit{Xr}") == 1


def test_sigma_variable_never_reads_as_the_sigmoid():
    s, W, x = sg.scalar("sigma"), sg.matrix("W", n, m), sg.vector("x", m)
    assert sg.latex(s * (W @ x + 1)) == r"\sigma \cdot (W x + 1)"
    assert sg.latex(s * x) == r"\sigma \, x"
    assert sg.latex(sg.sigmoid(W @ x)) == r"\sigma(W x)"
    # next to a variable sigma, \sigma(x) could be sigma times x: the sigmoid is spelled out
    assert sg.latex(s * sg.sigmoid(x)) == r"\sigma \, \operatorname{sigmoid}(x)"
    assert str(s * (x + 1)) == "σ·(x + 1)"
    shapes = {"sigma": (), "W": ("n", "m"), "x": ("m",)}
    e = s * (W @ x + 1)
    env = {"sigma": 0.7, "W": np.arange(6.0).reshape(2, 3), "x": np.array([1.0, -2.0, 0.5])}
    np.testing.assert_allclose(sg.evaluate(sg.parse(sg.latex(e), shapes), env),
                               sg.evaluate(e, env))


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_names_compile(tmp_path):
    names = ["W1", "Xr", "Xr_2", "alpha_1", "ell", "b_1_2", "b_out", "x_alpha", "varepsilon",
             "exp", "Sigma_ij"]
    body = "\n".join(f"${sg.latex(sg.matrix(s, n, m).T)}$ "
                     f"${sg.latex(sg.matrix(s, n, m), bold=True)}$\\par" for s in names)
    (tmp_path / "n.tex").write_text(
        "\\documentclass{article}\\usepackage{amsmath,amssymb,bm}\\begin{document}\n"
        + body + "\n\\end{document}\n")
    r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "n.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, re.findall(r"^!.*", r.stdout, re.M)
