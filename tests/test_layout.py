"""The server's import graph, read from its source: no cycles between its modules (lazy imports
inside functions count too), and the library reached through its public API only."""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

SERVER = Path(__file__).parent.parent / "extension_api"
LIBRARY = Path(__file__).parent.parent / "provenance"


def _imports(path: Path) -> list[tuple[int, str]]:
    """(level, module) of every import in a file, at any depth."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or ""))
        elif isinstance(node, ast.Import):
            found += [(0, alias.name) for alias in node.names]
    return found


def _server_graph() -> dict[str, set[str]]:
    modules = {p.stem for p in SERVER.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for name in modules:
        deps = set()
        for level, module in _imports(SERVER / f"{name}.py"):
            target = module.split(".")[0] if level == 1 else None
            if level == 0 and module.startswith("extension_api."):
                target = module.split(".")[1]
            if target in modules and target != name:
                deps.add(target)
        graph[name] = deps
    return graph


def test_server_modules_import_no_cycle():
    graph = _server_graph()
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle in extension_api: {exc.args[1]}") from None
    assert set(order) >= {"app", "routes", "keys", "service"}
    assert "app" not in graph["routes"]  # the routes reach the app's pieces through keys


def test_the_cycle_check_can_fail():
    graph = {"app": {"routes"}, "routes": {"app"}}
    try:
        list(TopologicalSorter(graph).static_order())
    except CycleError:
        return
    raise AssertionError("a cycle went unnoticed")


def test_server_uses_the_library_public_api_only():
    private = [
        f"{path.name}: {module}"
        for path in SERVER.glob("*.py")
        for level, module in _imports(path)
        if level == 0 and module.startswith("provenance.")
    ]
    assert private == []


def _absolute_imports(path: Path) -> set[str]:
    """Every module a file imports, as absolute names, ``from . import x`` giving ``pkg.x``."""
    package = path.parent.relative_to(LIBRARY.parent).parts
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    return found


def _cli_imports(paths: list[Path]) -> list[str]:
    return [
        f"{path.relative_to(LIBRARY.parent)}: {module}"
        for path in paths
        for module in sorted(_absolute_imports(path))
        if module == "provenance.cli" or module.startswith("provenance.cli.")
    ]


def test_neither_the_server_nor_the_library_imports_the_cli():
    """The CLI is a face over both: ``python -m extension_api`` runs without it, and no library
    module calls back into it (``python -m provenance``, provenance/__main__.py, is the CLI)."""
    library = [
        p
        for p in LIBRARY.rglob("*.py")
        if "cli" not in p.relative_to(LIBRARY).parts and p != LIBRARY / "__main__.py"
    ]
    assert len(library) > 20
    assert _cli_imports([*SERVER.glob("*.py"), *library]) == []


def test_the_cli_import_check_can_fail():
    assert "provenance/__main__.py: provenance.cli" in _cli_imports([LIBRARY / "__main__.py"])
    assert _cli_imports([SERVER / "__main__.py"]) == []
    assert "provenance.errors" in _absolute_imports(LIBRARY / "cli" / "errors.py")
    assert "provenance.options.policy" in _absolute_imports(LIBRARY / "cli" / "inspect.py")


def _hint_texts(path: Path) -> list[str]:
    """The literal text of every ``hint=`` and error message argument in a file."""
    texts = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            args = [kw.value for kw in node.keywords if kw.arg == "hint"]
            if isinstance(node.func, ast.Name) and node.func.id.endswith("Error"):
                args += node.args[:1]
            for arg in args:
                texts += [
                    part.value
                    for part in ast.walk(arg)
                    if isinstance(part, ast.Constant) and isinstance(part.value, str)
                ]
    return texts


def test_library_errors_name_no_flags():
    """The library's errors speak its own words; the CLI maps them to flags (CLI_HINTS)."""
    flagged = [
        f"{path.relative_to(LIBRARY)}: {text!r}"
        for path in LIBRARY.rglob("*.py")
        if "cli" not in path.relative_to(LIBRARY).parts
        for text in _hint_texts(path)
        if " --" in f" {text}" or "provenance " in text
    ]
    assert flagged == []


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    probe = f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_the_faces_load_only_what_they_use():
    """At run time too: the server's command line never loads the CLI, and the CLI's parser
    (every command pays for it) does not load aiohttp, which only `serve` needs."""
    server = _modules_after("from extension_api.command import add_arguments, main")
    assert not {m for m in server if m.startswith("provenance.cli")}
    cli = _modules_after("from provenance.cli import build_parser\nbuild_parser()")
    assert "provenance.cli.serve" in cli and "aiohttp" not in cli and "extension_api.app" not in cli
