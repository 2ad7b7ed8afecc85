"""The README's Layout block, built from the package tree so it cannot drift (cog in README.md).

Each package is one line with the summary line of its `__init__.py` docstring, and each module
under it one line with its own summary line. The layers come in the order of the import
contract in pyproject.toml, lowest first, then the composition root (app/), migrations/ and
tests/ (its folders and top-level files, not every test file). Folders without Python (the
templates, the static files) take their line from FOLDERS below and list their files.
"""

from __future__ import annotations

import ast
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).parents[2]
WIDTH = 120  # the widest line: a README code block shows about this much without scrolling
FOLDERS = {
    "app/web/templates": "Jinja2: base.html, a page per view on it, and the _ partials that "
    "render a form field (label, hint, error, control):",
    "app/web/static": "Served by the app itself, so the pages work offline (system fonts, no "
    "external assets):",
    "app/ops/service_templates": "One per system, filled in by service.py (package data):",
}
SKIPPED = {"__pycache__"}


def summary(path: Path) -> str | None:
    """The first line of a module's docstring, or None when it has none."""
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    return docstring.splitlines()[0].strip() if docstring else None


def _described(path: Path) -> str:
    found = summary(path)
    if found is None:
        raise ValueError(f"{path.relative_to(REPO)} has no docstring: write its one-line summary")
    return found


def layers() -> list[str]:
    """The import contract's layers, lowest first (`app.core`, …, `app.web`)."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c["type"] == "layers"]
    # "sync | app.outbound": independent packages side by side in one layer.
    return [name.strip() for layer in reversed(contract["layers"]) for name in layer.split("|")]


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in SKIPPED)


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.py") if p.name != "__init__.py")


def _package(folder: Path) -> Iterator[tuple[str, str]]:
    """A package's line, its modules' lines, then its sub-folders, depth first."""
    yield f"{folder.relative_to(REPO)}/", _described(folder / "__init__.py")
    for module in _modules(folder):
        yield f"  {module.name}", _described(module)
    for sub in _subfolders(folder):
        if (sub / "__init__.py").exists():
            yield from _package(sub)
        else:
            yield from _plain_folder(sub)


def _plain_folder(folder: Path) -> Iterator[tuple[str, str]]:
    name = str(folder.relative_to(REPO))
    if name not in FOLDERS:
        raise ValueError(f"{name}/ holds no Python: describe it in tests/tools/layout.py FOLDERS")
    files = sorted(p.name for p in folder.rglob("*") if p.is_file())
    yield f"{name}/", f"{FOLDERS[name]} {', '.join(files)}."


def _composition_root() -> Iterator[tuple[str, str]]:
    """app/ itself: the modules beside the layers' folders, which put the layers together."""
    app = REPO / "app"
    yield "app/", _described(app / "__init__.py")
    for module in _modules(app):
        yield f"  {module.name}", _described(module)
    layered = {layer.split(".")[1] for layer in layers() if layer.startswith("app.")}
    for sub in _subfolders(app):
        if sub.name not in layered and (sub / "__init__.py").exists():
            yield from _package(sub)  # more of the composition root (app/commands)


def _tests() -> Iterator[tuple[str, str]]:
    tests = REPO / "tests"
    yield "tests/", _described(tests / "__init__.py")
    for module in _modules(tests):
        yield f"  {module.name}", _described(module)
    for sub in _subfolders(tests):
        if (sub / "__init__.py").exists():
            yield f"  {sub.name}/", _described(sub / "__init__.py")


def groups() -> list[list[tuple[str, str]]]:
    """(name, summary) rows, one group per layer, then app/, migrations/ and tests/."""
    found = [list(_package(REPO.joinpath(*layer.split(".")))) for layer in layers()]
    found.append(list(_composition_root()))
    found.append(list(_package(REPO / "migrations")))
    found.append(list(_tests()))
    return found


def block() -> str:
    """The Layout block: a fenced text block of aligned, wrapped columns."""
    rows = groups()
    column = max(len(name) for group in rows for name, _ in group) + 2
    lines = ["```"]
    for number, group in enumerate(rows):
        if number:
            lines.append("")
        for name, text in group:
            wrapped = textwrap.wrap(text, WIDTH - column) or [""]
            lines.append(f"{name:<{column}}{wrapped[0]}".rstrip())
            lines += [" " * column + more for more in wrapped[1:]]
    lines.append("```")
    return "\n".join(lines) + "\n"
