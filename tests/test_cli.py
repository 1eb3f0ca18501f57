"""The `symgrad` command line: derive and check, formats, stdin, exit codes, errors on stderr."""

from __future__ import annotations

import io
import json
import pathlib
import shlex
import subprocess
import sys
import tomllib

import numpy as np
import pytest

import symgrad as sg
from symgrad.cli import main

BIAS = ["--shape", "W=n,m", "--shape", "X=m,k", "--shape", "b=n,1"]


def run(argv, capsys, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_derive_latex(capsys):
    code, out, err = run(["derive", "f = W X + b", *BIAS, "--wrt", "b", "--wrt", "W"], capsys)
    assert code == 0 and err == ""
    assert out.splitlines() == [
        r"\frac{\partial L}{\partial b} = \frac{\partial L}{\partial f} \mathbf{1}_{k}",
        r"\frac{\partial L}{\partial W} = \frac{\partial L}{\partial f} X^{\top}",
    ]


@pytest.mark.parametrize("fmt,expect", [
    ("text", "∂L/∂x = (A + Aᵀ) x\n"),
    ("markdown", "$$\n\\frac{\\partial L}{\\partial x} = (A + A^{\\top}) x\n$$\n\n"),
])
def test_derive_formats(fmt, expect, capsys):
    code, out, _ = run(["derive", r"x^\top A x", "--shapes", "x: n, A: n×n", "--wrt", "x",
                        "--format", fmt], capsys)
    assert code == 0 and out == expect


def test_derive_json_and_stdin(capsys, monkeypatch):
    code, out, _ = run(["derive", "-", "--shapes", "x: n, A: n×n", "--wrt", "x", "--format",
                        "json"], capsys, stdin=r"x^\top A x" + "\n", monkeypatch=monkeypatch)
    data = json.loads(out)
    assert code == 0 and data["gradients"][0]["latex"] == r"(A + A^{\top}) x"
    assert data["gradients"][0]["shape"] == ["n"] and "denominator" in data["layout"]


def test_derive_steps(capsys):
    code, out, _ = run(["derive", "f = W X + b", *BIAS, "--wrt", "b", "--steps", "--format",
                        "text"], capsys)
    assert code == 0 and "∂L/∂b" in out and "\n" in out.strip()


def test_check_right_and_wrong_exit_codes(capsys):
    right = ["check", "f = W X + b", "--wrt", "b", "--claim",
             r"\frac{\partial L}{\partial f} \mathbf{1}_k", *BIAS]
    code, out, err = run(right, capsys)
    assert code == 0 and out.startswith("right") and err == ""
    wrong = ["check", "z = A + B", "--claim", r"\frac{\partial l}{\partial B} = n "
             r"\frac{\partial l}{\partial z}", "--shapes", "A: n×m, B: 1×m"]
    code, out, err = run(wrong, capsys)
    assert code == 1 and out.startswith("wrong: true only when the upstream gradient")
    assert "counterexample" in out and err == ""


def test_check_json(capsys, monkeypatch):
    code, out, _ = run(["check", r"\log\det X", "--wrt", "X", "--claim", "-", "--shape",
                        "X=n,n", "--json"], capsys, stdin="X^{-1}", monkeypatch=monkeypatch)
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["diagnosis"].startswith("off by a "
                                                                               "transpose")
    assert data["gradient"] == r"X^{-\top}" and data["counterexample"]["sizes"]


@pytest.mark.parametrize("argv,match", [
    (["derive", "W X + q", *BIAS, "--wrt", "b"], "unknown symbol q"),
    (["derive", "W X +", *BIAS, "--wrt", "b"], "column"),
    (["derive", "W X + b", "--shape", "W", "--wrt", "b"], "NAME=SIZES"),
    (["derive", "W X + b", *BIAS, "--wrt", "Q"], "not a variable"),
    (["check", "-", "--claim", "-", "--wrt", "b", *BIAS], "standard input"),
])
def test_bad_input_exits_2_with_the_error_on_stderr(argv, match, capsys, monkeypatch):
    code, out, err = run(argv, capsys, stdin="W X + b", monkeypatch=monkeypatch)
    assert code == 2 and out == ""
    assert err.startswith("symgrad: error: ") and match in err


def test_usage_errors_and_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["derive", "x"])  # --wrt missing
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["check", "--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0 and "examples:" in out and "exit codes" in out


def test_python_dash_m_and_console_script():
    proc = subprocess.run([sys.executable, "-m", "symgrad", "check", r"x^\top A x", "--wrt",
                           "x", "--claim", "2 A x", "--shapes", "x: n, A: n×n"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "symmetric" in proc.stdout
    py = tomllib.loads((pathlib.Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert py["project"]["scripts"]["symgrad"] == "symgrad.cli:main"


# ---- claims and expressions that start with '-' -----------------------------------------------
@pytest.mark.parametrize("argv,code", [
    (["check", r"\log\det X", "--claim", r"-X^{-\top}"], 1),  # a wrong sign, read as a claim
    (["check", r"\log\det X", r"--claim=-X^{-\top}"], 1),
    (["check", r"-\log\det X", "--claim", r"-X^{-\top}"], 0),  # the expression too
    (["check", r"-\log\det X", "--claim", "-", "--shape", "X=n,n"], 0),  # '-' is stdin
])
def test_latex_starting_with_a_minus_is_a_value(argv, code, capsys, monkeypatch):
    got, out, err = run([*argv, "--wrt", "X", "--shape", "X=n,n"], capsys, stdin=r"-X^{-\top}",
                        monkeypatch=monkeypatch)
    assert got == code and err == ""
    assert ("wrong sign" in out) == (code == 1)


def test_minus_claim_through_a_real_command_line():
    proc = subprocess.run([sys.executable, "-m", "symgrad", "check", r"\log\det X", "--claim",
                           r"-X^{-\top}", "--wrt", "X", "--shape", "X=n,n"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1 and proc.stdout.startswith("wrong: wrong sign")


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out == f"symgrad {sg.__version__}\n"


# ---- declared structure: symmetric matrices and ±1 labels -------------------------------------
TRACE = [r"\operatorname{tr}(A S)", "--wrt", "S", "--format", "text"]


@pytest.mark.parametrize("decl", [["--shapes", "A: n×n, S: n×n", "--symmetric", "S"],
                                  ["--shapes", "A: n×n", "--symmetric", "S=n"],
                                  ["--shapes", "A: n×n, S: n×n symmetric"],
                                  ["--shapes", "A: n×n, S: n×n symmetric", "--symmetric", "S"]])
def test_symmetric(decl, capsys):
    code, out, err = run(["derive", *TRACE, *decl], capsys)
    assert code == 0 and out == "∂L/∂S = (1/2) (A + Aᵀ)\n"  # sym(Aᵀ): S stays symmetric
    code, out, err = run(["derive", *TRACE, "--shapes", "A: n×n, S: n×n"], capsys)
    assert out == "∂L/∂S = Aᵀ\n"


@pytest.mark.parametrize("argv,match", [
    (["--shapes", "A: n×n", "--symmetric", "S"], "declare the shape of S"),
    (["--shapes", "A: n×n, S: n×m", "--symmetric", "S"], "square"),
    (["--shapes", "A: n×n, S: n×n", "--labels", "S=01"], "NAME=pm1"),
    (["--shapes", "A: n×n, S: n×n pm1", "--symmetric", "S"], "both symmetric and a label"),
])
def test_structure_flags_refuse_what_they_cannot_declare(argv, match, capsys):
    code, out, err = run(["derive", *TRACE, *argv], capsys)
    assert code == 2 and out == "" and match in err


LOGISTIC = [r"\mathbf{1}^\top \log(1 + \exp(-y \odot (X w)))", "--shapes", "X: N×d, w: d, y: N",
            "--wrt", "w", "--format", "text"]


def test_labels_and_hessian(capsys):
    code, plain, _ = run(["derive", *LOGISTIC, "--hessian"], capsys)
    assert code == 0 and "y∘²" in plain  # y ⊙ y: nothing says the labels are ±1
    code, out, _ = run(["derive", *LOGISTIC, "--hessian", "--labels", "y=pm1"], capsys)
    assert out == "∂²L/∂w∂wᵀ = Xᵀ diag(σ(y ⊙ (X w)) ⊙ (1 - σ(y ⊙ (X w)))) X\n"
    code, steps, _ = run(["derive", *LOGISTIC, "--hessian", "--labels", "y=pm1", "--steps"],
                         capsys)
    assert code == 0 and "d²L" in steps and steps.rstrip().endswith(out.split(" = ")[1].strip())


def test_hessian_needs_a_scalar_and_jacobian_takes_no_steps(capsys):
    code, _, err = run(["derive", r"\exp(x)", "--shape", "x=n", "--wrt", "x", "--hessian"],
                       capsys)
    assert code == 2 and "scalar" in err
    code, _, err = run(["derive", "W x", "--shapes", "W: m×n, x: n", "--wrt", "x",
                        "--jacobian", "--steps"], capsys)
    assert code == 2 and "Jacobian" in err
    with pytest.raises(SystemExit):
        main(["derive", "W x", "--wrt", "x", "--jacobian", "--hessian"])


def test_jacobian(capsys):
    code, out, _ = run(["derive", "W x", "--shapes", "W: m×n, x: n", "--wrt", "x", "--wrt",
                        "W", "--jacobian", "--format", "text"], capsys)
    assert code == 0 and out.splitlines() == ["∂f/∂x = W", "∂f/∂vec(W) = xᵀ ⊗ Iₘ"]
    code, out, _ = run(["derive", "W x", "--shapes", "W: m×n, x: n", "--wrt", "W",
                        "--jacobian", "--format", "json"], capsys)
    data = json.loads(out)
    assert data["kind"] == "jacobian" and "numerator" in data["layout"]
    assert data["gradients"][0]["shape"] == ["m", "m*n"]


# ---- generated code --------------------------------------------------------------------------
def test_code_numpy_runs_and_sums_the_broadcast(capsys):
    code, src, _ = run(["derive", "f = W X + b", *BIAS, "--wrt", "W", "--wrt", "b", "--code",
                        "numpy"], capsys)
    assert code == 0 and src.startswith(("import", "def"))
    ns: dict = {}
    exec(compile(src, "<cli-code>", "exec"), ns)
    rng = np.random.default_rng(0)
    W, X, b, G = (rng.normal(size=s) for s in [(3, 4), (4, 5), (3, 1), (3, 5)])
    f, dW, db = ns["derived"](W, X, b, G)
    assert np.allclose(f, W @ X + b) and np.allclose(dW, G @ X.T)
    assert np.allclose(db, G.sum(axis=1, keepdims=True))


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_code_other_backends(backend, capsys):
    argv = ["derive", r"\mathbf{1}^\top \exp(A x)", "--shapes", "x: n, A: n×n", "--wrt", "x"]
    code, src, _ = run([*argv, "--code", backend], capsys)
    assert code == 0 and f"import {backend}" in src
    compile(src, "<cli-code>", "exec")
    code, out, _ = run([*argv, "--code", backend, "--format", "json"], capsys)
    assert json.loads(out)["code"] == src


# ---- intermediate definitions, pasted math, hints and warnings --------------------------------
ATTENTION = [r"A = \operatorname{softmax}_{\mathrm{row}}(Q K^\top), \; O = A V", "--shapes",
             "Q: n×d, K: n×d, V: n×d"]


def test_intermediate_definitions(capsys):
    code, out, err = run(["derive", *ATTENTION, "--wrt", "V", "--format", "text"], capsys)
    assert code == 0 and err == ""
    assert out == "∂L/∂V = Aᵀ ∂L/∂O\nwhere A = softmax_row(Q Kᵀ)\n"
    code, out, _ = run(["derive", *ATTENTION, "--wrt", "V", "--format", "json"], capsys)
    data = json.loads(out)
    assert data["definitions"] == [{"name": "A", "latex": r"\operatorname{softmax}_{\mathrm{row}}"
                                    r"(Q K^{\top})", "text": "softmax_row(Q Kᵀ)"}]


@pytest.mark.parametrize("wrapped", [
    r"$x^\top A x$", r"$$x^\top A x$$", r"\[ x^\top A x \]", r"\(x^\top A x\)",
    r"\begin{equation} x^\top A x \label{eq:quad} \end{equation}",
    r"\begin{equation*}x^\top A x.\end{equation*}", r"\begin{align*} q &= x^\top A x \end{align*}",
])
def test_math_delimiters_are_ignored(wrapped, capsys):
    code, out, err = run(["derive", wrapped, "--shapes", "x: n, A: n×n", "--wrt", "x",
                          "--format", "text"], capsys)
    assert code == 0 and err == "" and out.endswith("= (A + Aᵀ) x\n")


def test_founding_case_shape_hint(capsys):
    code, out, err = run(["derive", "W X + b", "--shapes", "W: n×m, X: m×k, b: n", "--wrt",
                          "b"], capsys)
    assert code == 2 and out == ""
    assert "did you mean b: n×1 (a column broadcast across the k columns)?" in err
    assert err.rstrip().endswith("^")  # the caret under the '+'


def test_warnings_on_stderr_without_source_paths(capsys):
    code, out, err = run(["derive", r"\operatorname{softmax}(X)", "--shapes", "X: n×m", "--wrt",
                          "X", "--format", "text"], capsys)
    assert code == 0 and out.startswith("∂L/∂X = ")
    assert err.startswith("symgrad: warning: ") and "all entries" in err
    assert ".py" not in err and "symgrad/" not in err


# ---- formats -----------------------------------------------------------------------------------
WRONG_BIAS = ["check", "f = W X + b", "--wrt", "b", "--claim", r"k \frac{\partial L}{\partial f}",
              *BIAS]


def test_text_format_has_no_raw_latex(capsys):
    code, out, _ = run([*WRONG_BIAS, "--format", "text"], capsys)
    assert code == 1 and "\\" not in out
    assert "the upstream gradient ∂L/∂f is constant" in out and "the gradient is ∂L/∂f 1ₖ" in out


def test_markdown_format_delimits_math(capsys):
    code, out, _ = run([*WRONG_BIAS, "--format", "markdown"], capsys)
    assert code == 1 and out.startswith("**wrong**: true only when the upstream gradient "
                                        r"$\frac{\partial L}{\partial f}$ is constant")
    assert r"the gradient is $\frac{\partial L}{\partial f} \mathbf{1}_{k}$" in out
    code, out, _ = run(["derive", "f = W X + b", *BIAS, "--wrt", "b", "--format", "markdown"],
                       capsys)
    assert out.startswith("$$\n") and "$$\n" in out[3:]


def test_json_check_is_compact(capsys):
    code, out, _ = run([*WRONG_BIAS, "--format", "json"], capsys)
    data = json.loads(out)
    assert code == 1 and len(out.splitlines()) <= 15
    assert set(data) == {"ok", "summary", "diagnosis", "diagnoses", "claim", "gradient", "wrt",
                         "samples", "counterexample"}
    ce = data["counterexample"]
    assert set(ce["sizes"]) == {"n", "m", "k"} and ce["where"] is None  # shapes differ
    flat = np.asarray(ce["inputs"]["W"]).ravel()
    assert np.allclose(flat, np.round(flat, 4))


def test_json_derive_keys_do_not_depend_on_flags(capsys):
    keys = set()
    for extra in ([], ["--steps"], ["--code", "numpy"]):
        code, out, _ = run(["derive", "f = W X + b", *BIAS, "--wrt", "b", "--format", "json",
                            *extra], capsys)
        data = json.loads(out)
        keys.add(tuple(data))
        assert code == 0 and (data["steps"] is None) == ("--steps" not in extra)
        assert (data["code"] is None) == ("--code" not in extra)
    assert len(keys) == 1


def _commands(text: str) -> list[str]:
    """The command lines of a shell snippet, continuations joined, comments dropped."""
    lines = [ln.split("  #")[0].strip() for ln in text.replace("\\\n", " ").splitlines()]
    return [ln for ln in lines if ln]


README = pathlib.Path(__file__).parent.parent / "README.md"


@pytest.mark.parametrize("where", ["help", "README"])
def test_documented_examples_run(where, capsys, monkeypatch):
    if where == "help":
        from symgrad.cli import EPILOG

        text = EPILOG.split("examples:")[1].split("\n\n")[0]
    else:
        section = README.read_text().split("## Command line")[1]
        text = section.split("```bash\n")[1].split("```")[0]
    lines = _commands(text)
    assert len(lines) >= 9
    for line in lines:
        stdin = None
        if "|" in line:  # echo 'LATEX' | symgrad ...
            echo, line = line.split("|", 1)
            stdin = shlex.split(echo)[1]
        argv = shlex.split(line)
        assert argv[0] == "symgrad"
        if argv[1:] == ["--version"]:  # exits, see test_version
            continue
        code, out, err = run(argv[1:], capsys, stdin=stdin, monkeypatch=monkeypatch)
        assert code in (0, 1) and out and "error" not in err, (line, err)


def test_check_with_intermediate_definitions(capsys):
    right = ["check", *ATTENTION, "--wrt", "V", "--claim", r"A^\top \frac{\partial L}{\partial O}",
             "--format", "text"]
    code, out, _ = run(right, capsys)
    assert code == 0 and out.startswith("right: the claim equals the gradient Aᵀ ∂L/∂O")
    code, out, _ = run([*right[:-3], r"A \frac{\partial L}{\partial O}"], capsys)
    assert code == 1 and out.startswith("wrong")
