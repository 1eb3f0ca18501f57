"""`parse(latex, shapes)`: LaTeX matrix expressions to symgrad nodes.

tokens.py scans, grammar.lark (LALR, so parsing is linear and never backtracks) gives the
structure, build.py gives it meaning from the declared shapes. Every failure is a
SymgradError: LatexSyntaxError (with column and caret), UnknownSymbolError (all of them, and
how to declare a shape), ShapeError (naming the operands), AmbiguousInputError.
"""

from __future__ import annotations

import functools
import pathlib

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput
from lark.lexer import Lexer

from ..errors import LatexSyntaxError, SymgradError
from ..node import Node
from ..shapes import as_shape
from .build import Builder, conform
from .declare import DOTS, ShapesArg, declarations, key_of
from .tokens import syntax_error, tokenize
from .tree import A, Result, Statement, _TooDeep

__all__ = ["parse", "parse_document"]


class _Tokens(Lexer):
    """lark's hook for a lexer: the token list made by tokens.tokenize is passed through."""

    def __init__(self, lexer_conf) -> None:
        pass

    def lex(self, data):
        return iter(data)


class _ToAst(Transformer):
    """Callbacks run by the LALR parser at each reduction: no tree, no recursion."""

    def start(self, c):
        return [x for x in c if isinstance(x, Statement)]

    def expr_stmt(self, c):
        return Statement("expr", c[0])

    def equation(self, c):
        return Statement("eq", c[2], c[0])

    def decl_scalar(self, c):
        return Statement("decl", A("dims", c[0].pos), c[0])

    def decl(self, c):
        return Statement("decl", A("dims", c[0].pos, *c[4]), c[0])

    def dims(self, c):  # a \cdot between sizes is kept: the builder asks what it means
        return [x for x in c if type(x) is str or (x.type == "CDOT" and x.value in DOTS)]

    def dims_single(self, c):
        return [str(c[0])]

    def size(self, c):
        return str(" + ".join(c))

    def size_term(self, c):
        return str(" ".join(t.value for t in c))

    def _chain(self, kind, c):
        if len(c) == 1:
            return c[0]
        return A(kind, c[0].pos, c[0], [(c[i], c[i + 1]) for i in range(1, len(c), 2)])

    def expr(self, c):
        return self._chain("sum", c)

    def had(self, c):
        return self._chain("had", c)

    def addop(self, c):
        return c[0]

    hadop = mulop = addop

    def neg(self, c):
        return A("neg", c[0].start_pos, c[1])

    def pos(self, c):
        return c[1]

    def signed(self, c):
        return c[0]

    primary = signed

    def product(self, c):
        factors, ops, op = [], [], None
        for x in c:
            if isinstance(x, Token):
                op = x
                continue
            if factors:
                ops.append(op)
            factors.append(x)
            op = None
        if len(factors) == 1:
            return factors[0]
        return A("prod", factors[0].pos, factors, ops)

    def factor(self, c):
        if len(c) == 1:
            return c[0]
        return A("post", c[0].pos, c[0], c[1:])

    def transpose(self, c):
        return A("T", c[0].start_pos)

    def inverse(self, c):
        return A("inv", c[0].start_pos)

    def inverse_transpose(self, c):
        return A("invT", c[0].start_pos)

    def power(self, c):
        return A("pow", c[0].start_pos, c[1])

    def hpower(self, c):
        return A("hpow", c[0].start_pos, c[1])

    def exponent(self, c):
        return c[1]

    def exp_atom(self, c):
        t = c[0]
        if t.type == "NUMBER":
            return A("num", t.start_pos, t.value)
        return A("name", t.start_pos, t.value, None, t.type)

    def paren(self, c):
        return A("paren", c[0].start_pos, c[1])

    def paren_sub(self, c):  # (W^T)_{jk} or \left[ e_{ij} \right]_{ij}: index notation
        return A("paren_sub", c[0].start_pos, c[1], c[3].value, c[3].start_pos)

    def isum(self, c):
        return A("isum", c[0].start_pos, c[0].value, c[1])

    def group(self, c):
        return A("group", c[0].start_pos, c[1])

    def name_ref(self, c):
        return c[0]

    def name(self, c):
        t = c[0]
        return A("name", t.start_pos, t.value, c[1].value if len(c) > 1 else None, t.type)

    def number(self, c):
        return A("num", c[0].start_pos, c[0].value)

    def ones(self, c):
        return A("ones", c[0].start_pos, c[1].value if len(c) > 1 else None)

    def zeros(self, c):
        return A("zeros", c[0].start_pos, c[1].value if len(c) > 1 else None)

    def norm(self, c):
        return A("norm", c[0].start_pos, c[1], c[3].value if len(c) > 3 else None)

    def bars(self, c):
        return A("bars", c[0].start_pos, c[1])

    def frac(self, c):
        return A("frac", c[0].start_pos, c[2], c[5])

    def upstream(self, c):
        return A("upstream", c[0].start_pos, c[3], c[7])

    def sqrt(self, c):
        return A("sqrt", c[0].start_pos, c[2])

    def call_paren(self, c):
        sub = c[1].value if c[1].type == "SUB" else None
        return A("call", c[0].start_pos, c[0].value, sub, c[-2], True)

    def call_bare(self, c):
        sub = c[1].value if len(c) > 2 else None
        return A("call", c[0].start_pos, c[0].value, sub, c[-1], False)

    funcarg = product
    argfirst = argfactor = factor


@functools.cache
def _parser() -> Lark:
    grammar = (pathlib.Path(__file__).parent / "grammar.lark").read_text()
    return Lark(grammar, parser="lalr", lexer=_Tokens, transformer=_ToAst(),
                maybe_placeholders=False)


_TOKEN_NAMES = {
    "$END": "the end of the input", "RPAR": "')'", "RBRACE": "'}'", "RNORM": r"'\|'",
    "RBAR": "'|'", "LPAR": "'('", "LBRACE": "'{'", "SUB": "a subscript", "EQ": "'='",
    "SEP": "a separator", "NUMBER": "a number", "LETTER": "a letter", "CARET": "'^'",
    "PLUS": "'+'", "MINUS": "'-'", "FUNC": "a function", "GREEK": "a Greek letter",
}


def _describe(tok: Token) -> str:
    if tok.type == "$END":
        return "end of input"
    return repr(str(tok.value)) if tok.value else tok.type


def statements(text: str) -> list[Statement]:
    """Tokenize and parse: the statements of the input, each with its parse tree."""
    if not isinstance(text, str):
        raise SymgradError(f"parse() takes a LaTeX string, not {type(text).__name__}")
    toks = tokenize(text)
    if not toks:
        raise LatexSyntaxError("the input is empty", text, 1)
    try:
        return _parser().parse(toks)
    except _TooDeep as exc:
        raise syntax_error("the expression is nested too deeply", text, exc.pos) from None
    except UnexpectedInput as exc:
        tok = getattr(exc, "token", None)
        pos = tok.start_pos if tok is not None and tok.start_pos is not None else len(text)
        if tok is not None and tok.type == "$END":
            pos = len(text)
        expected = sorted(getattr(exc, "expected", None) or ())
        hint = ""
        closers = [_TOKEN_NAMES[e] for e in expected if e in ("RPAR", "RBRACE", "RNORM", "RBAR")]
        if closers and (tok is None or tok.type == "$END"):
            hint = f"; {' or '.join(closers)} is missing"
        what = _describe(tok) if tok is not None else "input"
        raise syntax_error(f"unexpected {what}{hint}", text, pos) from None


def parse_document(text: str, shapes: ShapesArg = None,
                   upstream: dict[str, Node] | None = None, shape=None) -> Result:
    """Parse with everything the input says: the expression, its label (f in `f = ...`),
    the variable of a derivative label (b in `\\frac{\\partial L}{\\partial b} = ...`), and
    the declarations (given and in the text). `upstream` maps names of f to dL/df; `shape`
    (the result's) sizes the indices an array of entries only lists ([1]_{ij})."""
    stmts = statements(text)
    decls = declarations(shapes)
    ups = {key_of(k): v for k, v in (upstream or {}).items()}
    b = Builder(text, decls, ups)
    b.shape_hint = None if shape is None else as_shape(shape)
    return b.document(stmts)


def parse(latex: str, shapes: ShapesArg = None, *, shape=None) -> Node:
    """A LaTeX matrix expression as a symgrad expression.

    `shapes` declares the variables: a dict (`{"W": ("n", "m"), "b": ("n", 1), "x": ("n",)}`),
    a string (`"W: n×m, b: n×1"`), or a list of variables; declarations may also be written
    in the LaTeX (`W X + b, \\quad W \\in \\mathbb{R}^{n \\times m}, ...`). `f = ...` returns the
    expression named f; `\\frac{\\partial L}{\\partial f}` is the upstream gradient of f.

    Juxtaposition is the matrix product between non-scalars and the scalar product otherwise;
    `\\mathbf{1}_n` is the 1-D ones vector (see symgrad/latex_in/build.py for the conventions
    that make `parse(latex(e))` give back `e`). Index notation for tensors (`\\left[ Z_{ijl} +
    A_{jl} \\right]_{ijl}`, `\\sum_{l}`, `\\delta_{jk}`, per-slice `\\sum_{i} X_{i}^\\top G_{i}`)
    reads as symgrad prints it (indices.py). `shape`, when given, settles what the notation
    cannot: whether `G \\mathbf{1}_k` is `(n,)` or the column `(n, 1)`, and the size of an index
    only the result's bracket lists (`\\left[ A_{jl} \\right]_{ijl}`).
    """
    expr = parse_document(latex, shapes, shape=shape).expr
    if shape is not None:
        expr = conform(expr, as_shape(shape))
    return expr
