"""Building a derivation's steps from an expression: differentials for one layer, a forward
and a backward pass through named intermediates for deep expressions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..errors import SymgradError
from ..explicit import explicit
from ..grad import backprop, grad
from ..jvp import depends, inner, plus, tangent
from ..node import Node, substitute, topo
from ..ops import core, linalg, reduce, shape
from ..printing import UNICODE, Printer
from ..simplify import simplify
from .model import Check, Derivation, Equation, Part, Step
from .options import DerivationOptions
from .render import notation, unicode_token


def _total(terms: Sequence[Node], shape_) -> Node:
    if not terms:
        return core.zeros(*shape_)
    out = terms[0]
    for t in terms[1:]:
        out = plus(out, t)
    return out


def _sum_eq(lhs: Node | None, terms: Sequence[Node], shape_, note: tuple = ()) -> Equation:
    return Equation(lhs, _total(terms, shape_), note, tuple(terms))


def _sum_words(g: Node) -> tuple[str, Node] | None:
    """'the row sums of', G when g is G 1 (and so on): a bias gradient said in words."""
    while g.op is shape.RESHAPE:
        g = g.args[0]
    if g.op is not reduce.SUM:
        return None
    x, (axes, _) = g.args[0], g.params
    if x.op is shape.T and x.ndim == 2:
        x, axes = x.args[0], tuple(sorted(1 - a for a in axes))
    if x.ndim == 2 and axes == (1,):
        return "the row sums of ", x
    if x.ndim == 2 and axes == (0,):
        return "the column sums of ", x
    return "the sum of the entries of ", x


# ---- intermediates ---------------------------------------------------------------------------
def user_variables(y: Node) -> list[Node]:
    return [n for n in topo(y) if core.is_user_variable(n)]


def _is_const(n: Node) -> bool:
    return not any(m.op is core.VAR for m in topo(n))


def _nonlinear(n: Node) -> bool:
    """One non-constant argument, and a local derivative that depends on it (tanh, x∘², ...)."""
    live = [j for j, a in enumerate(n.args) if not _is_const(a)]
    if n.ndim == 0 or len(live) != 1 or n.op.vjp is None or n.op is core.NAME:
        return False
    (j,) = live
    needs = tuple(i == j for i in range(len(n.args)))
    u = core.variable("u(jvp)", *n.shape, kind=core.Kind.SYMBOL)
    ct = n.op.vjp(n, u, needs)[j]
    return ct is not None and depends(ct, {n.args[j], n})


def _mixes(parent: Node, j: int) -> bool:
    """Does parent combine its j-th argument with other values (a matmul, a nonlinearity),
    rather than pass its gradient through (sums, transposes, + and -)?"""
    if parent.op.vjp is None:
        return False
    needs = tuple(i == j for i in range(len(parent.args)))
    u = core.variable("u(jvp)", *parent.shape, kind=core.Kind.SYMBOL)
    ct = parent.op.vjp(parent, u, needs)[j]
    return ct is not None and any(m.op is core.VAR and m is not u for m in topo(ct))


def _has_product(n: Node) -> bool:
    """Is there a matrix product inside n (not looking into named nodes)?"""
    stack, seen = [n], set()
    while stack:
        m = stack.pop()
        if m in seen or m.op is core.NAME:
            continue
        seen.add(m)
        if m.op in (linalg.MATMUL, linalg.OUTER) and not any(_is_const(a) for a in m.args):
            return True
        stack.extend(m.args)
    return False


def _is_leafish(n: Node) -> bool:
    while n.op is shape.T or n.op is shape.RESHAPE or n.op is core.NAME:
        n = n.args[0]
    return not n.args



# ---- building -----------------------------------------------------------------------------------
class Builder:
    """Builds the steps of a first-order derivation; its symbols (dW, Z̄₁, L) are shared."""

    def __init__(self, y: Node, wrt: list[Node], opts: DerivationOptions) -> None:
        self.y, self.wrt, self.opts = y, wrt, opts
        self.expr = core.unname(y)
        self.symbols: dict[Node, tuple[str, str]] = {}
        self.checks: list[Check] = []
        self.base = Printer(opts.style)
        self.base_u = Printer(replace(UNICODE, loss=unicode_token(opts.style.loss)))
        self.loss = opts.style.loss
        self.loss_u = unicode_token(opts.style.loss)
        if y.ndim == 0 and y.op is core.NAME:  # a named objective: its gradients are ∂E/∂W
            self.loss, self.loss_u = self.base.name(y.params[0]), self.base_u.name(y.params[0])
            self.opts = replace(opts, style=replace(opts.style, loss=self.loss))
            self.base = Printer(self.opts.style)
        self.upstream = core.upstream_of(y) if y.ndim else None
        self.labels: dict[Node, str] = {}  # intermediate -> its name
        self.seed = self.upstream if self.upstream is not None else core.number(1)
        self.slice_tag = ""  # set when deriving one slice of a batched expression

    # ---- symbols --------------------------------------------------------------------------
    def symbol(self, key: str, shape_, tex: str, text: str,
               kind: core.Kind = core.Kind.SYMBOL) -> Node:
        v = core.variable(key, *shape_, kind=kind)
        self.symbols[v] = (tex, text)
        return v

    def printed(self, v: Node) -> tuple[str, str]:
        return self.base(v), self.base_u(v)

    def y_symbol(self) -> Node:
        if self.y.ndim == 0:
            return self.symbol("loss(" + self.loss + ")", (), self.loss, self.loss_u)
        label = self.y.params[0] if self.y.op is core.NAME else "f"
        return self.symbol("out(" + label + ")", self.y.shape, self.base.name(label),
                           self.base_u.name(label))

    def differential(self, of: Node, tex: str, text: str) -> Node:
        d = self.opts.differential
        kind = core.Kind.SYMMETRIC if core.is_symmetric(of) else core.Kind.SYMBOL
        return self.symbol("d(" + tex + ")", of.shape, f"{d}{tex}",
                           f"{unicode_token(d)}{text}", kind=kind)

    def grad_label(self, v: Node) -> Node:
        return core.variable(core.upstream_name(v.params.name), *v.shape, kind=core.Kind.UPSTREAM)

    # ---- top level -------------------------------------------------------------------------
    def build(self) -> Derivation:
        self.check_names()
        inter = self.intermediates()
        # The result is sg.grad's (of y with its layers named, when they are), so derivations
        # and sg.grad print the same gradients.
        named = self.named_y(inter) if inter else self.y
        self.result = result = dict(zip(self.wrt, grad(named, self.wrt, upstream=self.seed)))
        if inter:
            steps, tangents, mode = self.backprop(inter), {}, "backprop"
        else:
            steps, tangents, mode = *self.differentials(), "differential"
        # ... and checked against plain (unsimplified) backprop
        raw = backprop(self.y, self.seed, self.wrt)
        for v, r in zip(self.wrt, raw):
            self.checks.append(Check(f"d/d{v.params.name}: result equals plain backprop",
                                      result[v], r))
        self.check_symbols()
        labels = {self.grad_label(v): v for v in self.wrt}
        return Derivation(self.y, self.wrt, steps, result, self.opts, self.symbols,
                          self.checks, tangents, self.upstream, mode, labels)

    def named_y(self, inter: list[Node]) -> Node:
        """y with every intermediate wrapped in sg.name (the user's names are already)."""
        memo: dict[Node, Node] = {}
        for n in topo(self.y):
            args = tuple(memo[a] for a in n.args)
            new = n if args == n.args else Node(n.op, args, n.params)
            if n in self.labels and n.op is not core.NAME:
                new = core.name(self.labels[n], new)
            memo[n] = new
        return memo[self.y]

    def check_names(self) -> None:
        ones = self.opts.style.ones
        out = self.base.name(self.y.params[0] if self.y.op is core.NAME else "f")
        for v in user_variables(self.y):
            if self.y.ndim and self.base(v) == out:
                raise SymgradError(
                    f"variable {v.params.name} prints as {out!r}, the name of the expression "
                    "derived; name the expression otherwise: sg.name('F', expr)")
            if self.base(v) == ones or self.base(v) == self.loss:
                what, opt = (("ones symbol", "ones") if self.base(v) == ones
                             else ("loss name", "loss"))
                raise SymgradError(
                    f"variable {v.params.name} prints as {self.base(v)!r}, the {what} of this "
                    f"derivation; rename it or pass {opt}=... to derive()"
                )

    def check_symbols(self) -> None:
        """A variable must not print like a symbol of the derivation (a variable named dW)."""
        # Unicode too: \mathit{dW} and the differential dW look alike when typeset.
        mine = {s for key, pair in self.symbols.items()
                if not key.params.name.startswith("generic(") for s in pair}
        for v in user_variables(self.y):
            s = self.base(v)
            if s in mine or self.base_u(v) in mine:
                raise SymgradError(
                    f"variable {v.params.name} prints as {s!r}, like a symbol of the derivation "
                    "(a differential, a cotangent or a named intermediate); rename it"
                )

    # ---- one layer: differentials -------------------------------------------------------------
    def differentials(self) -> tuple[list[Step], dict[Node, Node]]:
        y, expr, wrt = self.y, self.expr, self.wrt
        ysym = self.y_symbol()
        ytex, ytext = self.symbols[ysym]
        dy = self.differential(ysym, ytex, ytext)
        tangents = {v: self.differential(v, *self.printed(v)) for v in wrt}
        steps = []
        given = [Equation(ysym, expr, ("as given",))]
        exp = explicit(expr)
        marked = Printer(replace(self.opts.style, mark_broadcasts=True))
        if marked(expr) != self.base(exp):
            given.append(Equation(None, exp, ("the broadcast made explicit",)))
        if exp is not expr:
            self.checks.append(Check("the explicit form equals the expression", exp, expr))
        steps.append(Step("given", tuple(given)))
        terms = [tangent(expr, {v: tangents[v]}) for v in wrt]
        live = [(v, t) for v, t in zip(wrt, terms) if not core.is_zero(t)]
        df_eq = _sum_eq(dy, [t for _, t in live], y.shape, ("the differential",))
        df = df_eq.rhs
        steps.append(Step("differential", (df_eq,)))
        gmap = self.result
        # ⟨g, dV⟩ read off: tr((G Xᵀ)ᵀ dW) shows the gradient; (Aᵀ)ᵀ is said A.
        reads = [inner(tangents[v], gmap[v], tidy=gmap[v].op is shape.T) for v, _ in live]
        if y.ndim:  # the chain rule against the upstream gradient
            dL = self.symbol("d(" + self.loss + ")", (), f"{self.opts.differential}{self.loss}",
                             f"{unicode_token(self.opts.differential)}{self.loss_u}")
            chain = [Equation(dL, inner(dy, self.upstream), ("the chain rule",))]
            split = [inner(t, self.upstream) for _, t in live]
            if len(split) > 1:
                chain.append(_sum_eq(None, split, (), ("one term per variable",)))
            chain.append(_sum_eq(None, reads, (), self.cyclic_note(live)))
            steps.append(Step("chain", tuple(chain)))
        else:
            read = _sum_eq(None, reads, (), self.cyclic_note(live))
            if self.base(read.rhs) != self.base(df):
                steps[-1] = Step("differential", (df_eq, read))
        steps.append(self.gradient_step(gmap))
        return steps, tangents

    def cyclic_note(self, live) -> tuple[Part, ...]:
        if any(v.ndim == 2 for v, _ in live):
            cyc = self.symbol("generic(cyclic)", (), r"\operatorname{tr}(A B) = "
                              r"\operatorname{tr}(B A)", "tr(A B) = tr(B A)")
            return ("by ", cyc)
        return ("a scalar is its own transpose",)

    def gradient_step(self, gmap: dict[Node, Node]) -> Step:
        eqs = []
        for v in self.wrt:
            words = _sum_words(gmap[v])
            note: tuple[Part, ...] = (words[0], words[1]) if words else ()
            eqs.append(Equation(self.grad_label(v), gmap[v], note))
        layout = ("Gradients have the shape of the variable (denominator layout):",)
        return Step("gradients", tuple(eqs), layout)

    # ---- deep: backprop through named intermediates ------------------------------------------
    def intermediates(self) -> list[Node]:
        """User-named nodes, plus (for deep expressions) the layers Z₁, H₁, ... in forward
        order. Shared non-trivial subexpressions are named too, so nothing prints twice."""
        order = topo(self.y)
        root = self.y
        named = [n for n in order if n.op is core.NAME and n is not root]
        if not self.opts.name_intermediates:
            return named
        depth: dict[Node, int] = {}
        parents: dict[Node, list[tuple[Node, int]]] = {}
        for n in order:
            depth[n] = max((depth[a] for a in n.args), default=0) + (1 if _nonlinear(n) else 0)
            for j, a in enumerate(n.args):
                parents.setdefault(a, []).append((n, j))
        inner_ids = {n.args[0] for n in named}
        auto: dict[Node, str] = {}
        body = core.unname(root)
        wanted = set(self.wrt)
        # Deep: two nonlinear layers, or one whose input holds several of the variables (its
        # derivative would be printed once per variable).
        layered = any(_nonlinear(n) and sum(m in wanted for m in topo(n)) >= 2 for n in order)
        if depth[root] >= 2 or named or layered:
            for n in reversed(order):  # consumers first: whether n is named decides its arg
                if not _nonlinear(n):
                    continue
                (j,) = [j for j, a in enumerate(n.args) if not _is_const(a)]
                a = n.args[j]
                # H = tanh(Z) is named when something multiplies it (not when it is summed)
                if n is not body and n not in inner_ids and n.op is not core.NAME and any(
                        _mixes(p, k) for p, k in parents.get(n, [])):
                    auto.setdefault(n, "H")
                # Z is named when its H is, or when it holds a layer's product (X W + b)
                if (a.op is not core.NAME and not _is_leafish(a) and a.ndim
                        and a not in inner_ids and (n in auto or n in inner_ids
                                                    or _has_product(a))):
                    auto.setdefault(a, "H" if _nonlinear(a) else "Z")
        for n in order:  # shared subexpressions, named once
            uses = len(parents.get(n, []))
            if (uses > 1 and n.ndim and not _is_leafish(n) and n.op is not core.NAME
                    and n not in inner_ids and n is not body and n.size > 3):
                auto.setdefault(n, "H" if _nonlinear(n) else "Z")
        if not auto and not named:
            return []
        taken = {self.base.name(v.params.name) for v in user_variables(self.y)}
        taken |= {self.base.name(n.params[0]) for n in named}
        self.labels: dict[Node, str] = {n: n.params[0] for n in named}
        counters = {"Z": 0, "H": 0}
        for n in order:
            letter = auto.get(n)
            if letter is None:
                continue
            while True:
                counters[letter] += 1
                k = counters[letter]  # a slice's layers carry its index: Z_{1,i}
                label = f"{letter}_{k}_{self.slice_tag}" if self.slice_tag else f"{letter}{k}"
                if self.base.name(label) not in taken:
                    break
            taken.add(self.base.name(label))
            self.labels[n] = label
        return [n for n in order if n in self.labels]

    def backprop(self, inter: list[Node]) -> list[Step]:
        y, wrt = self.y, self.wrt
        leaves = {n: self.symbol("z(" + self.labels[n] + ")", n.shape,
                                 self.base.name(self.labels[n]), self.base_u.name(self.labels[n]))
                  for n in inter}
        # A named node's definition is its argument; an auto-named one is the node itself.
        defs: dict[Node, Node] = {}
        for n in inter:
            body = n.args[0] if n.op is core.NAME else n
            defs[n] = substitute(body, {k: v for k, v in leaves.items() if k is not n})
        ysym = self.y_symbol()
        root_def = substitute(self.expr, leaves)
        forward = [Equation(leaves[n], defs[n]) for n in inter]
        forward.append(Equation(ysym, root_def))
        forward[0] = replace(forward[0], note=("forward pass",))
        for n in inter:
            self.checks.append(Check(f"{self.labels[n]}: its line equals the expression",
                                      leaves[n], n))
        self.checks.append(Check("the last forward line equals the expression", ysym, y))
        # Cotangents, last layer first: Z̄ = sum over the consumers C of vjp(C, Z, C̄).
        segs = [(leaves[n], defs[n]) for n in inter] + [(ysym, root_def)]
        wanted = set(wrt)
        live = {ysym}
        for leaf, d in segs:
            if depends(d, wanted | live):
                live.add(leaf)
        back_sub = {defs[n]: leaves[n] for n in inter}
        bars: dict[Node, Node] = {ysym: self.seed}
        backward = []
        for n in reversed(inter):
            leaf = leaves[n]
            if leaf not in live:
                continue
            parts = [backprop(d, bars[s], [leaf])[0] for s, d in segs
                     if s in bars and leaf in topo(d)]
            raw = _total(parts, leaf.shape)
            g = simplify(substitute(raw, back_sub))
            tex, text = self.symbols[leaf]
            bar = self.symbol("bar(" + self.labels[n] + ")", leaf.shape,
                              notation(self.opts.cotangent, tex, self.loss, False),
                              notation(self.opts.cotangent, text, self.loss_u, True))
            bars[leaf] = bar
            backward.append(Equation(bar, g))
            self.checks.append(Check(f"{self.labels[n]}: cotangent line equals plain backprop",
                                      g, raw))
        steps = [Step("forward", tuple(forward))]
        gmap: dict[Node, Node] = {}
        for v in wrt:
            parts = [backprop(d, bars[s], [v])[0] for s, d in segs if s in bars and v in topo(d)]
            gmap[v] = simplify(substitute(_total(parts, v.shape), back_sub))
        if backward:
            z = self.symbol("generic(Z)", (), "Z", "Z")
            cot = self.opts.cotangent
            zbar = self.symbol(
                "generic(bar Z)", (),
                notation(cot, "Z", self.loss, False) + " = "
                + notation("frac", "Z", self.loss, False),
                notation(cot, "Z", self.loss_u, True) + " = "
                + notation("frac", "Z", self.loss_u, True))
            prose: tuple[Part, ...] = (
                ("Backward pass, last layer first: ", zbar, " has the shape of ", z,
                 " (gradients have the shape of the variable):")
                if cot != "frac" else
                ("Backward pass, last layer first (gradients have the shape of the "
                 "variable):",))
            steps.append(Step("backward", tuple(backward), prose))
        grad_step = self.gradient_step(gmap)
        prose = ("Gradients:",) if backward else grad_step.prose
        steps.append(replace(grad_step, prose=prose))
        return steps

