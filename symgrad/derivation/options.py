"""What a paper author may choose for a derivation: DerivationOptions."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace

from ..errors import SymgradError
from ..printing import LATEX, Style

_NOTATIONS = ("frac", "bar", "delta")
# The widths a derivation is laid out for, in em of the document's font: the narrowest of the
# standard classes' text (article at 10, 11, 12 pt: 34.5, 32.7, 32.5 em) and column (twocolumn
# article: 22.9 em at 10 pt, 20.9 at 11 pt; a4paper 22.1) widths.
WIDTHS = {"text": 32.0, "column": 20.5}
_STYLE_FIELDS = ("transpose", "ones", "size_subscripts", "bold", "loss", "upstream")


@dataclass(frozen=True)
class DerivationOptions:
    """Everything a paper author may choose, in one frozen object.

    style: the printing Style (ones symbol, transpose, bold, loss name, upstream notation,
    size subscripts on ones vectors). differential: the d of dW ("d" or r"\\mathrm{d}").
    cotangent: how the gradients of intermediates print in backprop lines ("bar": \\bar{Z},
    "delta": \\delta_{Z}, "frac": \\frac{\\partial L}{\\partial Z}). notes: words beside the
    equations. name_intermediates: name the layers of a deep expression Z₁, H₁, ...
    width: the width the lines must fit, "text" (a one-column article's text) or "column"
    (a column of a two-column paper): long sums break, and notes move below their equation.
    """

    style: Style = LATEX
    differential: str = "d"
    cotangent: str = "bar"
    notes: bool = True
    name_intermediates: bool = True
    width: str = "text"

    def __post_init__(self) -> None:
        st = self.style
        if not isinstance(st, Style):
            raise SymgradError(f"style must be a symgrad Style, got {type(st).__name__}")
        for name in ("transpose", "ones", "loss", "differential"):
            value = getattr(st if name != "differential" else self, name)
            if not isinstance(value, str) or not value.strip():
                raise SymgradError(f"option {name} must be a non-empty LaTeX string, got "
                                   f"{value!r}")
        for name, value in (("upstream", st.upstream), ("cotangent", self.cotangent)):
            if value not in _NOTATIONS:
                raise SymgradError(f"option {name} must be one of {', '.join(_NOTATIONS)}; "
                                   f"got {value!r}")
        if not isinstance(self.width, str) or self.width not in WIDTHS:
            raise SymgradError(f"option width must be one of {', '.join(WIDTHS)}; got "
                               f"{self.width!r}")
        for name, value in (("size_subscripts", st.size_subscripts), ("bold", st.bold),
                            ("notes", self.notes),
                            ("name_intermediates", self.name_intermediates)):
            if not isinstance(value, bool):
                raise SymgradError(f"option {name} must be True or False, got {value!r}")

    @classmethod
    def make(cls, options: DerivationOptions | None = None, **kw) -> DerivationOptions:
        """Options from keywords: Style fields (transpose, ones, ...) and this class's fields."""
        base = options if options is not None else cls()
        if not isinstance(base, DerivationOptions):
            raise SymgradError(f"options must be DerivationOptions, got {type(base).__name__}")
        own = {f.name for f in dataclasses.fields(cls)} - {"style"}
        unknown = sorted(set(kw) - own - set(_STYLE_FIELDS) - {"style"})
        if unknown:
            valid = ", ".join(sorted(own | set(_STYLE_FIELDS)))
            raise SymgradError(f"unknown derivation option {', '.join(unknown)}; valid: {valid}")
        style = kw.pop("style", base.style)
        style_kw = {k: kw.pop(k) for k in list(kw) if k in _STYLE_FIELDS}
        if not isinstance(style, Style):
            raise SymgradError(f"style must be a symgrad Style, got {type(style).__name__}")
        style = replace(style, latex=True, mark_broadcasts=False, **style_kw)
        return replace(base, style=style, **kw)

    def font_packages(self) -> tuple[str, ...]:
        """The LaTeX packages of which the ones symbol needs one (bbm or dsfont for a
        blackboard-bold 1), or () when amsmath and amssymb draw it."""
        ones = self.style.ones
        if r"\mathbb{1}" in ones or r"\mathbb 1" in ones:
            return ("bbm", "dsfont")
        return tuple(p for macro, p in ((r"\mathbbm", "bbm"), (r"\mathds", "dsfont"))
                     if macro in ones)

    def packages(self) -> list[str]:
        """The preamble lines a standalone document needs for these options."""
        lines = [r"\usepackage{amsmath}", r"\usepackage{amssymb}"]
        ones = self.style.ones
        if r"\mathbb{1}" in ones or r"\mathbb 1" in ones:
            lines += [
                r"% \mathbb{1}: amssymb's blackboard bold has no digits (it prints a wrong",
                r"% glyph). bbm or dsfont draws it (Debian: texlive-fonts-extra); used if found,",
                r"% else \mathbf{1}.",
                r"\IfFileExists{bbm.sty}{\usepackage{bbm}\let\mathbb\mathbbm}{%",
                r"\IfFileExists{dsfont.sty}{\usepackage{dsfont}\let\mathbb\mathds}{%",
                r"\let\mathbb\mathbf}}",
            ]
        for macro, package in ((r"\mathbbm", "bbm"), (r"\mathds", "dsfont"), (r"\bm{", "bm")):
            if macro in ones or macro in self.style.transpose:
                lines.append(rf"\usepackage{{{package}}}")
        return lines
