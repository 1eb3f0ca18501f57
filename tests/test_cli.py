"""The `symgrad` command line: derive and check, formats, stdin, exit codes, errors on stderr."""

from __future__ import annotations

import io
import json
import pathlib
import subprocess
import sys
import tomllib

import pytest

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
