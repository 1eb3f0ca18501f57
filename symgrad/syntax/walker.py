"""Python expression syntax, read with `ast` and walked over a whitelist of node types.

Nothing is evaluated: each allowed node calls one method of an algebra (symgrad nodes, or
abstract shapes for inference), everything else is refused with its column. Statements are
`name = expr` definitions and a last expression (or definition), the objective.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InputSyntaxError, SymgradError
from ..latex_in.tokens import caret_message
from .algebra import FUNCTIONS

MAX_CHARS = 10_000
MAX_DEPTH = 100
MODULES = {"sg", "symgrad", "np", "numpy", "np.linalg", "numpy.linalg", "linalg"}
KEYWORDS = {"axis", "keepdims"}
BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div",
          ast.MatMult: "matmul", ast.Pow: "pow", ast.BitXor: "xor"}
WHAT = {ast.Compare: "a comparison", ast.Lambda: "a lambda", ast.Subscript: "indexing",
        ast.Constant: "a constant", ast.BoolOp: "and/or", ast.IfExp: "if/else",
        ast.List: "a list", ast.Tuple: "a tuple", ast.Dict: "a dict", ast.Starred: "*args"}


@dataclass
class Source:
    """The user's text, the Python text parsed, and where each Python character came from."""

    text: str
    python: str
    where: list[int] | None = None  # None: the same text

    def pos(self, node: ast.AST | None) -> int:
        if node is None or not hasattr(node, "lineno"):
            return 0
        lines = self.python.split("\n")
        start = sum(len(line) + 1 for line in lines[: node.lineno - 1])
        raw = lines[node.lineno - 1].encode()[: node.col_offset]
        return self.original(start + len(raw.decode(errors="ignore")))

    def original(self, i: int) -> int:
        i = max(0, min(i, len(self.python)))
        return self.where[i] if self.where is not None else i

    def error(self, message: str, pos: int, cls=InputSyntaxError) -> SymgradError:
        col = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        exc = cls(caret_message(f"{message} (column {col})", self.text, pos))
        exc.text, exc.column = self.text, col
        return exc


def parse_python(src: Source) -> ast.Module:
    """`ast.parse` with its SyntaxError turned into a symgrad error at the same column."""
    if len(src.text) > MAX_CHARS:
        raise SymgradError(f"the input is longer than {MAX_CHARS} characters")
    if not src.text.strip():
        raise src.error("the input is empty", 0)
    try:
        return ast.parse(src.python, mode="exec")
    except SyntaxError as exc:
        lines = src.python.split("\n")
        line = min(max(exc.lineno or 1, 1), len(lines))
        start = sum(len(x) + 1 for x in lines[: line - 1])
        msg = (exc.msg or "invalid syntax").replace("invalid syntax. Perhaps", "perhaps")
        raise src.error(msg, src.original(start + max((exc.offset or 1) - 1, 0))) from None
    except (ValueError, RecursionError, MemoryError):
        raise src.error("the input is nested too deeply for Python's parser", 0) from None


class Walker:
    """Walks a parsed module, calling the algebra `alg` for each node."""

    def __init__(self, src: Source, alg) -> None:
        self.src, self.alg = src, alg
        self.env: dict[str, object] = {}

    def run(self, module: ast.Module) -> tuple[object, str | None]:
        """The objective's value and its label (`f` in `f = ...`), or None."""
        if not module.body:
            raise self.src.error("the input is empty", 0)
        value, label = None, None
        for stmt in module.body:
            if isinstance(stmt, ast.Expr):
                value, label = self.expr(stmt.value, 0), None
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                    and isinstance(stmt.targets[0], ast.Name):
                label = stmt.targets[0].id
                v = self.expr(stmt.value, 0)
                value = self.at(stmt, lambda v=v, label=label: self.alg.define(label, v))
                self.env[label] = value
            else:
                raise self.src.error("only expressions and 'name = expression' are allowed",
                                     self.src.pos(stmt))
        return value, label

    def at(self, node: ast.AST, make: Callable[[], object]) -> object:
        """make(), with the node's column added to a symgrad error that has none."""
        try:
            return make()
        except SymgradError as exc:
            if getattr(exc, "column", None) is not None:
                raise
            pos = self.src.pos(node)
            raise self.src.error(str(exc), pos, type(exc)) from None

    def expr(self, node: ast.AST, depth: int) -> object:
        if depth > MAX_DEPTH:
            raise self.src.error("the expression is nested too deeply", self.src.pos(node))
        d = depth + 1
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return self.alg.num(node.value)
        if isinstance(node, ast.Name):
            if node.id in self.env:
                return self.env[node.id]
            return self.at(node, lambda: self.alg.var(node.id))
        if isinstance(node, ast.BinOp) and type(node.op) in BINOPS:
            chain = [node]  # a + b + c nests to the left: walked as a loop, not recursively
            while isinstance(chain[-1].left, ast.BinOp) and type(chain[-1].left.op) in BINOPS:
                chain.append(chain[-1].left)
            acc = self.expr(chain[-1].left, d)
            for link in reversed(chain):
                b, op = self.expr(link.right, d), BINOPS[type(link.op)]
                acc = self.at(link.right if op != "matmul" else link,
                              lambda a=acc, b=b, op=op: self.alg.binary(op, a, b))
            return acc
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            a = self.expr(node.operand, d)
            return self.at(node, lambda: self.alg.neg(a)) if isinstance(node.op, ast.USub) \
                else a
        if isinstance(node, ast.Attribute) and node.attr == "T":
            a = self.expr(node.value, d)
            return self.at(node, lambda: self.alg.transpose(a))
        if isinstance(node, ast.Call):
            return self.call(node, d)
        what = WHAT.get(type(node), f"'{type(node).__name__}'")
        if isinstance(node, ast.Attribute):
            what = f"the attribute .{node.attr} (only .T is allowed)"
        raise self.src.error(f"{what} is not allowed here", self.src.pos(node))

    def call(self, node: ast.Call, depth: int) -> object:
        fname = _dotted(node.func)
        module, _, base = fname.rpartition(".") if fname else ("", "", "")
        if not base or (module and module not in MODULES) or base not in FUNCTIONS:
            raise self.src.error(f"{fname or 'this'}() cannot be called; the functions are "
                                 f"{', '.join(FUNCTIONS)}", self.src.pos(node.func))
        args = [self.expr(a, depth) for a in node.args]
        kw = {}
        for k in node.keywords:
            if k.arg not in KEYWORDS:
                raise self.src.error(f"the keyword {k.arg}= is not allowed (only axis=, "
                                     "keepdims=)", self.src.pos(k.value))
            kw[k.arg] = _literal(k.value, self.src)
        return self.at(node, lambda: self.alg.call(base, args, kw))


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _literal(node: ast.AST, src: Source):
    """An axis or keepdims value: an int, a tuple of ints, None, True or False."""
    ok = (isinstance(node, ast.Constant) and (node.value is None or type(node.value) in (int, bool))
          ) or (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
                and isinstance(node.operand, ast.Constant) and type(node.operand.value) is int) \
        or (isinstance(node, ast.Tuple) and all(isinstance(e, ast.Constant)
                                                and type(e.value) is int for e in node.elts))
    if not ok:
        raise src.error("axis= and keepdims= take an int, a tuple of ints, None, True or False",
                        src.pos(node))
    return ast.literal_eval(node)  # a literal checked above: never evaluates code
