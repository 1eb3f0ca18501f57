"""matrixcalculus.org's ASCII notation rewritten into Python's expression syntax.

The rewrite is token-for-token so that `ast` can parse the result and every position maps
back to the user's text: `*` is the matrix product (`@`), `.*` `./` `.^` are elementwise
(`*` `/` `**`), `'` transposes (`.T`), and `^` stays `^` (Python's xor, read back as the
ASCII power, which symgrad only takes for scalars).
"""

from __future__ import annotations

REWRITES = (  # longest first
    (".*", "*"), ("./", "/"), (".^", "**"), ("*", "@"), ("'", ".T"),
)


def to_python(text: str) -> tuple[str, list[int]]:
    """The Python spelling of ASCII `text`, and for each of its characters (plus the end) the
    index of the character of `text` it came from."""
    out: list[str] = []
    where: list[int] = []
    i = 0
    while i < len(text):
        for old, new in REWRITES:
            if text.startswith(old, i):
                out.append(new)
                where.extend([i] * len(new))
                i += len(old)
                break
        else:
            out.append(text[i])
            where.append(i)
            i += 1
    where.append(len(text))
    return "".join(out), where
