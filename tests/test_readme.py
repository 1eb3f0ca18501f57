"""The README's Python snippets run as written (all but the codegen sketch, whose arrays are
left to the reader), one after another in one namespace."""

import pathlib
import re

README = pathlib.Path(__file__).parent.parent / "README.md"


def test_readme_snippets_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    runnable = [b for b in blocks if "lambdify" not in b]
    assert len(runnable) >= 5
    ns: dict = {}
    for block in runnable:
        exec(compile(block, str(README), "exec"), ns)  # noqa: S102 -- our own documentation
    assert ns["v"].ok is False  # the README's check example is a wrong claim, judged wrong
