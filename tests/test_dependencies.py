"""The runtime dependencies in pyproject.toml are exactly what the package imports: every third-party
module fgclip imports is declared (as a dependency or in an extra), and every plain dependency is
imported by fgclip itself, not only by a test."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
# Imported, deliberately not declared: each import sits in the one function that needs it.
NOT_DECLARED = {
    "psutil": "Ray ships its own copy, on sys.path once ray is imported (fgclip.ray_backend)",
    "spacy": "an optional tagger the user installs with a model of their choice (SpacyTagger)",
}


def requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {requirement_name(r) for r in project["dependencies"]}
    extras = {requirement_name(r) for group in project["optional-dependencies"].values() for r in group}
    return runtime, extras


def imported_distributions() -> dict[str, set[str]]:
    """{distribution: the fgclip files that import it} for every third-party import under fgclip/."""
    owners = packages_distributions()
    found: dict[str, set[str]] = {}
    for path in (ROOT / "fgclip").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "fgclip" or top in sys.stdlib_module_names:
                    continue
                for distribution in owners.get(top, [top]):
                    found.setdefault(distribution.lower().replace("_", "-"), set()).add(
                        str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_declared():
    runtime, extras = declared()
    undeclared = {d: sorted(files) for d, files in imported_distributions().items() if d not in runtime | extras | set(NOT_DECLARED)}
    assert not undeclared, f"imported but not in pyproject.toml: {undeclared}"


def test_every_runtime_dependency_is_imported_by_the_package():
    runtime, _ = declared()
    imported = set(imported_distributions())
    # Anything fgclip does not import belongs in an extra, not in what every install pulls in.
    unused = runtime - imported
    assert not unused, f"runtime dependencies fgclip never imports: {sorted(unused)}"
