"""What a derivation is made of: equations, steps, checks, and the Derivation itself."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import SymgradError, warn
from ..node import Node
from . import render, tex
from .options import DerivationOptions
from .verify import VerifyReport, verify, verify_batched

Part = str | Node  # words, or an expression printed as math


@dataclass(frozen=True)
class Equation:
    """lhs = rhs; a continuation line (lhs None) says "= rhs" of the line above."""

    lhs: Node | None
    rhs: Node
    note: tuple[Part, ...] = ()
    terms: tuple[Node, ...] = ()  # rhs as a sum, where a long line may break
    # a batched derivation's line: "each" holds for every slice i (its sides are slices X_i),
    # "sum" has a right side summed over the slices (\sum_{i=1}^{B} X_i^T G_i)
    batch: str = ""


@dataclass(frozen=True)
class Step:
    """One stage of a derivation: an optional sentence, then its equations."""

    # given | differential | chain | gradients | forward | backward (first order);
    # gradient | differential | second | hessian (order 2)
    kind: str
    equations: tuple[Equation, ...]
    prose: tuple[Part, ...] = ()


@dataclass(frozen=True)
class Batch:
    """How a batched derivation cuts its arrays: the slice symbols (X_i) and the wholes they
    slice along the leading axis, the per-slice symbols defined by an expression (L_i), the
    expression of one slice, and the matrix derivation of one slice."""

    tags: tuple[str, ...]  # one index per batch axis: i (X_i), or i, j (X_{i,j})
    sizes: tuple
    slices: dict[Node, Node]
    defs: dict[Node, Node]
    piece: Node
    per_slice: Derivation


@dataclass(frozen=True)
class Check:
    """Two expressions of one derivation that must agree in numbers (verify())."""

    label: str
    a: Node
    b: Node
    tol: float = 1e-8


class Derivation:
    """A step-by-step derivation of gradients: .result, .steps, .latex(), .markdown(), .save().

    Build one with sg.derive(y, wrt). Every step is an equation between expressions; verify()
    evaluates them at random sizes and values and checks that consecutive steps agree.
    """

    def __init__(self, y: Node, wrt: list[Node], steps: list[Step], result: dict[Node, Node],
                 options: DerivationOptions, symbols: dict[Node, tuple[str, str]],
                 checks: list[Check], tangents: dict[Node, Node], upstream: Node | None,
                 mode: str, labels: dict[Node, Node], batch: Batch | None = None) -> None:
        self.y = y
        self.wrt = list(wrt)
        self.steps = list(steps)
        self.result = dict(result)
        self.options = options
        self.mode = mode  # "differential", "backprop" or "hessian"
        self._symbols = symbols
        self._checks = checks
        self._tangents = tangents
        self._upstream = upstream
        self._labels = labels  # gradient-line symbol -> its variable
        self._batch = batch  # a batched derivation: its slices

    # ---- text -------------------------------------------------------------------------------
    def lines(self) -> list[str]:
        """The equations as LaTeX, one `lhs = rhs` per line (continuations start with '=')."""
        return render.lines(self)

    def latex(self, document: bool = False) -> str:
        """An amsmath align* block; document=True: a standalone .tex file that compiles."""
        return render.document(self) if document else render.align(self)

    def markdown(self) -> str:
        """$$ blocks (aligned) for KaTeX and MathJax, with the prose between them."""
        return render.markdown(self)

    def _repr_latex_(self) -> str:
        return self.markdown()

    def __str__(self) -> str:
        return render.text(self)

    def __repr__(self) -> str:
        names = ", ".join(str(v) for v in self.wrt)
        return f"<Derivation of {self.y} w.r.t. {names}: {len(self.lines())} lines>"

    # ---- files ------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike, dpi: int = 200) -> Path:
        """Write .tex, .pdf (pdflatex) or .png (pdflatex + pdftoppm); returns the path."""
        if not isinstance(path, (str, os.PathLike)):
            raise SymgradError(f"save() takes a file path such as 'derivation.pdf' (.tex, .md, "
                               f".pdf or .png), not {type(path).__name__}")
        path = Path(path)
        suffix = path.suffix.lower()
        if not isinstance(dpi, int) or isinstance(dpi, bool) or not 10 <= dpi <= 2400:
            raise SymgradError(f"dpi must be an integer from 10 to 2400, got {dpi!r}")
        if suffix == ".tex":
            tex.write_file(path, self.latex(document=True))
        elif suffix == ".md":
            tex.write_file(path, self.markdown())
        elif suffix == ".pdf":
            tex.write_pdf(render.document(self._compilable()), path)
        elif suffix == ".png":
            tex.write_png(render.tight_document(self._compilable()), path, dpi)
        else:
            raise SymgradError(f"cannot save a derivation as {path.name!r}: use .pdf, .png, "
                               ".tex or .md")
        return path

    def _compilable(self) -> Derivation:
        """This derivation, or a copy printing ones as \\mathbf{1} when the package its ones
        symbol needs is not installed (amssymb would print a wrong glyph), with a warning."""
        need = self.options.font_packages()
        if not need or any(tex.find_package(p) for p in need):
            return self
        st = self.options.style
        warn(f"ones={st.ones!r} needs the LaTeX package {' or '.join(need)} (Debian: "
             f"texlive-fonts-extra), which is not installed; the document uses \\mathbf{{1}}")
        out = copy.copy(self)
        out.options = replace(self.options, style=replace(st, ones=r"\mathbf{1}"))
        return out

    # ---- numbers ----------------------------------------------------------------------------
    def verify(self, seed: int = 0, sizes: dict | None = None) -> VerifyReport:
        """Evaluate every step at random sizes and values: consecutive steps must agree, the
        differential must match finite differences, and each gradient the engine's backprop."""
        if self._batch is not None:
            return verify_batched(self, seed, sizes)
        return verify(self, seed, sizes)
