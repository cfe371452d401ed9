"""The layers stay apart: views never import views, services never import job modules, only
jobs/queue.py spells a job's dotted name, no import cycle hides in a function, and the Walmart
client and the simulator import nothing of the app."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_view_imports_another_view():
    """A view module imports no other view module (shared rendering lives outside views)."""
    for path in (ROOT / "webapp" / "views").glob("*.py"):
        if path.name == "__init__.py":
            continue
        assert not [m for m in _imports(path) if m.startswith("webapp.views")], path.name


def test_services_import_only_the_enqueue_adapter_of_jobs():
    """Services may enqueue through jobs/queue.py, and import no job module (which import
    services); jobs/queue.py imports no service."""
    for path in (ROOT / "webapp" / "services").rglob("*.py"):
        jobs = {m for m in _imports(path) if m == "jobs" or m.startswith("jobs.")}
        assert jobs <= {"jobs.queue"}, path
    assert not [m for m in _imports(ROOT / "jobs" / "queue.py")
                if m.startswith(("webapp.services", "jobs."))]


def test_job_names_are_spelled_in_the_queue_module_only():
    """Jobs are enqueued through named functions of jobs/queue.py, never by a dotted string."""
    name = re.compile(r"""["']jobs\.(sync|imports|notify|maintenance|drain)\.\w+["']""")
    for top in ("webapp", "jobs"):
        for path in (ROOT / top).rglob("*.py"):
            if path == ROOT / "jobs" / "queue.py":
                continue
            assert not name.search(path.read_text()), path


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


PRODUCT = ("webapp", "jobs", "devserver")
KNOWN = {_module_name(p) for top in PRODUCT for p in (ROOT / top).rglob("*.py")}


def _top_level_imports(path: Path, known: set[str] = KNOWN) -> set[str]:
    """Modules imported when `path` is imported: its module-level statements only (not inside
    functions, and not under `if TYPE_CHECKING:`), a `from package import module` resolved to
    the module."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found = [f"{node.module}.{a.name}" for a in node.names
                     if f"{node.module}.{a.name}" in known]
            names.update(found or [node.module])
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names & known


def test_no_import_cycle_hides_behind_the_module_level_imports():
    """The product's modules import each other at the top without a cycle: the few imports
    that must wait for a cycle are inside a function, each with a comment naming it."""
    graph = {_module_name(p): _top_level_imports(p)
             for top in PRODUCT for p in (ROOT / top).rglob("*.py")}
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for other in sorted(graph.get(module, ())):
            if other == module:
                continue
            assert state.get(other) != "open", " → ".join(path[path.index(other):] + [other])
            if other not in state:
                visit(other, path + [other])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_the_walmart_client_and_the_simulator_import_nothing_of_the_app():
    """The client speaks Walmart only; the simulator is an independent Walmart."""
    for path in (ROOT / "webapp" / "walmart").rglob("*.py"):
        assert {m for m in _imports(path) if m.startswith("webapp")
                and not m.startswith("webapp.walmart")} == set(), path
    for path in (ROOT / "simulator").rglob("*.py"):
        assert not [m for m in _imports(path) if m.split(".")[0] in ("webapp", "jobs")], path
