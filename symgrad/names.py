"""Variable names: the one place that says which names exist and how they print.

A name is a base and an optional subscript.

- Base: one Latin letter (`W`), a Greek letter name (`alpha` ... `omega`, `Gamma` ... `Omega`,
  `ell`, `varepsilon`, `vartheta`, `varphi`, `varrho`, `varsigma`, `varpi`), or a word of Latin
  letters (`Xr`, `exp`), printed as one italic symbol `\\mathit{Xr}`, so it never reads as a
  product of letters nor as a function (`\\mathit{exp}` is not `\\exp`).
- Subscript: items of digits and/or Latin letters, or a Greek letter name, written after `_`.
  Trailing digits need no `_`: `W1`, `W_1` and `W_{1}` are one variable, canonically `W_1`,
  printed `W_{1}`. Several items (`b_1_2`, `b_{1,2}`) are one subscript `1,2`, printed
  `b_{1,2}`. A subscript word prints upright: `b_out` is `b_{\\text{out}}`.
- The LaTeX spelling of a name is read too (`\\alpha_{1}`, `\\mathit{Xr}`, `\\mathbf{W}_1`),
  as are Unicode Greek letters and subscript digits (`λ` is `lambda`, `W₁` is `W_1`).

Everything else (a trailing `_`, spaces, `#`, `&`, `$`, braces that do not hold a subscript,
other Unicode) is refused by `check_name` with an `InvalidNameError` that says what is allowed.
`I` with a subscript is refused too: `I_{n}` is the identity matrix.

Declared names are canonicalized by `check_name`; env keys of `evaluate` and names read by the
parser are matched through `name_key`, so every spelling of a variable finds it.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from .errors import InvalidNameError

GREEK_LOWER = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu "
    "xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega ell"
).split()
GREEK_UPPER = "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split()
GREEK = frozenset(GREEK_LOWER + GREEK_UPPER)

# Printed Unicode of each Greek name; reading accepts these and a few variant code points.
GREEK_UNICODE = dict(zip(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu "
    "xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega ell "
    "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split(),
    "αβγδεεζηθϑικλμνξπϖρϱσςτυφφχψωℓΓΔΘΛΞΠΣΥΦΨΩ",
))
_UNICODE_GREEK = {ch: nm for nm, ch in reversed(GREEK_UNICODE.items())}
_UNICODE_GREEK.update({"ϵ": "epsilon", "ϕ": "phi"})
_SUB_DIGITS = dict(zip("₀₁₂₃₄₅₆₇₈₉", "0123456789"))
UNICODE_SUB = dict(zip("0123456789aehijklmnoprstuvx,", "₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ,"))

ALLOWED = (
    "a name is a base (one Latin letter, a Greek letter name such as alpha or Sigma, or a word "
    "of Latin letters such as Xr) and an optional subscript of digits and/or letters (W1, W_1, "
    "W_{1}, x_ij, b_{1,2}, alpha_k)"
)

_STYLE = re.compile(r"\\(?:mathit|mathrm|mathbf|bm|boldsymbol|text|operatorname)\s*\{([^{}]*)\}")
_PLAIN = re.compile(r"\\?([A-Za-z]+?)(\d*)")
_SUBBED = re.compile(r"\\?([A-Za-z]+)_(.+)")
_ITEM = re.compile(r"\\[A-Za-z]+|[A-Za-z0-9]+")


class Name(NamedTuple):
    base: str
    sub: tuple[str, ...]  # subscript items; () when there is none

    @property
    def canonical(self) -> str:
        return self.base + ("_" + ",".join(self.sub) if self.sub else "")


def _refuse(name: object, why: str) -> InvalidNameError:
    return InvalidNameError(f"invalid variable name {name!r} ({why}); {ALLOWED}")


def _items(sub: str, name: str) -> tuple[str, ...]:
    if sub.startswith("{") and sub.endswith("}"):
        sub = sub[1:-1].strip()
        parts = [p.strip() for p in sub.split(",")]
    else:
        parts = re.split("[_,]", sub)
    out = []
    for p in parts:
        if not _ITEM.fullmatch(p):
            raise _refuse(name, f"the subscript item {p!r} is not digits and/or letters"
                          if p else "an empty subscript")
        if p.startswith("\\"):
            if p[1:] not in GREEK:
                raise _refuse(name, f"{p} is not a Greek letter")
            p = p[1:]
        out.append(p)
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def parse_name(name: str) -> Name:
    """The base and subscript of a name in any accepted spelling; InvalidNameError otherwise."""
    if not isinstance(name, str):
        raise InvalidNameError(f"a variable name must be a string, got {name!r}; {ALLOWED}")
    s = name.strip()
    s = "".join("\\" + _UNICODE_GREEK[c] if c in _UNICODE_GREEK else c for c in s)
    s = re.sub("[₀-₉]+", lambda m: "_" + "".join(_SUB_DIGITS[c] for c in m.group()), s)
    s = re.sub(r"\s*([_{},])\s*", r"\1", _STYLE.sub(r"\1", s))
    if not s:
        raise _refuse(name, "it is empty")
    m = _PLAIN.fullmatch(s)
    if m:
        base, sub = m.group(1), ((m.group(2),) if m.group(2) else ())
    elif (m := _SUBBED.fullmatch(s)):
        base, sub = m.group(1), _items(m.group(2), name)
    else:
        bad = sorted({c for c in s if not (c.isascii() and (c.isalnum() or c in "_{},\\"))})
        why = (f"it contains {', '.join(map(repr, bad))}" if bad
               else "a trailing _ needs a subscript" if s.endswith("_")
               else "it does not have the form base_subscript")
        raise _refuse(name, why)
    if s.startswith("\\") and base not in GREEK:
        raise _refuse(name, f"\\{base} is not a Greek letter")
    if base == "I" and sub:
        raise _refuse(name, "I with a subscript prints as the identity matrix")
    return Name(base, sub)


def check_name(name: str) -> str:
    """The canonical name (`W1` -> `W_1`), or InvalidNameError saying which names are allowed."""
    return parse_name(name).canonical


def name_key(text: str) -> str:
    """The canonical name of any spelling (env keys, parsed LaTeX); text itself if invalid,
    so that an unknown spelling simply matches no variable."""
    try:
        return parse_name(text).canonical
    except InvalidNameError:
        return text


def _latex_piece(p: str) -> str:
    if p in GREEK:
        return "\\" + p
    return rf"\text{{{p}}}" if len(p) > 1 and p.isalpha() else p  # a word: b_{\text{out}}


def latex_name(name: str, bold: bool = False) -> str:
    """`W_1` -> `W_{1}`, `alpha` -> `\\alpha`, `Xr` -> `\\mathit{Xr}`; bold: `\\mathbf{W}_{1}`
    (Greek letters stay as they are: bold Greek needs packages beyond amsmath)."""
    n = parse_name(name)
    if n.base in GREEK:
        base = "\\" + n.base
    elif len(n.base) == 1:
        base = rf"\mathbf{{{n.base}}}" if bold else n.base
    else:
        base = rf"\mathbf{{{n.base}}}" if bold else rf"\mathit{{{n.base}}}"
    if not n.sub:
        return base
    return base + "_{" + ",".join(_latex_piece(p) for p in n.sub) + "}"


def unicode_name(name: str) -> str:
    """`W_1` -> `W₁`, `alpha` -> `α`; a subscript with no Unicode form keeps its `_`."""
    n = parse_name(name)
    base = GREEK_UNICODE.get(n.base, n.base)
    if not n.sub:
        return base
    sub = ",".join(GREEK_UNICODE.get(p, p) for p in n.sub)
    if all(c in UNICODE_SUB for c in sub):
        return base + "".join(UNICODE_SUB[c] for c in sub)
    return base + "_" + (sub if len(n.sub) == 1 else "{" + sub + "}")
