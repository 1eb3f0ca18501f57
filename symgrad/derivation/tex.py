"""Running pdflatex and pdftoppm: compile_latex, pdf_pages, and saving a derivation's files."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zlib
from pathlib import Path

from ..errors import SymgradError, ToolError

# ---- pdflatex ---------------------------------------------------------------------------------
_INSTALL = {
    "pdflatex": "texlive-latex-base texlive-latex-recommended",
    "pdftoppm": "poppler-utils",
}


def _require(tool: str, package: str | None = None) -> str:
    exe = shutil.which(tool)
    if exe is None:
        pkg = package or _INSTALL.get(tool, tool)
        raise ToolError(f"{tool} is not installed; it is needed to render derivations "
                        f"(Debian/Ubuntu: apt-get install {pkg})")
    return exe


def _run(cmd: list[str], cwd: Path, what: str, timeout: float = 120) -> None:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ToolError(f"{what} did not finish in {timeout:g} s") from None
    if proc.returncode != 0:
        raise ToolError(f"{what} failed (exit {proc.returncode}): "
                        f"{(proc.stderr or proc.stdout)[-2000:]}")


def find_package(name: str) -> str | None:
    """The path of a LaTeX package's .sty file (kpsewhich), or None where it is not installed
    or kpsewhich is missing."""
    exe = shutil.which("kpsewhich")
    if exe is None:
        return None
    try:
        proc = subprocess.run([exe, f"{name}.sty"], capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None
    return proc.stdout.strip() or None


def compile_latex(tex: str, workdir: Path, name: str = "derivation") -> Path:
    """Compile a standalone document with pdflatex -halt-on-error; returns the PDF's path.
    A LaTeX error raises ToolError quoting the log's error lines."""
    exe = _require("pdflatex")
    src = workdir / f"{name}.tex"
    src.write_text(tex)
    cmd = [exe, "-halt-on-error", "-interaction=nonstopmode", "-no-shell-escape", src.name]
    try:
        proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ToolError("pdflatex did not finish in 120 s") from None
    pdf = workdir / f"{name}.pdf"
    if proc.returncode != 0 or not pdf.exists():
        log = (workdir / f"{name}.log")
        text = log.read_text(errors="replace") if log.exists() else proc.stdout
        errs = [ln for ln in text.splitlines() if ln.startswith("!") or ln.startswith("l.")]
        raise ToolError("pdflatex failed: " + (" | ".join(errs[:6]) or text[-1500:]))
    return pdf


def pdf_pages(pdf: Path) -> int:
    """The page count of a PDF: its page objects, looked for in compressed streams too."""
    data = Path(pdf).read_bytes()
    chunks = [data]
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            chunks.append(zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    return sum(len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", c)) for c in chunks)




def write_file(path: Path, data: str | bytes) -> Path:
    """Write data to path; an unwritable path is the user's to fix, said in a symgrad error."""
    try:
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    except OSError as exc:
        raise SymgradError(f"cannot write {str(path)!r}: {exc.strerror}; pass a path in an "
                           "existing, writable directory") from None
    return path


def write_pdf(tex: str, path: Path) -> None:
    """Compile a standalone document into the PDF at path."""
    with tempfile.TemporaryDirectory(prefix="symgrad-") as tmp:
        write_file(path, compile_latex(tex, Path(tmp)).read_bytes())


def write_png(tex: str, path: Path, dpi: int) -> None:
    """Compile a standalone document and rasterize its one page into the PNG at path."""
    with tempfile.TemporaryDirectory(prefix="symgrad-") as tmp:
        pdf = compile_latex(tex, Path(tmp))
        _require("pdftoppm", "poppler-utils")
        stem = Path(tmp) / "page"
        _run(["pdftoppm", "-png", "-r", str(int(dpi)), "-singlefile", str(pdf), str(stem)],
             Path(tmp), "pdftoppm")
        write_file(path, stem.with_suffix(".png").read_bytes())
