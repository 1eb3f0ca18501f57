"""einsum: the general contraction of arrays of any order (NumPy's explicit `->` form).

matmul with batch axes is one of its special cases (symgrad.ops.linalg lowers batched `@` to
it); its VJP is again an einsum, the cotangent contracted with the other operands, so second
derivatives come free. Letters that the cotangent lacks come from a ones vector (the adjoint of
a sum), repeated letters of one operand from an identity (the adjoint of taking a diagonal).
"""

from __future__ import annotations

import string

import opt_einsum

from ..errors import ShapeError
from ..node import Node, describe
from ..op import Op, later, provide, register, rule
from ..shapes import numel
from . import arith, axes, core, reduce, shape
from .shape import broadcast_to, index_notation_only, reshape, transpose

LETTERS = string.ascii_lowercase + string.ascii_uppercase


def _ellipsis(spec: str, xs: tuple[Node, ...]) -> tuple[str, tuple[Node, ...]]:
    """spec with each '...' replaced by letters of its own, NumPy's ellipsis broadcasting: the
    axes an operand does not name, aligned from the right across operands; a unit axis against
    a longer one is dropped from its operand (it broadcasts). Implicit output: those axes first,
    then the letters seen once, in alphabetical order."""
    text = spec.replace(" ", "")
    if "." not in text:
        return text, xs
    lhs, arrow, out = text.partition("->")
    terms = lhs.split(",")
    for t in terms + [out]:
        if t.count("...") > 1 or "." in t.replace("...", "", 1):
            raise ShapeError(f"einsum {spec!r}: '.' is allowed only as one ellipsis '...' per "
                             f"term")
    if len(terms) != len(xs):
        raise ShapeError(f"einsum {spec!r} names {len(terms)} operands, got {len(xs)}")
    spans = []  # per operand: the sizes its ellipsis stands for
    for t, x in zip(terms, xs):
        named = len(t.replace("...", ""))
        if "..." not in t:
            spans.append(())
        elif x.ndim < named:
            raise ShapeError(f"einsum {spec!r}: term {t!r} names {named} axes but {describe(x)} "
                             f"has {x.ndim}")
        else:
            at = t.index("...")
            spans.append(tuple(x.shape[at:at + x.ndim - named]))
    width = max(len(sp) for sp in spans)
    sizes: list[object] = [1] * width
    for sp, x in zip(spans, xs):
        for i, sz in enumerate(sp, width - len(sp)):
            if sz != 1 and sizes[i] not in (1, sz):
                raise ShapeError(f"einsum {spec!r}: the axes of '...' do not broadcast: size "
                                 f"{sizes[i]} against {sz} (at {describe(x)})")
            sizes[i] = sz if sz != 1 else sizes[i]
    free = [c for c in LETTERS if c not in text]
    if len(free) < width:
        raise ShapeError(f"einsum {spec!r}: too many axes to name with letters")
    ell = "".join(free[:width])
    new_terms, new_xs = [], []
    for t, x, sp in zip(terms, xs, spans):
        if "..." not in t:
            new_terms.append(t)
            new_xs.append(x)
            continue
        at, off = t.index("..."), width - len(sp)
        drop = {i for i, sz in enumerate(sp) if sz == 1 and sizes[off + i] != 1}
        mine = "".join(c for i, c in enumerate(ell[off:]) if i not in drop)
        new_terms.append(t.replace("...", mine))
        keep = tuple(sz for i, sz in enumerate(x.shape) if i - at not in drop)
        new_xs.append(reshape(x, keep) if drop else x)
    if arrow:
        if width and "..." not in out:
            raise ShapeError(f"einsum {spec!r}: the output must keep the axes of '...' "
                             f"(write '...' in it), as NumPy")
        out = out.replace("...", ell)
    else:
        flat = "".join(new_terms)
        out = ell + "".join(sorted(c for c in set(flat) - set(ell) if flat.count(c) == 1))
    return ",".join(new_terms) + "->" + out, tuple(new_xs)


def _parse(spec: str, operands: tuple[Node, ...], shown: str | None = None
           ) -> tuple[tuple[str, ...], str]:
    """The input terms and the output term of `spec`, checked against the operands (errors
    quote `shown`, the spec as the user wrote it)."""
    if not isinstance(spec, str):
        raise ShapeError(f"an einsum spec is a string such as 'ij,jk->ik', got {spec!r}")
    text = spec.replace(" ", "")
    spec = spec if shown is None else shown
    lhs, arrow, out = text.partition("->")
    terms = tuple(lhs.split(","))
    if not all(c in LETTERS for c in "".join(terms) + out):
        raise ShapeError(f"einsum {spec!r}: axes are named by letters a-z, A-Z")
    if not arrow:  # implicit form: the letters seen once, in alphabetical order (NumPy)
        flat = "".join(terms)
        out = "".join(sorted(c for c in set(flat) if flat.count(c) == 1))
    if len(terms) != len(operands):
        raise ShapeError(f"einsum {spec!r} names {len(terms)} operands, got {len(operands)}")
    sizes: dict[str, object] = {}
    for t, x in zip(terms, operands):
        if len(t) != x.ndim:
            raise ShapeError(f"einsum {spec!r}: term {t!r} names {len(t)} axes but "
                             f"{describe(x)} has {x.ndim}")
        for c, s in zip(t, x.shape):
            if sizes.setdefault(c, s) != s:
                raise ShapeError(f"einsum {spec!r}: axis {c!r} has sizes {sizes[c]} and {s} "
                                 f"(at {describe(x)})")
    if len(set(out)) != len(out) or not set(out) <= set(sizes):
        raise ShapeError(f"einsum {spec!r}: the output {out!r} must name distinct axes of the "
                         f"operands")
    return _canonical(terms, out)


def _canonical(terms: tuple[str, ...], out: str) -> tuple[tuple[str, ...], str]:
    """Letters renamed a, b, c, ... in order of first appearance: one node per contraction."""
    ren: dict[str, str] = {}
    for c in "".join(terms) + out:
        ren.setdefault(c, LETTERS[len(ren)])
    return tuple("".join(ren[c] for c in t) for t in terms), "".join(ren[c] for c in out)


def spec_text(params) -> str:
    terms, out = params
    return ",".join(terms) + "->" + out


def letter_sizes(n: Node) -> dict[str, object]:
    terms, _ = n.params
    return {c: s for t, x in zip(terms, n.args) for c, s in zip(t, x.shape)}


def _shape(args, params):
    terms, out = params
    sizes = {c: s for t, x in zip(terms, args) for c, s in zip(t, x.shape)}
    return tuple(sizes[c] for c in out)


def _vjp(n: Node, g: Node, needs) -> tuple:
    terms, out = n.params
    sizes = letter_sizes(n)
    cts = []
    for k, need in enumerate(needs):
        if not need:
            cts.append(None)
            continue
        ins, ops = [out], [g]
        for j, (t, x) in enumerate(zip(terms, n.args)):
            if j != k:
                ins.append(t)
                ops.append(x)
        seen, target = set("".join(ins)), []
        fresh = iter(c for c in LETTERS if c not in set("".join(terms) + out))
        for c in terms[k]:
            if c in target:  # a repeated letter (a diagonal): its adjoint puts g back on it
                d = next(fresh)
                ins.append(c + d)
                ops.append(core.eye(sizes[c]))
                target.append(d)
                continue
            if c not in seen:  # summed over in this operand only: its adjoint spreads g
                ins.append(c)
                ops.append(core.ones(sizes[c]))
                seen.add(c)
            target.append(c)
        cts.append(einsum(",".join(ins) + "->" + "".join(target), *ops))
    return tuple(cts)


def _np_einsum(n: Node, vals, sizes):
    return opt_einsum.contract(spec_text(n.params), *vals)


def _spread_ones(n: Node) -> Node | None:
    """An einsum with ones-vector operands (the adjoint of a sum) as the einsum of the others,
    broadcast along those letters: a view, not a product with ones."""
    terms, out = n.params
    ones = [k for k, x in enumerate(n.args) if x.op is core.ONES and x.ndim == 1]
    if not ones or len(ones) == len(n.args):
        return None
    keep = [k for k in range(len(n.args)) if k not in ones]
    have = set("".join(terms[k] for k in keep))
    if any(c not in have and c not in out for k in ones for c in terms[k]):
        return None  # a ones vector summed over: a count, not a broadcast
    inner_out = "".join(c for c in out if c in have)
    inner = einsum(",".join(terms[k] for k in keep) + "->" + inner_out,
                   *(n.args[k] for k in keep))
    sizes = letter_sizes(n)
    unit = tuple(sizes[c] if c in have else 1 for c in out)
    return broadcast_to(reshape(inner, unit), n.shape)


def _code(n: Node, a, B):
    spread = _spread_ones(n)
    if spread is not None:
        return spread
    spec = repr(spec_text(n.params))
    ops = ", ".join(str(x) for x in a)
    if B.name == "numpy" and len(a) > 2:  # opt_einsum orders 3+ operands for least cost
        return B.code(f"oe.contract({spec}, {ops})", hint="einsum")
    extra = ", optimize=True" if B.name == "numpy" else ""  # BLAS, not a Python loop
    return B.code(f"{B.fn('einsum')}({spec}, {ops}{extra})", hint="einsum")


def _entry(n: Node, E, idx):
    """sum over the contracted letters of the product of the operands' entries."""
    terms, out = n.params
    sizes = letter_sizes(n)
    letter = dict(zip(out, idx))
    bound = []
    for c in dict.fromkeys("".join(terms)):
        if c not in letter:
            letter[c] = "1" if sizes[c] == 1 else E.fresh(sizes[c])
            if sizes[c] != 1:
                bound.append(letter[c])
    factors = [E.entry(x, [letter[c] for c in t]) for t, x in zip(terms, n.args)]
    return E.summed(bound, E.product(factors))


def batched(terms, out, args, deps, lead) -> Node:
    """The contraction with the batched operands (deps) carrying the leading axes `lead`."""
    free = iter(c for c in LETTERS if c not in set("".join(terms) + out))
    bl = "".join(next(free) for _ in lead)
    ins = [bl + t if d else t for t, d in zip(terms, deps)]
    return einsum(",".join(ins) + "->" + bl + out, *args)


def _cases():
    matmuls = [(lambda a, b: later.matmul(a, b), [(sa, "any"), (sb, "any")]) for sa, sb in [
        ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 5)), ((2, 3, 4), (4,)),
        ((4,), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2))]]
    return matmuls + [(lambda *xs, s=spec: einsum(s, *xs), [(sh, "any") for sh in shapes])
            for spec, shapes in [
                ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
                ("btd,dh->bth", [(2, 3, 4), (4, 5)]),
                ("ijk->k", [(2, 3, 4)]),
                ("ijk,k->ij", [(2, 3, 4), (4,)]),
                ("ii->i", [(3, 3)]),
                ("iij->j", [(3, 3, 4)]),
                ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
                ("bhtd,bhsd->bhts", [(2, 3, 4, 5), (2, 3, 2, 5)]),
                ("i,j,k->ijk", [(2,), (3,), (4,)]),
                ("bi,ij,bj->b", [(2, 3), (3, 3), (2, 3)]),
            ]]


EINSUM = register(Op(
    "einsum", shape=_shape, vjp=_vjp, print=index_notation_only, numpy=_np_einsum,
    tensor_cases=_cases, code=_code, entry=_entry,
    batch=lambda n, args, deps, lead: batched(*n.params, args, deps, lead),
))


def _as_matmul(terms, out, xs) -> Node | None:
    """A product of two matrices written as an einsum ('ij,kj->ik' is A Bᵀ) is that product."""
    if len(xs) != 2 or any(x.ndim != 2 for x in xs) or len(out) != 2:
        return None
    (a, b), (x, y) = terms, xs
    shared = set(a) & set(b)
    if len(shared) != 1 or len(set(a)) != 2 or len(set(b)) != 2:
        return None
    (c,) = shared
    fa, fb = a.replace(c, ""), b.replace(c, "")
    if set(out) != {fa, fb} or fa == fb:
        return None
    left = x if a[1] == c else transpose(x)
    right = y if b[0] == c else transpose(y)
    p = later.matmul(left, right)
    return p if out == fa + fb else transpose(p)


@rule(EINSUM, "einsum-of-einsum")
def _flatten(n: Node) -> Node | None:
    """A contraction of contractions is one contraction (so deltas meet what they index)."""
    terms, out = n.params
    k = next((k for k, x in enumerate(n.args) if x.op is EINSUM), None)
    if k is None:
        return None
    inner = n.args[k]
    iterms, iout = inner.params
    used = set("".join(terms) + out)
    fresh = iter(c for c in LETTERS if c not in used)
    ren = dict(zip(iout, terms[k]))
    for c in dict.fromkeys("".join(iterms)):
        if c not in ren:
            ren[c] = next(fresh, None)
    if None in ren.values():
        return None  # out of letters: leave it nested
    ins = list(terms[:k]) + ["".join(ren[c] for c in t) for t in iterms] + list(terms[k + 1:])
    ops = n.args[:k] + inner.args + n.args[k + 1:]
    return einsum(",".join(ins) + "->" + out, *ops)


@rule(EINSUM, "einsum-of-transpose")
def _of_transpose(n: Node) -> Node | None:
    """A transposed operand is the operand with its indices swapped: (Yᵀ)_{ki} is Y_{ik}."""
    terms, out = n.params
    for k, x in enumerate(n.args):
        if x.op is shape.T:
            t = terms[k][::-1]
        elif x.op is axes.PERMUTE:
            t = [""] * x.ndim
            for i, p in enumerate(x.params[0]):
                t[p] = terms[k][i]
            t = "".join(t)
        else:
            continue
        return _replace(n, k, t, x.args[0])
    return None


@rule(EINSUM, "einsum-delta")
def _delta(n: Node) -> Node | None:
    """An identity contracted over one of its indices: sum_l delta_{il} A_{l...} = A_{i...}
    (the index substituted), sum_l delta_{il} = 1 (nothing else uses l) and delta_{ii} = 1 (a
    diagonal of the identity): the last two leave a ones vector for einsum-ones."""
    terms, out = n.params
    for k, x in enumerate(n.args):
        t = terms[k]
        if x.op is not core.EYE:
            continue
        if t[0] == t[1]:
            return _replace(n, k, t[0], core.ones(x.shape[0]))
        others = "".join(terms[:k] + terms[k + 1:])
        if t[0] in out and t[1] in out:  # both kept: the others say the earlier index
            keep, drop = sorted(t, key=out.index)
            if drop not in others:
                continue
            ins = [u if j == k else u.replace(drop, keep) for j, u in enumerate(terms)]
            return einsum(",".join(ins) + "->" + out, *n.args)
        for keep, drop in ((t[0], t[1]), (t[1], t[0])):
            if drop in out:
                continue
            if drop not in others:
                return _replace(n, k, keep, core.ones(x.shape[0]))
            ins = [u.replace(drop, keep) for j, u in enumerate(terms) if j != k]
            return einsum(",".join(ins) + "->" + out, *(n.args[:k] + n.args[k + 1:]))
    return None


def _replace(n: Node, k: int, term: str, x: Node) -> Node:
    terms, out = n.params
    ins = terms[:k] + (term,) + terms[k + 1:]
    return einsum(",".join(ins) + "->" + out, *(n.args[:k] + (x,) + n.args[k + 1:]))


@rule(EINSUM, "einsum-ones")
def _ones(n: Node) -> Node | None:
    """Operands of ones multiply by 1: an index they share with another operand is summed (or
    kept) without them; one only they have is a count when summed (sum_l 1 = size of l) and a
    broadcast when kept. The einsum of the rest, times the counts, broadcast: a view."""
    terms, out = n.params
    ones = [k for k, x in enumerate(n.args) if x.op is core.ONES]
    if not ones:
        return None
    keep = [k for k in range(len(n.args)) if k not in ones]
    have = set("".join(terms[k] for k in keep))
    sizes = letter_sizes(n)
    counted = {c for k in ones for c in terms[k]} - have - set(out)
    count = numel(tuple(sizes[c] for c in sorted(counted)))
    inner_out = "".join(c for c in out if c in have)
    if keep:
        inner = einsum(",".join(terms[k] for k in keep) + "->" + inner_out,
                       *(n.args[k] for k in keep))
    else:
        inner = core.ones()
    if count != 1:
        inner = arith.mul(core.number(count), inner)
    if inner_out == out:
        return inner
    unit = tuple(sizes[c] if c in have else 1 for c in out)
    return broadcast_to(reshape(inner, unit), n.shape)


def _unit_free(f: Node) -> tuple[Node, tuple[bool, ...]] | None:
    """(E, which axes of f are E's) for f an einsum E, or E with unit axes inserted."""
    e = f.args[0] if f.op is shape.RESHAPE else f
    if e.op is not EINSUM or any(s == 1 for s in e.shape):
        return None
    if [s for s in f.shape if s != 1] != list(e.shape):
        return None
    return e, tuple(s != 1 for s in f.shape)


@rule(arith.MUL_OP, "hadamard-into-einsum")  # here, not in arith: it feeds einsum-delta
def _into_einsum(n: Node) -> Node | None:
    """F ⊙ A = [F_{ijk} A_{jk}]: an entrywise product with a contraction that holds an identity
    joins it as one more operand, so the identity's index can be substituted into A."""
    for f, a in (n.args, n.args[::-1]):
        got = _unit_free(f)
        if got is None or a.ndim == 0 or all(s == 1 for s in a.shape):
            continue
        e, mine = got
        if not any(x.op is core.EYE for x in e.args):
            continue
        terms, out = e.params
        fresh = iter(c for c in LETTERS if c not in set("".join(terms) + out))
        fpad = (False,) * (n.ndim - f.ndim) + mine
        apad = (1,) * (n.ndim - a.ndim) + a.shape
        own, letters = iter(out), []
        for j in range(n.ndim):
            letters.append(next(own) if fpad[j] else (next(fresh) if apad[j] != 1 else ""))
        lead = n.ndim - a.ndim
        at = "".join(letters[lead + i] for i, s in enumerate(a.shape) if s != 1)
        a2 = reshape(a, tuple(s for s in a.shape if s != 1))
        res = einsum(",".join(terms + (at,)) + "->" + "".join(letters), *(e.args + (a2,)))
        return reshape(res, n.shape)
    return None


@rule(reduce.SUM, "sum-of-einsum")  # here, not in reduce: it is a fact about contractions
def _sum_einsum(n: Node) -> Node | None:
    """A sum over axes of a contraction is the contraction with those indices summed."""
    x = n.args[0]
    if x.op is not EINSUM:
        return None
    summed, _ = n.params
    terms, out = x.params
    kept = "".join(c for i, c in enumerate(out) if i not in summed)
    return reshape(einsum(",".join(terms) + "->" + kept, *x.args), n.shape)


def einsum(spec: str, *operands) -> Node:
    """The contraction `spec` of the operands, as numpy.einsum: einsum("bij,bjk->bik", A, B)
    is the batched product. Explicit ('ij,jk->ik') and implicit ('ij,jk') forms, and NumPy's
    '...' for the axes a term does not name ('...d,dh->...h')."""
    xs = tuple(core.as_node(x) for x in operands)
    if not isinstance(spec, str):
        raise ShapeError(f"an einsum spec is a string such as 'ij,jk->ik', got {spec!r}")
    full, xs = _ellipsis(spec, xs)
    terms, out = _parse(full, xs, shown=spec)
    if len(xs) == 1 and terms[0] == out:
        return xs[0]
    mm = _as_matmul(terms, out, xs)
    if mm is not None:
        return mm
    if len(xs) == 1 and sorted(terms[0]) == sorted(out):  # a permutation of the axes
        return transpose(xs[0], tuple(terms[0].index(c) for c in out))
    return Node(EINSUM, xs, (terms, out))


provide(einsum=einsum, batched_einsum=batched)
