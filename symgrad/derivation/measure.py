"""How wide LaTeX math sets, estimated in em of Computer Modern, without running TeX.

Line breaking needs the printed width of a formula; pdflatex is not always there. The estimate
walks the LaTeX the printer writes (a small vocabulary) with the glyph widths of cmmi/cmr and
TeX's math spacing, scaled in sub- and superscripts. tests/test_derivation_width.py compares
it with the widths pdflatex measures and keeps it on the safe (wide) side.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}_^&]|\s+|.", re.S)

# Glyph widths in em (cmmi10 / cmr10 / cmsy10, rounded up).
_UPPER, _LOWER, _DIGIT, _TEXT_CHAR = 0.85, 0.56, 0.5, 0.45
_BIN, _REL, _THIN, _MED = 0.78, 0.78, 1 / 6, 2 / 9  # operator glyphs and TeX's muskips
_BINARY = {"+", "-", "\\odot", "\\oslash", "\\otimes", "\\oplus", "\\ominus", "\\circ",
           "\\cdot", "\\times", "\\pm"}
_RELATION = {"=", "<", ">", "\\le", "\\ge", "\\approx", "\\to"}
_SYMBOL = {"\\top": 0.78, "\\partial": 0.57, "\\ell": 0.42, "\\infty": 1.0, "\\prime": 0.28,
           "\\lVert": 0.5, "\\rVert": 0.5, "\\|": 0.5, "\\lvert": 0.28, "\\rvert": 0.28,
           "\\sum": 1.06, "\\prod": 0.95, "\\dots": 1.2, "\\cdots": 1.2, "\\ldots": 1.2,
           "\\big": 0.05, "\\bigl": 0.05, "\\bigr": 0.05, "\\Big": 0.1, "\\left": 0.25,
           "\\right": 0.25, "\\mathrel": 0.0, "\\mathbin": 0.0, "\\displaystyle": 0.0,
           "\\,": _THIN, "\\:": _MED, "\\;": 5 / 18, "\\!": -_THIN, "\\ ": 0.33,
           "\\quad": 1.0, "\\qquad": 2.0, "\\{": 0.5, "\\}": 0.5}
_FUNCTIONS = {"\\log", "\\exp", "\\tanh", "\\sin", "\\cos", "\\det", "\\min", "\\max",
              "\\ln", "\\sinh", "\\cosh", "\\tan", "\\arg", "\\sup", "\\inf", "\\lim"}
_FRACTIONS = {"\\frac": 1.0, "\\dfrac": 1.0, "\\tfrac": 0.7}
_ACCENTS = {"\\bar", "\\hat", "\\tilde", "\\vec", "\\dot", "\\overline", "\\widehat",
            "\\mathbf", "\\mathbb", "\\mathbbm", "\\mathds", "\\mathrm", "\\mathit",
            "\\mathsf", "\\mathcal", "\\bm", "\\boldsymbol", "\\mathnormal"}
_SCRIPT = 0.7  # a sub- or superscript's size; its own scripts are 0.5


def _group(toks: list[str], i: int) -> tuple[list[str], int]:
    """The argument starting at toks[i] (a braced group or one token) and the next index."""
    while i < len(toks) and toks[i].isspace():
        i += 1
    if i >= len(toks):
        return [], i
    if toks[i] != "{":
        return [toks[i]], i + 1
    depth, j = 0, i
    while j < len(toks):
        depth += {"{": 1, "}": -1}.get(toks[j], 0)
        if depth == 0:
            return toks[i + 1:j], j + 1
        j += 1
    return toks[i + 1:], len(toks)


def _width(toks: list[str], scale: float) -> float:
    """The width of a token list at a size (1 in the text, 0.7 in scripts)."""
    spaced = scale >= 1  # TeX drops binary and relation spacing in scripts
    out, i = 0.0, 0
    while i < len(toks):
        t = toks[i]
        i += 1
        if t.isspace() or t in "&}":
            continue
        if t == "{":
            arg, i = _group(toks, i - 1)
            out += _width(arg, scale)
        elif t in ("_", "^"):
            arg, i = _group(toks, i)
            out += _width(arg, _SCRIPT if scale >= 1 else 0.5) + 0.05
        elif t in _FRACTIONS:
            num, i = _group(toks, i)
            den, i = _group(toks, i)
            s = scale * _FRACTIONS[t]
            out += max(_width(num, s), _width(den, s)) + 0.4 * scale
        elif t in ("\\text", "\\operatorname"):
            arg, i = _group(toks, i)
            words = "".join(arg)
            plain = re.sub(r"\\[A-Za-z]+|[{}\\]", "", words)
            out += (len(plain) * _TEXT_CHAR + (_THIN if t == "\\operatorname" else 0)) * scale
        elif t in _ACCENTS:
            arg, i = _group(toks, i)
            out += _width(arg, scale) * (1.1 if t in ("\\mathbf", "\\bm", "\\boldsymbol")
                                         else 1.0)
        elif t in _FUNCTIONS:
            out += ((len(t) - 1) * _TEXT_CHAR + _THIN) * scale
        elif t in _BINARY or t in _RELATION:
            space = (2 * _MED if t in _BINARY else 2 * 5 / 18) if spaced else 0.0
            out += (_BIN if t in _BINARY else _REL) * scale + space
        elif t in _SYMBOL:
            out += _SYMBOL[t] * (scale if t not in ("\\,", "\\:", "\\;", "\\!") else 1.0)
        elif t.startswith("\\"):
            out += (0.62 if t[1:2].islower() else 0.8) * scale  # a Greek letter or a symbol
        elif t in "()[]|":
            out += 0.39 * scale
        elif t in ",;":
            out += (0.28 + (_THIN if spaced else 0)) * scale
        elif t.isdigit():
            out += _DIGIT * scale
        elif t.isupper():
            out += _UPPER * scale
        else:
            out += _LOWER * scale
    return out


def latex_width(tex: str) -> float:
    """The estimated width of a LaTeX math formula set in display style, in em."""
    return _width(_TOKEN.findall(tex), 1.0)


def text_width(words: str) -> float:
    """The estimated width of a run of roman text, in em."""
    return len(words) * _TEXT_CHAR
