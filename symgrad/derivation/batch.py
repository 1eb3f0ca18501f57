"""Derivations of batched expressions: arrays of three or more axes, written slice by slice.

A batched layer X W + b, X of shape (B, T, d), is B matrix layers sharing W and b. Its
derivation says so: the expression as given (index notation), each slice in matrix notation
with the broadcast made explicit (f_i = X_i W + 1_T b^T, X_i the i-th slice along the leading
axis), the per-slice differential and chain rule (dL = sum_i tr(G_i^T df_i)), and the gradients:
a weight shared by the slices gets the sum over the batch of the slices' gradients
(dL/dW = sum_i X_i^T G_i), a batched variable its slices' gradients (dL/dX_i = G_i W^T).
A scalar loss that sums over the batch, L = sum_i L_i, is derived slice by slice the same way.

The steps of one slice are an ordinary matrix derivation (build.Builder) of the slice; the
lines that add slices up are marked Equation.batch == "sum". verify() checks both: the
per-slice derivation at random slices, and every line at random whole arrays, slice by slice.
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import UnsupportedError
from ..grad import backprop, grad
from ..jvp import _coefficient
from ..node import Node, describe, topo
from ..ops import arith, core, reduce
from ..printing import UNICODE, Printer
from .build import Builder, user_variables
from .measure import latex_width
from .model import Batch, Check, Derivation, Equation, Part, Step
from .options import WIDTHS, DerivationOptions
from .render import StepPrinter, unicode_token
from .slices import Slicer

_TAGS = "ijklmnpqrst"
_WHOLE = 0.6  # the share of the line a whole-array gradient may take (notes need the rest)


def _summed(y: Node) -> tuple[object, Node]:
    """A scalar loss as c · (the sum of every entry of an array)."""
    c, body = _coefficient(core.unname(y))
    if body.op is reduce.SUM and not body.params[1] and len(body.params[0]) == body.args[0].ndim:
        return c, body.args[0]
    raise UnsupportedError(
        f"derive() writes a batched derivation for a loss that sums (or averages) every entry "
        f"of an array, or for an array itself; {describe(y)} is {body.op.name} at its top")


def _tags(y: Node, base: Printer, r: int) -> tuple[str, ...]:
    """The indices of the slices, one per batch axis: letters no variable, size or name in y
    already uses."""
    taken = set()
    for n in topo(y):
        if n.op is core.VAR:
            taken.add(n.params.name)
            taken.add(base.name(n.params.name))
        elif n.op is core.NAME:
            taken.add(n.params[0])
        for s in n.shape:
            taken |= {str(f) for f in getattr(s, "free_symbols", ())}
    return tuple(c for c in _TAGS if c not in taken)[:r]


def _sub(tex: str, tags: tuple[str, ...]) -> str:
    """tex with the slice's subscript: L_{i}, L_{i,j}, {L_{0}}_{i}."""
    sub = ",".join(tags)
    return f"{{{tex}}}_{{{sub}}}" if "_" in tex else f"{tex}_{{{sub}}}"


class BatchBuilder:
    """Builds a batched derivation from the matrix derivation of one slice."""

    def __init__(self, y: Node, wrt: list[Node], opts: DerivationOptions) -> None:
        self.y, self.wrt, self.opts = y, wrt, opts
        self.base = Printer(opts.style)
        self.symbols: dict[Node, tuple[str, str]] = {}

    def symbol(self, key: str, shape_, tex: str, text: str) -> Node:
        v = core.variable(key, *shape_, kind=core.Kind.SYMBOL)
        self.symbols[v] = (tex, text)
        return v

    def build(self) -> Derivation:
        y, opts = self.y, self.opts
        scalar = y.ndim == 0
        if scalar:
            c, top = _summed(y)
        else:
            c, top = 1, core.unname(y)
        if top.ndim == 0:
            raise UnsupportedError(f"derive() finds no batch axis in {describe(y)}")
        r = max(top.ndim - 2, 1)  # slices of at most two axes: matrices
        sizes = top.shape[:r]
        tags = _tags(y, self.base, r)
        tag = "_".join(tags)  # X_i, X_i_j (printed X_{i,j})
        slicer = Slicer(r, sizes, tag)
        piece = slicer.cut(top)
        names = {v.params.name for v in user_variables(y)}
        for s in slicer.slices:
            if s.params.name in names:
                raise UnsupportedError(f"derive() names the slices of {slicer.slices[s]} "
                                       f"{s.params.name}, like a variable of the expression; "
                                       f"rename that variable")
        whole_of = {w: s for s, w in slicer.slices.items()}
        xs = [whole_of.get(v, v) for v in self.wrt]
        loss = opts.style.loss
        if scalar and y.op is core.NAME:
            loss = self.base.name(y.params[0])
        if scalar:
            if c != 1:
                piece = arith.mul(core.number(c), reduce.sum_(piece))
            else:
                piece = reduce.sum_(piece)
            y_i = piece
            style = replace(opts.style, loss=_sub(loss, tags))
        else:
            label = y.params[0] if y.op is core.NAME else "f"
            y_i = core.name(f"{label}_{tag}", piece)
            style = opts.style
        inside = set(topo(y_i))  # a variable y does not hold has gradient 0, said whole
        builder = Builder(y_i, [v for v in xs if v in inside], replace(opts, style=style))
        builder.slice_tag = tag
        one = builder.build()
        self.symbols.update(one._symbols)
        slices = dict(slicer.slices)
        defs: dict[Node, Node] = {}
        upstream = core.upstream_of(y) if not scalar else None
        if upstream is not None:
            slices[one._upstream] = upstream
        for v, dv in one._tangents.items():
            if v in slicer.slices:  # dX_i: a slice of a direction dX for the whole X
                slices[dv] = core.variable(f"whole({dv.params.name})", *slicer.slices[v].shape,
                                           kind=core.Kind.SYMBOL)
        steps = self.given(y, scalar, loss, tags, one, defs, y_i)
        steps += self.slice_steps(one, slicer, tags)
        result = dict(zip(self.wrt, grad(y, self.wrt, upstream=upstream)))
        grads, labels = self.gradients(one, xs, result)
        steps.append(grads)
        checks = [Check(f"d/d{v.params.name}: result equals plain backprop", result[v], g)
                  for v, g in zip(self.wrt, backprop(y, upstream if upstream is not None
                                                     else core.number(1), self.wrt))]
        batch = Batch(tags, sizes, slices, defs, y_i, one)
        return Derivation(y, self.wrt, steps, result, opts, self.symbols, checks,
                          one._tangents, upstream, one.mode, labels, batch)

    # ---- the steps -----------------------------------------------------------------------------
    def given(self, y, scalar, loss, tags, one, defs, y_i) -> list[Step]:
        if not scalar:
            label = y.params[0] if y.op is core.NAME else "f"
            f = self.symbol("out(" + label + ")", y.shape, self.base.name(label),
                            Printer(UNICODE).name(label))
            return [Step("given", (Equation(f, core.unname(y), ("as given",)),))]
        lsym = self.symbol("loss(" + loss + ")", (), loss, unicode_token(loss))
        li = next(k for k in one._symbols if k.params.name == "loss(" + _sub(loss, tags) + ")")
        defs[li] = y_i
        eqs = (Equation(lsym, core.unname(y), ("as given",)),
               Equation(None, li, ("one term per slice",), batch="sum"))
        return [Step("given", eqs)]

    def slice_steps(self, one: Derivation, slicer: Slicer, tags: tuple[str, ...]
                    ) -> list[Step]:
        """The steps of one slice; the chain rule's lines add up the slices."""
        P = Printer(self.opts.style)
        U = Printer(replace(UNICODE, loss=unicode_token(self.opts.style.loss)))
        words: list[Part] = ["Slice by slice, for "]
        for k, (t, z) in enumerate(zip(tags, slicer.sizes)):
            words += [" and " if k else "", self.symbol(
                f"generic(range {t})", (), rf"{t} = 1, \dots, {P.size(z)}", f"{t} = 1, …, {z}")]
        nth = f"{tags[0]}-th" if len(tags) == 1 else f"({', '.join(tags)})-th"
        parts, wholes = [], []
        for s, w in slicer.slices.items():
            parts += [", ", s]
            wholes += [", ", self.symbol(f"generic(whole {w.params.name})", (),
                                         P.name(w.params.name), U.name(w.params.name))]
        many = len(parts) > 2
        axes = "leading axis" if len(tags) == 1 else f"{len(tags)} leading axes"
        words += parts + [f" {'are' if many else 'is'} the {nth} slice{'s' if many else ''} of "]
        words += wholes[1:] + [f" along {'their' if many else 'its'} {axes}:"]
        steps = []
        for k, step in enumerate(one.steps[:-1]):
            mark = "sum" if step.kind == "chain" else "each"
            eqs = tuple(replace(e, batch=mark, terms=()) for e in step.equations)
            prose = tuple(words) + ((" ",) + step.prose if step.prose else ()) if k == 0 \
                else step.prose
            steps.append(Step(step.kind, eqs, prose))
        return steps

    def fits(self, tex: str) -> bool:
        """Does the whole array (index notation) fit on a line beside its note? Where it does
        not, the per-slice line says it all (and .result holds it)."""
        return latex_width(tex) <= _WHOLE * WIDTHS[self.opts.width]

    def gradients(self, one: Derivation, xs: list[Node], result: dict[Node, Node]
                  ) -> tuple[Step, dict[Node, Node]]:
        """A shared variable's gradient: the slices' gradients summed; a batched one's: its
        slices' gradients (then the whole array, as sg.grad writes it)."""
        read = {e.lhs: e for e in one.steps[-1].equations if e.lhs is not None}
        P = StepPrinter(self.opts.style, self.symbols)
        U = Printer(replace(UNICODE, loss=unicode_token(self.opts.style.loss)))
        eqs, labels = [], {}
        for v, vi in zip(self.wrt, xs):
            label_i = core.variable(core.upstream_name(vi.params.name), *vi.shape,
                                    kind=core.Kind.UPSTREAM)
            label = core.variable(core.upstream_name(v.params.name), *v.shape,
                                  kind=core.Kind.UPSTREAM)
            if v.ndim > 2:  # its lhs is its name, ∂L/∂X, not the array of its entries
                self.symbols[label] = (P.upstream(v.params.name)[0],
                                       U.upstream(v.params.name)[0])
            if label_i not in read:  # not in the expression: zero, of the variable's shape
                eqs.append(Equation(label, result[v]))
                labels[label] = v
                continue
            g = read[label_i].rhs
            if vi is v:
                eqs.append(Equation(label, g, ("summed over the slices",), batch="sum"))
                labels[label] = v
                if P(result[v]) != P(g) and self.fits(P(result[v])):
                    eqs.append(Equation(None, result[v], ("the whole array",)))
            else:
                eqs.append(Equation(label_i, g, (), batch="each"))
                labels[label_i] = v
                if self.fits(P(result[v])):
                    eqs.append(Equation(label, result[v], ("the slices stacked",)))
                    labels[label] = v
        return Step("gradients", tuple(eqs), ("Gradients have the shape of the variable "
                                               "(denominator layout):",)), labels


def batched_derivation(y: Node, wrt: list[Node], opts: DerivationOptions) -> Derivation:
    """The derivation of y (with arrays of three or more axes) w.r.t. wrt, slice by slice."""
    return BatchBuilder(y, wrt, opts).build()
