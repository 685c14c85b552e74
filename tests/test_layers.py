"""Imports between the project's packages point one way (docs/design.md):

    core → clinics → audit → protocols → patients → sessions → messaging → reports → privacy → {api, web} → demo → config

A package may import those to its left, never one to its right: not at the
top of a module and not inside a function. `api` and `web` are the entry
points, side by side: neither imports the other. The imports are read with `ast`,
so nothing is executed and a lazy import cannot hide.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. `config` is the roof (settings, URLs, Celery, WSGI): it may
# import everything and nothing imports it, but for its settings module.
# Packages in one tuple share a rank and may not import each other.
ORDER = [
    "core", "clinics", "audit", "protocols", "patients", "sessions", "messaging", "reports", "privacy",
    ("api", "web"), "demo", "config",
]  # fmt: skip
RANK = {name: rank for rank, layer in enumerate(ORDER) for name in (layer if isinstance(layer, tuple) else (layer,))}
LAYERS = list(RANK)

# Django reads these by dotted name from the settings, not by import.
ALLOWED = {("config", "config.settings")}


def modules():
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield package, path


def imported_packages(path: Path):
    """(line, dotted module) of every absolute import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def forbidden(package: str, top: str) -> bool:
    """`package` may not import `top`: it is above, or beside it (api and web)."""
    return RANK[top] > RANK[package] or (RANK[top] == RANK[package] and top != package)


def upward_imports():
    found = []
    for package, path in modules():
        for line, module in imported_packages(path):
            top = module.split(".")[0]
            if top in RANK and (top, module) not in ALLOWED and forbidden(package, top):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module} ({package} may not import {top})")
    return found


def test_no_package_imports_one_above_it():
    assert upward_imports() == []


def test_the_check_sees_every_layer():
    """Guards the test itself: every layer exists and holds modules."""
    seen = {package for package, _ in modules()}
    assert seen == set(LAYERS)


@pytest.mark.parametrize(
    ("package", "source", "upward"),
    [
        ("clinics", "from sessions.models import Session\n", True),
        ("protocols", "def f():\n    import patients.models\n", True),
        ("sessions", "from clinics.models import Clinic\n", False),
        ("core", "from clinics import models\n", True),
        ("sessions", "from messaging import outbox\n", True),
        ("messaging", "from sessions.models import Reminder\n", False),
        ("api", "from web.links import visit\n", True),
        ("web", "def f():\n    from api.sessions import SessionSerializer\n", True),
        ("web", "from messaging.emails import long_time\n", False),
    ],
)
def test_the_check_catches_an_upward_import(tmp_path, package, source, upward):
    path = tmp_path / "module.py"
    path.write_text(source)
    tops = {module.split(".")[0] for _, module in imported_packages(path)}
    assert any(forbidden(package, top) for top in tops if top in RANK) is upward


def test_no_package_holds_more_than_a_quarter_of_the_source_lines():
    """docs/design.md, "Layout": a folder past a quarter of the code is split."""
    lines = {package: 0 for package in LAYERS}
    for package, path in modules():
        lines[package] += len(path.read_text(encoding="utf-8").splitlines())
    total = sum(lines.values())
    assert {package: n for package, n in lines.items() if n > total / 4} == {}


def test_the_design_doc_opens_with_every_package():
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    diagram = design.split("```")[1]  # the first block: the layer diagram
    named = {line.split()[0] for line in diagram.splitlines() if line[:1].isalpha()}
    assert set(LAYERS) <= named | {"api", "web"}
    assert "api │ web" in diagram
