"""Every Python snippet of the README runs as written, one after another in one namespace."""

import pathlib
import re

README = pathlib.Path(__file__).parent.parent / "README.md"


def test_readme_snippets_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 7
    ns: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), ns)  # noqa: S102 -- our own documentation
    assert ns["v"].ok is False  # the README's check example is a wrong claim, judged wrong
    assert ns["dW1"].shape == (3, 4) and "def generated(" in capsys.readouterr().out
