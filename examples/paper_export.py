"""The paper export: the founding example's derivation as LaTeX, a standalone document, and a PNG.

    f = W X ⊕ b          b an (n, 1) column broadcast across the k columns
    d = sg.derive(f)      the expression, its explicit form, df, the chain rule, the gradients

Prints the align* block; writes docs/founding_example.png when pdflatex and pdftoppm are
installed (the file is only rewritten when the picture changed).
"""

import filecmp
import shutil
import tempfile
from pathlib import Path

import symgrad as sg

n, m, k = sg.dims("n m k")
W, X = sg.matrix("W", n, m), sg.matrix("X", m, k)
b = sg.matrix("b", n, 1)
f = sg.name("f", W @ X + b)

d = sg.derive(f)  # w.r.t. every variable: W, X, b
print(d.latex())
print()
print(d)

report = d.verify()
print(report)

out = Path(__file__).resolve().parent.parent / "docs" / "founding_example.png"
if shutil.which("pdflatex") and shutil.which("pdftoppm"):
    with tempfile.TemporaryDirectory() as tmp:
        png = d.save(Path(tmp) / "founding_example.png", dpi=200)
        out.parent.mkdir(exist_ok=True)
        if not out.exists() or not filecmp.cmp(png, out, shallow=False):
            shutil.copyfile(png, out)
            print("wrote", out)
        else:
            print(out, "is up to date")
    assert out.read_bytes().startswith(b"\x89PNG")
else:
    print("pdflatex or pdftoppm is missing: no PNG (apt-get install texlive-latex-base "
          "texlive-latex-recommended poppler-utils)")

lines = d.lines()
assert lines[0] == r"f = W X \oplus b"
assert lines[1] == r"= W X + b \mathbf{1}_{k}^{\top}"
assert lines[2] == r"df = dW\, X + W\, dX + db\, \mathbf{1}_{k}^{\top}"
assert lines[3] == r"dL = \operatorname{tr}\big((\tfrac{\partial L}{\partial f})^{\top} df\big)"
assert lines[-1] == r"\frac{\partial L}{\partial b} = \frac{\partial L}{\partial f} \mathbf{1}_{k}"
assert sg.latex(d.result[b]) == sg.latex(sg.grad(f, b))
assert report.ok
assert d.latex(document=True).startswith(r"\documentclass")
