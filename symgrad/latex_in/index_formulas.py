"""The index formulas a reshape prints (symgrad/ops/axes.py, regroup), read back.

Merged axes are indexed by one index over the block, row-major: the source axes (2, 3) merged
into one of size 6 read `X_{\\lfloor (i - 1) / 3 \\rfloor + 1, (i - 1) \\bmod 3 + 1}` (the
source's indices from the merged one); split axes by the block's position from the split
indices: an axis of size 12 split into (3, 4) reads `X_{(i - 1) 4 + j}`. A reshape that is
neither prints the flat position split over every source axis.

Reading is by the formulas' own structure, every stride and modulus checked against the sizes
(a formula that is not a row-major regrouping is refused): split components of one expression
merge those source axes; a merged expression splits its axis by its strides.
"""

from __future__ import annotations

import re

import sympy

from ..errors import LatexSyntaxError, ShapeError
from ..ops import api
from ..shapes import numel

_LETTER = r"[A-Za-z](?:_\{?\d+\}?)?"
_FIRST = re.compile(r"\\lfloor \((.+) - 1\) / (.+?) \\rfloor \+ 1")
_MIDDLE = re.compile(r"\\lfloor \((.+) - 1\) / (.+?) \\rfloor \\bmod (.+) \+ 1")
_LAST = re.compile(r"\((.+) - 1\) \\bmod (.+) \+ 1")
_TERM = re.compile(rf"\(({_LETTER}) - 1\) (.+)")


def split_top(s: str, sep: str) -> list[str]:
    """s split at `sep` outside parentheses."""
    out, depth, start, i = [], 0, 0, 0
    while i < len(s):
        c = s[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif depth == 0 and s.startswith(sep, i):
            out.append(s[start:i])
            start = i = i + len(sep)
            continue
        i += 1
    return out + [s[start:]]


def _closes_at_end(text: str) -> bool:
    """Does the parenthesis opening text close at its end?"""
    depth = 0
    for i, c in enumerate(text):
        depth += (c == "(") - (c == ")")
        if depth == 0:
            return i == len(text) - 1
    return False


def _merged(text: str):
    """`i`, `(i - 1) 4 + j` or `((i - 1) 4 + j)` -> (letters, stride texts); None if none."""
    if re.fullmatch(_LETTER, text):
        return [text], []
    if text.startswith("(") and _closes_at_end(text):
        text = text[1:-1]  # ((i - 1) 4 + j): the parentheses around the whole
    terms = [t.strip() for t in split_top(text, " + ")]
    letters, strides = [], []
    for t in terms[:-1]:
        m = _TERM.fullmatch(t)
        if m is None:
            return None
        letters.append(m.group(1))
        strides.append(m.group(2))
    if not re.fullmatch(_LETTER, terms[-1]):
        return None
    return letters + [terms[-1]], strides


def read_formulas(sub: str):
    """The positions of a subscript with index formulas: ("idx", i), ("merge", letters,
    strides) or ("split", expression, stride, modulus); None when it is not such a subscript."""
    if not re.search(r"\\lfloor|\\bmod|\(", sub or ""):
        return None
    out = []
    for part in (p.strip() for p in split_top(sub, ",")):
        if re.fullmatch(rf"{_LETTER}|1", part):
            out.append(("idx", part.replace("{", "").replace("}", "")))
            continue
        m = _MIDDLE.fullmatch(part)
        if m is not None:
            out.append(("split", m.group(1), m.group(2), m.group(3)))
            continue
        m = _FIRST.fullmatch(part)
        if m is not None:
            out.append(("split", m.group(1), m.group(2), None))
            continue
        m = _LAST.fullmatch(part)
        if m is not None:
            out.append(("split", m.group(1), "1", m.group(2)))
            continue
        merged = _merged("(" + part + ")")
        if merged is None or not merged[1]:
            return None
        out.append(("merge", *merged))
    return out


def _same(size_text: str, want, R, pos: int) -> None:
    got = R.b.size(size_text, pos)
    if sympy.expand(sympy.sympify(got) - sympy.sympify(want)) != 0:
        raise R.fail(ShapeError, f"the index formula says {size_text} where the reshape's "
                     f"sizes say {want}", pos)


def formula_entry(R, x, specs, pos: int):
    """x at the positions `specs` (IndexReader R): merged source axes reshaped into one,
    merged indices split into their axes, then indexed as usual."""
    if len(specs) > x.ndim:
        raise R.fail(ShapeError, f"{len(specs)} indices for an array of {x.ndim} axes", pos)
    x, specs = _lone_components(R, x, list(specs), pos)
    shape, slots, k = [], [], 0
    while k < len(specs):
        s = specs[k]
        if s[0] != "split":
            shape.append(x.shape[k])
            slots.append(s)
            k += 1
            continue
        run = k
        while run < len(specs) and specs[run][0] == "split" and specs[run][1] == s[1]:
            run += 1
        sizes = x.shape[k:run]
        for t, (_, _, stride, mod) in enumerate(specs[k:run]):
            _same(stride, numel(sizes[t + 1:]), R, pos)
            if (mod is None) != (t == 0):
                raise R.fail(LatexSyntaxError, "an index formula that is not a reshape's", pos)
            if mod is not None:
                _same(mod, sizes[t], R, pos)
        merged = _merged(s[1])
        if merged is None:
            raise R.fail(LatexSyntaxError, f"cannot read the index formula {s[1]}", pos)
        shape.append(numel(sizes))
        slots.append(("merge", *merged))
        k = run
    shape += list(x.shape[len(specs):])
    if tuple(shape) != tuple(x.shape):
        x = api.reshape(x, tuple(shape))
    split, letters = [], []
    for k, s in enumerate(slots):
        if s[0] == "idx":
            split.append(x.shape[k])
            letters.append(s[1])
            continue
        names, strides = s[1], [R.b.size(t, pos) for t in s[2]]
        bounds = [x.shape[k]] + strides + [1]
        for a, b in zip(bounds, bounds[1:]):
            n = sympy.cancel(sympy.sympify(a) / sympy.sympify(b))
            if sympy.fraction(n)[1] != 1:
                raise R.fail(ShapeError, f"the strides of the index formula do not divide the "
                             f"axis of size {x.shape[k]}", pos)
            split.append(int(n) if n.is_Integer else n)
        letters += [c.replace("{", "").replace("}", "") for c in names]
    split += list(x.shape[len(slots):])
    if tuple(split) != tuple(x.shape):
        x = api.reshape(x, tuple(split))
    return R.indexed(x, letters, pos)


def _lone_components(R, x, specs: list, pos: int):
    """An axis indexed by one component of a merged index m alone (the heads of W_{h d e}
    indexed by the head part of m over (H e): `\\lfloor (m - 1) / e \\rfloor + 1`, or by
    `\\lfloor (m - 1) / s \\rfloor \\bmod n + 1`, `(m - 1) \\bmod n + 1`): that axis
    repeated along the other components and merged, row-major, into one axis indexed by m."""
    k = 0
    while k < len(specs):
        s = specs[k]
        run = k + 1
        while run < len(specs) and specs[run][0] == "split" and s[0] == "split" \
                and specs[run][1] == s[1]:
            run += 1
        if s[0] != "split" or run - k != 1 or (s[3] is None and s[2].strip() == "1"):
            k = run
            continue
        m = s[1].strip()
        if _merged(m) != ([m], []) or m not in R.sizes:
            raise R.fail(LatexSyntaxError, f"cannot read the index formula {m} alone", pos)
        size, stride = x.shape[k], R.b.size(s[2], pos)
        if s[3] is not None:
            _same(s[3], size, R, pos)
        total = R.sizes[m][0]
        outer = sympy.cancel(sympy.sympify(total) / (sympy.sympify(size) * stride))
        if s[3] is None and outer != 1 or sympy.fraction(outer)[1] != 1:
            raise R.fail(ShapeError, f"the index formula of {m} does not fit its size "
                         f"{total}", pos)
        lead, tail = x.shape[:k], x.shape[k + 1:]
        x = api.reshape(x, lead + (1, size, 1) + tail)
        x = api.broadcast_to(x, lead + (outer, size, stride) + tail)
        x = api.reshape(x, lead + (total,) + tail)
        specs[k] = ("idx", m)
        k = run
    return x, specs
