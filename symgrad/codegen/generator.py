"""Scheduling a DAG into straight-line code: plan every code form once, then render, naming
the values used more than once."""

from __future__ import annotations

import builtins
import keyword
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy
from sympy.printing.pycode import PythonCodePrinter

from ..errors import SymgradError, UnsupportedError
from ..node import Node, describe, topo
from ..numeric import free_sizes
from ..ops import core
from .backends import ADD, ATOM, CMP, FRAC, UNARY, Backend
from .emit import PLACEHOLDER, Arg, Code, Emitter

MAX_INLINE = 72  # an expression longer than this gets a line of its own

# ---- the generator -------------------------------------------------------------------------------
@dataclass
class _Entity:
    key: int
    node: Node | None = None
    text: str = ""  # template with placeholders
    prec: int = ATOM
    hint: str | None = None
    view: bool = False
    line: bool = False
    kind: str = "op"  # op | param | literal | let | part
    const: bool = False  # a scalar computed from numbers only: a Python number in the code
    alias: int | None = None  # generate this entity instead
    lets: list[int] = field(default_factory=list)
    targets: tuple[str, ...] = ()  # names of a tuple let
    names: list[str] = field(default_factory=list)  # a let's names, once rendered
    part_of: int | None = None  # a tuple let's component: (let key, index)
    index: int = 0


class _SizePrinter(PythonCodePrinter):
    def _print_Float(self, expr):  # full precision (SymPy prints 15 digits)
        return repr(float(expr))


class Generator:
    """One generated function: the plan pass, then the render pass (see the package doc)."""

    def __init__(self, exprs: list[Node], args: list[Node], backend: Backend, name: str,
                 names: Sequence[str] | None, single: bool) -> None:
        self.exprs, self.args, self.backend, self.single = exprs, args, backend, single
        self.B = Emitter(backend, self)
        self.ents: list[_Entity] = []
        self.key_of: dict[Node, int] = {}
        self.taken: set[str] = {"np", "torch", "jnp", "jax", "math", "_"}
        self.fname = self._identifier(name, "function name")
        self.taken.add(self.fname)
        self.dtype_name: str | None = None
        self.owner_lets: list[int] | None = None
        self.let_of: dict[tuple, tuple[int, Any]] = {}
        self.sizes_used: set[sympy.Symbol] = set()
        order = topo(exprs)
        self.parents: Counter = Counter(a for n in order for a in set(n.args))
        self.parents.update(exprs)
        self.param_names = [self.alloc(_sanitize(a.params[0])) for a in args]
        for a, pname in zip(args, self.param_names):
            self._new(_Entity(0, a, pname, ATOM, kind="param"))
        syms = sorted(free_sizes(order + args), key=str)
        self.size_names = {s: self.alloc(_sanitize(str(s))) for s in syms}
        self.names = list(names) if names is not None else None

    # ---- naming --------------------------------------------------------------------------
    def _identifier(self, name: str, what: str) -> str:
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise SymgradError(f"{what} must be a Python identifier, got {name!r}")
        return name

    def alloc(self, base: str) -> str:
        base = _sanitize(base)
        if base in _BUILTINS:  # sum_, not sum: never shadow a builtin
            base += "_"
        out, k = base, 2
        while out in self.taken:
            out, k = f"{base}_{k}", k + 1
        self.taken.add(out)
        return out

    def use_dtype(self) -> str:
        if self.dtype_name is None:
            self.dtype_name = self.alloc("dtype")
        return self.dtype_name

    def size_text(self, s) -> tuple[str, int]:
        """Python text of a size or a size-dependent number, with its precedence."""
        e = sympy.sympify(s)
        free = e.free_symbols
        if not free:
            if e.is_Integer:
                return str(int(e)), (ATOM if e >= 0 else UNARY)
            v = float(e)
            return repr(v), (ATOM if v >= 0 else UNARY)
        for sym in free:
            if sym not in self.size_names:  # a size the DAG scan did not see: bind it too
                self.size_names[sym] = self.alloc(_sanitize(str(sym)))
        self.sizes_used |= free
        text = _SizePrinter().doprint(e.xreplace(
            {sym: sympy.Symbol(self.size_names[sym]) for sym in free}))
        if e.is_Symbol:
            return text, ATOM
        if e.is_Mul and not e.could_extract_minus_sign():
            return text, FRAC
        return text, ADD - 1 if e.is_Add else CMP

    # ---- planning ------------------------------------------------------------------------
    def _new(self, ent: _Entity) -> _Entity:
        ent.key = len(self.ents)
        self.ents.append(ent)
        if ent.node is not None and ent.kind in ("op", "param", "literal"):
            self.key_of.setdefault(ent.node, ent.key)
        return ent

    def handle(self, n: Node) -> Arg:
        if n not in self.key_of:
            self.plan(n)
        return Arg(self, self.key_of[n], n)

    def let(self, text: str, hint) -> Arg | tuple[Arg, ...]:
        if self.owner_lets is None:
            raise SymgradError("internal error: let() outside a code form")
        seen = self.let_of.get((text, hint))
        if seen is not None:  # the same temporary for another op (softmax and logsumexp of z)
            self.owner_lets.append(seen[0])
            return seen[1]
        out = self._let(text, hint)
        self.let_of[(text, hint)] = (self.owner_lets[-1], out)
        return out

    def _let(self, text: str, hint) -> Arg | tuple[Arg, ...]:
        if isinstance(hint, tuple):
            ent = self._new(_Entity(0, None, text, kind="let", targets=hint))
            self.owner_lets.append(ent.key)
            parts = [self._new(_Entity(0, None, kind="part", part_of=ent.key, index=i))
                     for i in range(len(hint))]
            return tuple(Arg(self, p.key, None) for p in parts)
        ent = self._new(_Entity(0, None, text, kind="let", targets=(hint,)))
        self.owner_lets.append(ent.key)
        return Arg(self, ent.key, None)

    def const(self, text: str, prec: int) -> Arg:
        ent = self._new(_Entity(0, None, text, prec, kind="literal", const=True))
        return Arg(self, ent.key, None)

    def plan(self, root: Node) -> None:
        for n in topo(root):
            if n in self.key_of:
                continue
            if n.op is core.VAR:  # every variable is a parameter (checked up front)
                raise SymgradError(f"internal error: variable {n.params[0]} is not an argument")
            if n.op.code is None:
                raise UnsupportedError(
                    f"operator {n.op.name!r} has no code form (Op.code), so symgrad cannot "
                    f"generate code for {describe(n)}"
                )
            handles = [self.handle(a) for a in n.args]
            finals = tuple(self.resolve(h.key).node for h in handles)
            if finals != n.args:  # an argument is generated as another node: so is n
                self._alias(n, Node(n.op, finals, n.params), [])
                continue
            saved, self.owner_lets = self.owner_lets, []
            try:
                out = n.op.code(n, handles, self.B)
                lets = self.owner_lets
            finally:
                self.owner_lets = saved
            if isinstance(out, Node):
                self._alias(n, out, lets)
                continue
            if isinstance(out, str):
                out = Code(out)
            elif isinstance(out, tuple):
                out = Code(*out)
            hint = out.hint if out.hint is not None else (
                f"{n.op.name}_{{0}}" if len(n.args) == 1 else n.op.name)
            const = out.literal or (n.ndim == 0 and all(self.resolve(h.key).const
                                                        for h in handles))
            self._new(_Entity(0, n, out.text, out.prec, hint, out.view, out.line,
                              kind="literal" if out.literal else "op", const=const,
                              lets=lets))

    def _alias(self, n: Node, out: Node, lets: list[int]) -> None:
        """Generate `out` wherever n is used (the same value, cheaper or simpler code)."""
        if out is n or out.shape != n.shape:
            raise SymgradError(f"internal error: code for {n!r} rewrote it to {out!r}")
        for a in set(out.args):  # the replacement's arguments gain a consumer
            self.parents[a] += 1
        self.parents[out] += self.parents[n]
        target = self.handle(out).key
        self._new(_Entity(0, n, alias=target, lets=lets))

    # ---- rendering -----------------------------------------------------------------------
    def resolve(self, key: int) -> _Entity:
        e = self.ents[key]
        while e.alias is not None:
            e = self.ents[e.alias]
        return e

    def _refs(self, e: _Entity) -> list[int]:
        if e.kind == "part":
            return [e.part_of]
        keys = [int(m.group(1)) for m in PLACEHOLDER.finditer(e.text)] + list(e.lets)
        return [self.resolve(k).key for k in keys]

    def generate(self) -> str:
        roots = [self.handle(e).key for e in self.exprs]
        roots = [self.resolve(k).key for k in roots]
        count: Counter = Counter(roots)
        live: set[int] = set()
        stack = list(dict.fromkeys(roots))
        live.update(stack)
        while stack:
            e = self.ents[stack.pop()]
            for r in self._refs(e):
                if self.ents[r].kind != "let":
                    count[r] += 1
                if r not in live:
                    live.add(r)
                    stack.append(r)

        out_names = self._output_names(roots)
        rendered: dict[int, tuple[str, int]] = {}
        simple: dict[int, bool] = {}
        labels: dict[int, str | None] = {}
        lines: list[str] = []

        def sub(m: re.Match, owner_simple: list[bool]) -> str:
            k, need = int(m.group(1)), int(m.group(2))
            ok = {int(x) for x in m.group(3).split(",") if x}
            e = self.resolve(k)
            text, prec = rendered[e.key]
            owner_simple[0] &= simple[e.key]
            if e.const and need == 0 and self.backend.literal != "{0}":
                return self.backend.literal.format(text, dtype=self.use_dtype())
            return f"({text})" if prec < need and prec not in ok else text

        for e in self.ents:
            if e.key not in live or e.alias is not None:
                continue
            if e.kind == "param":
                rendered[e.key], simple[e.key], labels[e.key] = (e.text, ATOM), True, e.text
                continue
            if e.kind == "part":
                let = self.ents[e.part_of]
                rendered[e.key] = (let.names[e.index], ATOM)
                simple[e.key], labels[e.key] = True, let.names[e.index]
                continue
            flag = [True]
            text = PLACEHOLDER.sub(lambda m, f=flag: sub(m, f), e.text)
            if e.kind == "literal":
                rendered[e.key], simple[e.key], labels[e.key] = (text, e.prec), True, None
                continue
            if e.kind == "let":
                e.names = [self.alloc(self._let_name(h, e, labels)) for h in e.targets]
                lines.append(f"{', '.join(e.names)} = {text}")
                rendered[e.key], simple[e.key] = (e.names[0], ATOM), True
                labels[e.key] = e.names[0]
                continue
            is_root = e.key in out_names
            reused = count[e.key] > 1 and not (e.view and flag[0])
            if is_root or e.line or reused or len(text) > MAX_INLINE:
                base = out_names.get(e.key) or self._label(e, labels) or "t"
                name = self.alloc(base)
                lines.append(f"{name} = {text}")
                rendered[e.key], simple[e.key], labels[e.key] = (name, ATOM), True, name
            else:
                rendered[e.key], simple[e.key] = (text, e.prec), e.view and flag[0]
                labels[e.key] = self._label(e, labels)

        results = []
        for r in roots:
            flag = [True]
            results.append(sub(PLACEHOLDER.match(Arg(self, r, None).at(0)), flag))
        return self._assemble(lines, results)

    def _label(self, e: _Entity, labels: dict) -> str | None:
        """A name for e from its hint and its arguments' names: XW1, tanh_Z1, WT."""
        if e.node is None or e.hint is None:
            return None
        arg_labels = []
        for a in e.node.args:
            k = self.key_of.get(a)
            lab = labels.get(self.resolve(k).key) if k is not None else None
            arg_labels.append(lab)
        try:
            text = e.hint.format(*arg_labels)
        except (IndexError, KeyError):
            return None
        if "None" in text or len(text) > 16 or not text:
            return e.node.op.name
        return _sanitize(text)

    def _let_name(self, hint: str, e: _Entity, labels: dict) -> str:
        """A temporary's name: its hint, "{0}" being the name of the first value it uses."""
        first = PLACEHOLDER.search(e.text)
        lab = labels.get(self.resolve(int(first.group(1))).key) if first else None
        text = hint.format(lab) if lab and len(lab) <= 16 else hint.replace("_{0}", "")
        return _sanitize(text.replace("{0}", "")) or "t"

    def _output_names(self, roots: list[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        for i, r in enumerate(roots):
            if r in out or self.ents[r].kind in ("param", "literal"):
                continue
            if self.names is not None:
                out[r] = self.names[i]
            elif self.ents[r].line and self.ents[r].hint:  # a user-named value: its name
                out[r] = self.ents[r].hint
            else:
                out[r] = "out" if len(self.exprs) == 1 else f"out{i}"
        return out

    # ---- the function ------------------------------------------------------------------------
    def _prologue(self, body: list[str]) -> list[str]:
        """Sizes bound from the arguments' shapes, then asserts on the shapes not unpacked."""
        lines: list[str] = []
        checks: list[str] = []
        bound: set = set()
        for a, p in zip(self.args, self.param_names):
            shape = a.params[1]
            new: dict = {}  # unbound plain sizes of this argument -> their first axis
            for i, s in enumerate(shape):
                if isinstance(s, sympy.Symbol) and s not in bound:
                    new.setdefault(s, i)
            if len(shape) > 1 and len(new) == len(shape):  # n, m = W.shape: shape checked
                lines.append(f"{', '.join(self.size_names[s] for s in new)} = {p}.shape")
            else:
                lines += [f"{self.size_names[s]} = {p}.shape[{i}]" for s, i in new.items()]
                want = self.B.shape(shape)
                if shape == ():
                    checks.append(f'assert {p}.ndim == 0, f"{p} must be a scalar, got shape '
                                  f'{{{p}.shape}}"')
                else:
                    checks.append(f'assert {p}.shape == {want}, '
                                  f'f"{p} has shape {{{p}.shape}}, expected {want} = {{{want}}}"')
            bound |= set(new)
        unbound = {s for s in self.sizes_used if s not in bound}
        if unbound:
            raise SymgradError(
                f"size{'s' if len(unbound) > 1 else ''} "
                f"{', '.join(sorted(map(str, unbound)))} not fixed by any argument's shape; "
                "add an argument that has it as an axis"
            )
        lines += checks
        if self.dtype_name is not None and re.search(rf"\b{self.dtype_name}\b", "\n".join(body)):
            arrays = [p for a, p in zip(self.args, self.param_names) if a.params[1]]
            src = arrays[0] if arrays else (self.param_names[0] if self.param_names else None)
            dt = f"{src}.dtype" if src else self.backend.default_dtype
            lines.append(f"{self.dtype_name} = {dt}")
        return lines

    def _docstring(self, results: list[str]) -> list[str]:
        doc = ["Generated by symgrad (straight-line code; needs nothing from symgrad).", "",
               "Returns:"]
        for res, e in zip(results, self.exprs):
            doc.append(f"    {res} = {_clip(str(e))}")
        named = [n for n in topo(self.exprs) if n.op is core.NAME]
        if named:
            doc += ["", "where:"]
            doc += [f"    {_sanitize(n.params[0])} = {_clip(str(n.args[0]))}" for n in named]
        doc += ["", "Arguments (shape): " + ", ".join(
            f"{p} {_fmt_shape(a.params[1])}" for a, p in zip(self.args, self.param_names))]
        text = "\n    ".join(d.replace("\\", "\\\\").replace('"""', r"\"\"\"") for d in doc)
        return [f'"""{text.rstrip()}\n    """']

    def _assemble(self, body: list[str], results: list[str]) -> str:
        prologue = self._prologue(body + results)
        doc = self._docstring(results)
        ret = results[0] if self.single else ", ".join(results) + ("," if len(results) == 1
                                                                    else "")
        fn = [f"def {self.fname}({', '.join(self.param_names)}):"]
        fn += ["    " + ln for ln in doc + prologue + body + [f"return {ret}"]]
        src = "\n".join(fn)
        imports = [line for prefix, line in self.backend.imports
                   if re.search(rf"(?<![\w.]){re.escape(prefix)}", src)]
        if re.search(r"(?<![\w.])math\.", src):
            imports.append("import math")
        return "\n".join(sorted(imports)) + "\n\n\n" + src + "\n"


_BUILTINS = frozenset(dir(builtins))


def _sanitize(name: str) -> str:
    name = re.sub(r"^([A-Za-z]+)_(\d+)$", r"\1\2", name)  # the variable W_1 is W1 in code
    s = re.sub(r"\W", "_", name.replace("/", "_"))
    s = re.sub(r"_+", "_", s).strip("_") or "x"
    if s[0].isdigit():
        s = "_" + s
    return s + "_" if keyword.iskeyword(s) else s


def _clip(s: str, limit: int = 240) -> str:
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _fmt_shape(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
