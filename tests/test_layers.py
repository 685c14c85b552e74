"""Imports between the project's packages point one way (docs/design.md):

    core → clinics → audit → protocols → patients → sessions → reports → privacy → demo → config

A package may import those to its left, never one to its right: not at the
top of a module and not inside a function. The imports are read with `ast`,
so nothing is executed and a lazy import cannot hide.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. `config` is the roof (settings, URLs, Celery, WSGI): it may
# import everything and nothing imports it, but for its settings module.
LAYERS = ["core", "clinics", "audit", "protocols", "patients", "sessions", "reports", "privacy", "demo", "config"]
RANK = {name: rank for rank, name in enumerate(LAYERS)}

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


def upward_imports():
    found = []
    for package, path in modules():
        for line, module in imported_packages(path):
            top = module.split(".")[0]
            if top in RANK and RANK[top] > RANK[package] and (top, module) not in ALLOWED:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module} ({package} is below {top})")
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
    ],
)
def test_the_check_catches_an_upward_import(tmp_path, package, source, upward):
    path = tmp_path / "module.py"
    path.write_text(source)
    tops = {module.split(".")[0] for _, module in imported_packages(path)}
    assert any(RANK[top] > RANK[package] for top in tops if top in RANK) is upward
