"""The LaTeX tokenizer: one pass over the input, producing lark Tokens for grammar.lark.

Hand-written rather than lark's regex lexer because LaTeX needs context the grammar cannot
carry cheaply: `|` and `\\|` open or close depending on what is open, `^T` and `^{-1}` are
single postfix tokens, `^2` takes one character, `\\mathbf{1}` is the ones vector while
`\\mathbf{W}` is just W, and `\\sigma(` is the sigmoid while a lone `\\sigma` is a name.
"""

from __future__ import annotations

import re

from lark import Token

from ..errors import LatexSyntaxError
from ..names import GREEK
from ..op import REGISTRY

# Longer input is refused. Parsing is linear (about 1 s per 30,000 characters), and symgrad's
# own unsimplified Hessians print to 100,000 characters and more, which must parse back. The
# web server bounds untrusted input far below this (web/server.py: MAX_BODY bytes a request).
MAX_CHARS = 1_000_000
MAX_NESTING = 60  # brackets, braces and bars open at once

GREEK_NAMES = GREEK | {"ell", "varsigma", "varrho", "varpi", "digamma"}

# LaTeX's own operator commands (\log, \det ...): a function word the registry spells is also
# read as such a command. A fact about LaTeX, not about symgrad's ops.
LATEX_OPERATOR_COMMANDS = {"exp", "log", "ln", "lg", "tanh", "sinh", "cosh", "coth", "sin", "cos",
                           "tan", "cot", "sec", "csc", "det", "dim", "ker", "arg", "deg", "gcd"}


def function_words() -> dict[str, str]:
    """Every spelling of a function (Op.spelling.words) -> the op's name. Read from the registry
    at call time, so an op declared later (sg.elementwise) is read too."""
    out: dict[str, str] = {}
    for op in REGISTRY.values():
        if op.spelling is not None:
            for w in (op.name, *op.spelling.words):
                out.setdefault(w, op.name)
    return out


CONNECTIVES = {"where", "with", "and", "for", "if", "s.t.", "given"}

UNSUPPORTED = {
    "sum": r"a sum needs its index: \sum_{i} x_{i} (or ones vectors: \mathbf{1}^\top X "
           r"\mathbf{1})",
    "prod": "products over an index are not supported",
    "int": "integrals are not supported",
    "nabla": r"write gradients as \frac{\partial L}{\partial f}",
    "max": "max is not supported (use relu for max(0, x))",
    "min": "min is not supported",
    "lim": "limits are not supported",
    "cosh": "cosh is not built in; define it with sg.elementwise",
    "sinh": "sinh is not built in; define it with sg.elementwise",
    "tan": "tan is not built in; define it with sg.elementwise",
    "arctan": "arctan is not built in; define it with sg.elementwise",
    "operatorname*": "",
}

SPACING = {",", ";", ":", "!", ">", " ", "displaystyle", "textstyle", "scriptstyle", "limits",
           "nolimits", "strut", "mathstrut", "enspace", "thinspace", "medspace", "thickspace",
           "negthinspace", "hfill", "nonumber", "notag"}
STYLES = {"mathbf", "bm", "boldsymbol", "mathbb", "mathit", "mathsf", "mathcal", "vec",
          "mathrm", "operatorname", "text", "textrm", "textup", "textit", "textbf", "mathnormal",
          "pmb", "mathscr", "mathfrak", "bold"}
WORD_STYLES = {"operatorname", "mathrm", "text", "textrm", "textup", "textit", "mathit",
               "mathsf", "textbf", "mathnormal"}
NAME_STYLES = {"mathit", "mathnormal"}  # a word in these is a variable, never a function
SIZING = re.compile(r"\\(?:left|right|[bB]igg?[lrm]?)(?![A-Za-z])\s*")
OPEN_DELIMS = {"(": "(", "[": "(", "\\{": "(", "\\langle": "("}
CLOSE_DELIMS = {")": ")", "]": ")", "\\}": ")", "\\rangle": ")"}

_CMD = re.compile(r"\\([A-Za-z]+\*?|.)", re.S)
_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+")
_SPACE = re.compile(r"\s+")
_TEE = r"(?:T|\\top|\\intercal|\\mathsf\s*\{\s*T\s*\}|\\mathrm\s*\{\s*T\s*\}|\\text\s*\{\s*T\s*\}" \
       r"|\\mathsf\s*T|\\mathrm\s*T|\\textsf\s*\{\s*T\s*\})"
_SUP_SPECIAL = re.compile(
    r"\^\s*(?:\{\s*(?P<g>(?:-\s*)?" + _TEE + r"|-\s*1|\\top\s*\\top)\s*\}|(?P<s>" + _TEE + r"))"
)
_ONES = re.compile(r"\\(?:mathbf|bm|boldsymbol|mathbb|pmb|bold)\s*(?:\{\s*([01])\s*\}|([01]))")
_WORD = re.compile(r"\\(operatorname\*?|mathrm|text|textrm|textup|textit|mathit|mathsf|textbf"
                   r"|mathnormal)\s*\{\s*([^{}\\]*?)\s*\}")
_STYLED_NAME = re.compile(r"\s*\{\s*([A-Za-z]|\\[A-Za-z]+)\s*\}")
_ONE_AS_VECTOR = re.compile(r"\s*(?:_|\^\s*(?:\{\s*)?" + _TEE + ")")
# \sum_{i j} or \sum_{i=1}^{B} (an index sum; indices.py reads it)
_SUM = re.compile(r"\\sum(?![A-Za-z])(?:\s|\\(?:no)?limits(?![A-Za-z]))*"
                  r"_\s*(?:\{((?:[^{}]|\{[^{}]*\})*)\}|([A-Za-z]))(?:\s*\^\s*(?:\{([^{}]*)\}|([A-Za-z0-9])))?")
_INDEX_FORMULA = re.compile(r"\\lfloor|\\bmod|\(\w - 1\)")
_REALS = re.compile(r"\\mathbb\s*(?:\{\s*R\s*\}|R)|ℝ")
# The plain-text (Unicode) index notation str() prints: Σ_kl (∑_kl) sums over k and l, X[k,i,j]
# an entry, [e]_(i,j) the array of entries, t^(2) a power. Entries in brackets are read only in
# text without LaTeX commands, where [ ] after a name cannot be a product with a bracket.
_USUM = re.compile(r"[Σ∑]_([A-Za-z0-9]+)(?=\s)")
_UENTRY = re.compile(r"\[\s*(\w+\s*(?:,\s*\w+\s*)*)\]", re.ASCII)
_UINDEXED = re.compile(r"[\w)\]ᵀ]")
_UFUNC = re.compile(r"([A-Za-z]+)\(")
_UPARTIAL = re.compile(r"∂([A-Za-z])/∂([A-Za-z][A-Za-z0-9]*)")
_USUB = dict(zip("₀₁₂₃₄₅₆₇₈₉ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥ", "0123456789aeoxhklmnpstijruv"))
_USUP = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789"))
_UNICODE = {"ᵀ": "TRANSPOSE", "⊙": "ODOT", "∘": "ODOT", "⊘": "OSLASH", "⊗": "OTIMES", "·": "CDOT",
            "×": "CDOT", "⊕": "OPLUS", "⊖": "OMINUS", "∂": "PARTIAL", "−": "MINUS", "∈": "IN"}


def caret_message(message: str, text: str, pos: int) -> str:
    """The message, then the input line around `pos` and a caret under it."""
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start: len(text) if line_end < 0 else line_end]
    col = pos - line_start
    lo = max(0, col - 50)
    shown = line[lo: col + 30]
    prefix = "…" if lo > 0 else ""
    suffix = "…" if col + 30 < len(line) else ""
    pad = " " * (len(prefix) + col - lo)
    return f"{message}\n  {prefix}{shown}{suffix}\n  {pad}^"


def syntax_error(message: str, text: str, pos: int) -> LatexSyntaxError:
    pos = max(0, min(pos, len(text)))
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return LatexSyntaxError(caret_message(f"{message} (column {col})", text, pos), text, col)


def _group(text: str, i: int) -> tuple[str, int]:
    """The content of the balanced {...} starting at text[i] == '{', and the index after it."""
    depth = 0
    j = i
    while j < len(text):
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1: j], j + 1
        j += 1
    raise syntax_error("unbalanced '{'", text, i)


_SUB_WRAP = re.compile(r"\\(?:text|mathrm|mathit|textrm|textup|mathbf|mathsf|operatorname|bm"
                       r"|boldsymbol)\s*\{([^{}]*)\}")


def normalize_sub(raw: str) -> str:
    """Subscript text without style wrappers or spacing: `\\text{out}` -> `out`."""
    s = _SUB_WRAP.sub(r"\1", raw)
    s = re.sub(r"\\[,;:! ]", " ", s)
    return " ".join(s.split())


class Tokenizer:
    """Turns LaTeX into tokens; bars are resolved by what is open when they appear."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.out: list[Token] = []
        self.stack: list[str] = []  # open delimiters: "(", "{", "|", "‖"
        self.functions = function_words()
        self.plain = "\\" not in text  # plain text (str()'s notation), no LaTeX commands

    # ---- emitting ----------------------------------------------------------------------
    def emit(self, kind: str, value: str, pos: int) -> None:
        if kind == "SEP" and (not self.out or self.out[-1].type == "SEP"):
            return  # separators collapse; a leading one is dropped
        self.out.append(Token(kind, value, start_pos=pos, line=1, column=pos + 1))

    def open(self, kind: str, token: str, value: str, pos: int) -> None:
        self.stack.append(kind)
        if len(self.stack) > MAX_NESTING:
            raise syntax_error(f"brackets nested more than {MAX_NESTING} deep", self.text, pos)
        self.emit(token, value, pos)

    def close(self, kind: str, token: str, value: str, pos: int) -> None:
        if self.stack and self.stack[-1] == kind:
            self.stack.pop()
        self.emit(token, value, pos)

    def bar(self, kind: str, pos: int, value: str) -> None:
        """A bar that both opens and closes: it closes when the innermost open thing is one."""
        tokens = {"|": ("LBAR", "RBAR"), "‖": ("LNORM", "RNORM")}[kind]
        if self.stack and self.stack[-1] == kind:
            self.close(kind, tokens[1], value, pos)
        else:
            self.open(kind, tokens[0], value, pos)

    # ---- the scan ----------------------------------------------------------------------
    def run(self) -> list[Token]:
        text = self.text
        i = 0
        n = len(text)
        while i < n:
            c = text[i]
            if c.isspace():
                i = _SPACE.match(text, i).end()
                continue
            if c.isascii() and c.isalpha():
                m = _UFUNC.match(text, i) if self.plain else None
                if m and m.group(1) in self.functions:  # tanh(x) in plain text, as str()
                    self.emit("FUNC", self.functions[m.group(1)], i)
                    i = m.end(1)
                    continue
                self.emit("LETTER", c, i)
                i += 1
                continue
            if (c.isascii() and c.isdigit()) or (c == "." and text[i + 1: i + 2].isdigit()
                                                  and text[i + 1].isascii()):
                m = _NUMBER.match(text, i)
                # 1^\top and 1_n are the ones vector, as \mathbf{1}^\top: never the number 1
                one = m.group() == "1" and (_ONE_AS_VECTOR.match(text, m.end()) or text[
                    m.end(): m.end() + 1] in _USUB) and not (
                    text[i - 1: i].isascii() and text[i - 1: i].isalpha())  # W1^\top is W_1
                self.emit("ONES" if one else "NUMBER", m.group(), i)
                i = m.end()
                continue
            if c == "\\":
                i = self.command(i)
                continue
            i = self.symbol(c, i)
        if self.out and self.out[-1].type == "SEP":
            self.out.pop()
        return self.out

    def symbol(self, c: str, i: int) -> int:
        m = _USUM.match(self.text, i) if c in "Σ∑" else None
        if m:
            self.emit("SUMOP", m.group(1), i)
            return m.end()
        if c == "[" and i and _UINDEXED.match(self.text[i - 1]) and self.plain:
            m = _UENTRY.match(self.text, i)
            if m:
                if len(self.out) > 1 and self.out[-1].type == "SUB":  # T₂[i,j]: (T_{2})_{ij}
                    at = self.out[-2].start_pos
                    self.out.insert(len(self.out) - 2, Token("LPAR", "(", start_pos=at, line=1,
                                                             column=at + 1))
                    self.emit("RPAR", ")", i)
                self.emit("SUB", normalize_sub(m.group(1)), i)
                return m.end()
        m = _UPARTIAL.match(self.text, i) if c == "∂" and self.plain else None
        if m:  # ∂L/∂f, as str() prints the upstream: \frac{\partial L}{\partial f}
            self.emit("FRAC", m.group(), i)
            for k in (1, 2):
                name = m.group(k)
                self.emit("LBRACE", "{", m.start(k) - 1)
                self.emit("PARTIAL", "∂", m.start(k) - 1)
                self.emit("LETTER" if len(name) == 1 else "WORD", name, m.start(k))
                self.emit("RBRACE", "}", m.end(k))
            return m.end()
        if c in _USUB:  # T₂, xᵢ, 1ₙ: Unicode subscripts are _{2}, _{i}, _{n}
            j = i
            while j < len(self.text) and self.text[j] in _USUB:
                j += 1
            self.emit("SUB", "".join(_USUB[ch] for ch in self.text[i:j]), i)
            return j
        if c == "⁻" and self.text[i + 1: i + 2] == "¹":  # X⁻¹
            self.emit("INVERSE", "⁻¹", i)
            return i + 2
        if c in _USUP or (c == "∘" and self.text[i + 1: i + 2] in _USUP):  # X², X∘² (X^{\circ 2})
            j = i + 1
            while j < len(self.text) and self.text[j] in _USUP:
                j += 1
            power = "".join(_USUP[ch] for ch in self.text[i + (c == "∘"): j])
            if c == "∘":
                self.open("{", "HPOW", c, i)
                self.emit("NUMBER", power, i + 1)
                self.close("{", "RBRACE", c, j)
            else:
                self.emit("CARET", c, i)
                self.emit("NUMBER", power, i)
            return j
        if c == "∑":
            raise syntax_error("a sum needs its indices: ∑_k x[k] (Σ_k, \\sum_{k})", self.text, i)
        if c == ")" and self.stack and self.stack[-1] == "^(":
            self.close("^(", "RBRACE", c, i)
            return i + 1
        if c in _SIMPLE:
            kind = _SIMPLE[c]
            if kind == "PRIME":
                self.emit("TRANSPOSE", "'", i)
            else:
                self.emit(kind, c, i)
            return i + 1
        if c in "([":
            self.open("(", "LPAR", c, i)
            return i + 1
        if c in ")]":
            self.close("(", "RPAR", c, i)
            return i + 1
        if c == "{":
            self.open("{", "LBRACE", c, i)
            return i + 1
        if c == "}":
            self.close("{", "RBRACE", c, i)
            return i + 1
        if c == "|":
            self.bar("|", i, c)
            return i + 1
        if c == "‖":
            self.bar("‖", i, c)
            return i + 1
        if c == "^":
            return self.superscript(i)
        if c == "_":
            return self.subscript(i)
        if c == "&":
            return i + 1  # alignment marks of align environments
        if c == "~":
            return i + 1
        if c == "." and i == len(self.text.rstrip()) - 1:
            return i + 1  # a sentence's closing period
        if c in _UNICODE:
            self.emit(_UNICODE[c], c, i)
            return i + 1
        if c == "ℝ":
            self.emit("REALS", c, i)
            return i + 1
        if c == "σ" and self.plain and self.text[i + 1: i + 2] == "(":
            self.emit("FUNC", "sigmoid", i)
            return i + 1
        if c in _GREEK_BY_CHAR:
            self.emit("GREEK", _GREEK_BY_CHAR[c], i)
            return i + 1
        raise syntax_error(f"unexpected character {c!r}", self.text, i)

    def superscript(self, i: int) -> int:
        text = self.text
        m = _SUP_SPECIAL.match(text, i)
        if m:
            body = m.group("g") or m.group("s")
            if body.replace(" ", "") == "-1":
                self.emit("INVERSE", m.group(), i)
            elif body.lstrip().startswith("-"):
                self.emit("INVT", m.group(), i)
            elif "top" in body and body.count("top") == 2:
                pass  # x^{\top\top} is x
            else:
                self.emit("TRANSPOSE", m.group(), i)
            return m.end()
        j = _SPACE.match(text, i + 1).end() if i + 1 < len(text) and text[i + 1].isspace() \
            else i + 1
        m = _HPOW.match(text, j)
        if m:
            self.open("{", "HPOW", m.group(), i)
            return m.end()
        self.emit("CARET", "^", i)
        if text[j: j + 1] == "(":  # t^(2), as str() prints a power: the group of t^{2}
            self.open("^(", "LBRACE", "(", j)
            return j + 1
        return self.single(j)

    def single(self, j: int) -> int:
        """After ^ or _ without braces LaTeX takes one character (or one command)."""
        text = self.text
        if j >= len(text):
            return j
        c = text[j]
        if c.isascii() and c.isdigit():
            self.emit("NUMBER", c, j)
            return j + 1
        if c.isascii() and c.isalpha():
            self.emit("LETTER", c, j)
            return j + 1
        return j  # a group or a command: scanned as usual

    def subscript(self, i: int) -> int:
        text = self.text
        j = _SPACE.match(text, i + 1).end() if i + 1 < len(text) and text[i + 1].isspace() \
            else i + 1
        if j >= len(text):
            raise syntax_error("a subscript is missing after '_'", text, i)
        c = text[j]
        if c == "{":
            raw, end = _group(text, j)
        elif c == "\\":
            m = _WORD.match(text, j) or re.compile(r"\\[A-Za-z]+").match(text, j)
            if not m:
                raise syntax_error("unreadable subscript", text, j)
            raw, end = m.group(), m.end()
        elif c.isascii() and c.isalnum():
            raw, end = c, j + 1
        elif c == "(" and ")" in text[j:]:  # [e]_(i,j), as str() prints the indices
            end = text.index(")", j) + 1
            raw = text[j + 1: end - 1]
        else:
            raise syntax_error(f"unreadable subscript {c!r}", text, j)
        sub = normalize_sub(raw)
        if not sub:
            raise syntax_error("an empty subscript", text, i)
        if _INDEX_FORMULA.search(sub) and len(sub) <= 2000 and re.fullmatch(
                r"[\w\\ +\-{},()/]+", sub):
            pass  # a reshape's index formula: \lfloor (i - 1) / 3 \rfloor + 1 (indices.py)
        elif len(sub) > 40 or not re.fullmatch(r"[\w\\ +*\-{},×]+", sub):
            raise syntax_error(f"unreadable subscript {raw!r}", text, j)
        self.emit("SUB", sub, i)
        return end

    def command(self, i: int) -> int:
        text = self.text
        m = SIZING.match(text, i)
        if m:
            return self.sized_delimiter(m, i)
        m = _ONES.match(text, i)
        if m:
            self.emit("ONES" if (m.group(1) or m.group(2)) == "1" else "ZEROS", m.group(), i)
            return m.end()
        m = _SUM.match(text, i)
        if m:
            sub = normalize_sub(m.group(1) or m.group(2) or "")
            top = m.group(3) if m.group(3) is not None else m.group(4)
            self.emit("SUMOP", sub + ("" if top is None else "^" + normalize_sub(top)), i)
            return m.end()
        m = _REALS.match(text, i)
        if m:
            self.emit("REALS", m.group(), i)
            return m.end()
        m = _WORD.match(text, i)
        if m:
            return self.word(m.group(2), m, i)
        m = _CMD.match(text, i)
        if not m:
            raise syntax_error("a lone backslash", text, i)
        name = m.group(1)
        end = m.end()
        if name in SPACING:
            return end
        if name in ("quad", "qquad", "\\"):
            self.emit("SEP", name, i)
            return end
        if name == "|" or name == "Vert":
            self.bar("‖", i, m.group())
            return end
        if name == "vert":
            self.bar("|", i, m.group())
            return end
        fixed = {"lVert": ("LNORM", "‖"), "rVert": ("RNORM", "‖"), "lvert": ("LBAR", "|"),
                 "rvert": ("RBAR", "|")}
        if name in fixed:
            kind, delim = fixed[name]
            if kind.startswith("L"):
                self.open(delim, kind, m.group(), i)
            else:
                self.close(delim, kind, m.group(), i)
            return end
        if name in ("{", "langle"):
            self.open("(", "LPAR", m.group(), i)
            return end
        if name in ("}", "rangle"):
            self.close("(", "RPAR", m.group(), i)
            return end
        if name == "log":
            k = _SPACE.match(text, end).end() if end < len(text) and text[end].isspace() else end
            if text.startswith("\\det", k) and not text[k + 4: k + 5].isalpha():
                self.emit("FUNC", "logdet", i)
                return k + 4
        if name == "sigma" and self.followed_by_paren(end):
            self.emit("FUNC", "sigmoid", i)
            return end
        if name in LATEX_OPERATOR_COMMANDS and name in self.functions:
            self.emit("FUNC", self.functions[name], i)
            return end
        if name in GREEK_NAMES:
            self.emit("GREEK", name, i)
            return end
        table = {"frac": "FRAC", "dfrac": "FRAC", "tfrac": "FRAC", "sqrt": "SQRT",
                 "partial": "PARTIAL", "cdot": "CDOT", "times": "CDOT", "ast": "STAR",
                 "odot": "ODOT", "circ": "ODOT", "oslash": "OSLASH", "otimes": "OTIMES",
                 "oplus": "OPLUS",
                 "ominus": "OMINUS",
                 "in": "IN", "top": "TOPWORD", "intercal": "TOPWORD", "div": "SLASH"}
        if name in table:
            if name == "sqrt" and text[end:].lstrip().startswith("["):
                raise syntax_error(r"only square roots are supported (\sqrt{x})", text, i)
            kind = table[name]
            if kind == "TOPWORD":
                raise syntax_error(r"\top belongs in a superscript: X^{\top}", text, i)
            self.emit(kind, m.group(), i)
            return end
        if name in STYLES:
            # \mathbf{W} is W; a single name loses its braces so that \mathbf{W}_1 is W_1.
            m2 = _STYLED_NAME.match(text, end)
            if m2 and (len(m2.group(1)) == 1 or m2.group(1)[1:] in GREEK_NAMES):
                inner = m2.group(1)
                self.emit("LETTER" if len(inner) == 1 else "GREEK", inner.lstrip("\\"), i)
                return m2.end()
            return end  # other content: the braces group as usual
        if name in UNSUPPORTED:
            why = UNSUPPORTED[name]
            raise syntax_error(f"\\{name} is not supported" + (f": {why}" if why else ""),
                               text, i)
        raise syntax_error(f"unknown command \\{name}", text, i)

    def followed_by_paren(self, j: int) -> bool:
        rest = self.text[j: j + 12].lstrip()
        return rest.startswith("(") or rest.startswith("[") or bool(SIZING.match(rest)) \
            and SIZING.sub("", rest[:8]).startswith(("(", "["))

    def word(self, w: str, m: re.Match, i: int) -> int:
        if m.group(1) in NAME_STYLES and re.fullmatch(r"[A-Za-z]+", w):
            # \mathit{Xr} is how names.py prints a word: always a name (\mathit{exp} too)
            self.emit("LETTER" if len(w) == 1 else "WORD", w, i)
        elif w in self.functions:
            self.emit("FUNC", self.functions[w], i)
        elif w in CONNECTIVES or not w:
            self.emit("SEP", w, i)
        elif re.fullmatch(r"[A-Za-z]", w):
            self.emit("LETTER", w, i)
        elif re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", w):
            self.emit("WORD", w, i)
        elif re.fullmatch(r"[A-Za-z][A-Za-z0-9]*(?:\s+[A-Za-z][A-Za-z0-9]*)+", w):
            self.emit("SEP", w, i)  # prose: "for all", "such that"
        else:
            raise syntax_error(f"cannot read {m.group()!r} as a name or a function", self.text, i)
        return m.end()

    def sized_delimiter(self, m: re.Match, i: int) -> int:
        text = self.text
        j = m.end()
        right = text.startswith("\\right", i)
        left = text.startswith("\\left", i)
        d = _CMD.match(text, j) if text.startswith("\\", j) else None
        delim = d.group() if d else text[j: j + 1]
        end = d.end() if d else j + 1
        if delim == ".":
            return end  # \left. and \right. are invisible
        if delim in OPEN_DELIMS and not right:
            self.open("(", "LPAR", delim, i)
        elif delim in CLOSE_DELIMS and not left:
            self.close("(", "RPAR", delim, i)
        elif delim in ("|", "\\vert", "\\lvert", "\\rvert"):
            if left or delim == "\\lvert":
                self.open("|", "LBAR", delim, i)
            elif right or delim == "\\rvert":
                self.close("|", "RBAR", delim, i)
            else:
                self.bar("|", i, delim)
        elif delim in ("\\|", "\\Vert", "\\lVert", "\\rVert", "‖"):
            if left or delim == "\\lVert":
                self.open("‖", "LNORM", delim, i)
            elif right or delim == "\\rVert":
                self.close("‖", "RNORM", delim, i)
            else:
                self.bar("‖", i, delim)
        else:
            raise syntax_error(f"unexpected delimiter {delim!r} after {m.group().strip()}",
                               text, j)
        return end


_GREEK_CHARS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ",
    "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}


_GREEK_BY_CHAR = {ch: name for name, ch in _GREEK_CHARS.items()}
_SIMPLE = {"+": "PLUS", "-": "MINUS", "*": "STAR", "/": "SLASH", "=": "EQ", "'": "PRIME",
           ",": "SEP", ";": "SEP"}
_HPOW = re.compile(r"\{\s*\\circ(?![A-Za-z])")


# Math delimiters around input pasted from a paper: $..$, $$..$$, \[..\], \(..\) and the
# display environments. They are blanked, not cut, so that columns in errors stay the input's.
_ENVIRONMENTS = "equation|aligned|align|gathered|gather|multline|displaymath|math|flalign"
_WRAPPERS = [re.compile(p, re.S) for p in (
    r"\s*(\$\$)(.*)(\$\$)\s*", r"\s*(\$)(.*)(\$)\s*", r"\s*(\\\[)(.*)(\\\])\s*",
    r"\s*(\\\()(.*)(\\\))\s*",
    r"\s*(\\begin\s*\{(?:" + _ENVIRONMENTS + r")\*?\})(.*)(\\end\s*\{(?:" + _ENVIRONMENTS
    + r")\*?\})\s*")]
_DISPLAY_NOISE = re.compile(r"\\(?:label|tag\*?)\s*\{[^{}]*\}|&")
_FULL_STOP = re.compile(r"\.(\s*)$")


def blank_math_delimiters(text: str) -> str:
    """`text` with math delimiters, labels, `&` alignment marks and a closing full stop
    replaced by spaces (same length): `$x^\\top A x$.` reads as `x^\\top A x`."""
    out = text
    for _ in range(3):  # $\begin{equation}...\end{equation}$, at most a few layers
        for pat in _WRAPPERS:
            m = pat.fullmatch(out)
            if m and m.group(1) not in m.group(2) and m.group(3) not in m.group(2):  # one pair
                a, b = m.span(1), m.span(3)
                out = out[:a[0]] + " " * (a[1] - a[0]) + out[a[1]:b[0]] + " " * (b[1] - b[0]) \
                    + out[b[1]:]
                break
        else:
            break
    out = _DISPLAY_NOISE.sub(lambda m: " " * len(m.group()), out)
    return _FULL_STOP.sub(lambda m: " " + m.group(1), out)


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_CHARS:
        raise LatexSyntaxError(
            f"the input is {len(text)} characters long; symgrad reads at most {MAX_CHARS}",
            text[:200], None)
    return Tokenizer(blank_math_delimiters(text)).run()
