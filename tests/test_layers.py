"""The layers stay apart: views never import views, services never import job modules, and
only jobs/queue.py spells a job's dotted name."""

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
