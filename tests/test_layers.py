"""The floors of the house, checked on the source: a stage never imports another stage, the ground
floor imports no stage, and no two modules import each other (not even through a function-level
import, which hides a cycle from Python but not from a reader). Imports under ``if TYPE_CHECKING``
are left out: they name types for annotations and never run."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "fgclip"
# Each stage is a folder of its own: it may use the ground floor, never another stage.
STAGES = ("pipeline", "trainer", "eval", "synthetic")
# The top floor chains the stages: the command line and the workflows.
TOP = ("cli", "workflow", "workflow_real", "stages", "export", "__main__")
# The ground floor, which every floor may use (docs/architecture.md lists the same modules).
GROUND = ("errors", "log", "schema", "config", "files", "images", "model", "text_encoding", "ray_backend", "plots",
          "setup_data")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The fgclip modules ``path`` imports anywhere in it (a name imported from a package counts as
    the submodule when there is one)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []  # names for annotations only: never imported when the code runs
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "fgclip"}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            if target.split(".")[0] != "fgclip":
                continue
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if _exists(submodule) else target)
    found.discard(name)
    return found


def _exists(module: str) -> bool:
    relative = Path(*module.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").is_file() or (PACKAGE / relative / "__init__.py").is_file()


def floor(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in STAGES:
        return parts[1]
    if len(parts) > 1 and parts[1] in TOP:
        return "top"
    if len(parts) == 1 or parts[1] in GROUND:
        return "ground"
    return "no floor"


GRAPH = {module_name(path): imports_of(path) for path in PACKAGE.rglob("*.py")}


def test_no_stage_imports_another_stage_and_the_ground_floor_imports_no_stage():
    wrong = []
    for module, targets in GRAPH.items():
        for target in targets:
            source_floor, target_floor = floor(module), floor(target)
            if source_floor in STAGES and target_floor in STAGES and source_floor != target_floor:
                wrong.append(f"{module} -> {target} (stage to stage)")
            elif source_floor in STAGES + ("ground",) and target_floor == "top":
                wrong.append(f"{module} -> {target} (to the top floor)")
            elif source_floor == "ground" and target_floor in STAGES:
                wrong.append(f"{module} -> {target} (ground floor to a stage)")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_two_modules_import_each_other():
    # A package's __init__ naming its own submodules is how a package is made, not a cycle.
    edges = {module: {t for t in targets if not module.startswith(t + ".")} for module, targets in GRAPH.items()}
    cycles = []
    for module, targets in edges.items():
        for target in targets:
            if _reaches(edges, target, module):
                cycles.append(f"{module} -> {target} -> ... -> {module}")
    assert not cycles, "\n".join(sorted(cycles))


def _reaches(edges: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        module = todo.pop()
        if module == goal:
            return True
        if module not in seen:
            seen.add(module)
            todo += edges.get(module, ())
    return False


def test_every_module_is_on_a_floor():
    # A new top-level module is placed on a floor here, or the checks above could not judge its imports.
    assert not [module for module in GRAPH if floor(module) == "no floor"]


def test_the_checks_see_real_imports():
    # The graph is read from the source: a known arrow must be in it, or the tests above prove nothing.
    assert "fgclip.pipeline.build" in GRAPH["fgclip.cli"]
    assert "fgclip.schema" in GRAPH["fgclip.pipeline.shards"]
    assert floor("fgclip.eval.run") == "eval" and floor("fgclip.cli") == "top" and floor("fgclip.files") == "ground"
