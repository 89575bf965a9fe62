"""The import graphs, read from the source (lazy imports inside functions count too): no cycles
between the server's modules, nor between the library's parts; the server reaches the library
through its public API only; c2pa is imported by its adapter alone, and text/ knows nothing of
C2PA."""

from __future__ import annotations

import ast
import subprocess
import sys
import tempfile
import textwrap
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

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


def test_the_flag_check_can_fail(tmp_path: Path):
    """The scan sees the library's messages and would catch a flag in one."""
    assert len(_hint_texts(LIBRARY / "keys.py")) > 5
    planted = tmp_path / "planted.py"
    planted.write_text('raise KeysError("no keys", hint="run provenance keys --force")\n')
    assert sorted(_hint_texts(planted)) == ["no keys", "run provenance keys --force"]


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


def test_postgresql_loads_only_when_its_registry_is_named():
    """psycopg (about 0.15 s) loads with ``PostgresRegistry`` (PEP 562), not with
    ``provenance`` or its registry package; both name the same class, and other names are
    still missing."""
    import provenance
    import provenance.registry

    plain = _modules_after("import provenance, provenance.registry")
    assert "psycopg" not in plain and "provenance.registry.postgres" not in plain
    assert "psycopg" in _modules_after("from provenance import PostgresRegistry")
    assert "psycopg" in _modules_after("from provenance.registry import PostgresRegistry")
    assert provenance.PostgresRegistry is provenance.registry.PostgresRegistry
    for package in (provenance, provenance.registry):
        with pytest.raises(AttributeError, match=f"'{package.__name__}' has no attribute 'nope'"):
            package.nope  # noqa: B018


# -- the library ---------------------------------------------------------------------------------


def _modules(package: Path) -> dict[str, Path]:
    """Dotted name -> file, for every module of ``package`` (a package is its __init__)."""
    found = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _targets(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ``modules`` that the module ``name`` (at ``path``) imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            # ``from . import evidence`` names a module; ``from .errors import X`` does not.
            named = {f"{target}.{alias.name}" for alias in node.names}
            found |= (named & modules.keys()) or {target}
    return {t for t in found if t in modules}


def _part(name: str) -> str:
    """The part a module belongs to: its subpackage (``text``, ``registry``, ...) or, for a module
    at the top of the package, the module itself (``verify``; the package's own __init__)."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _parts_graph(package: Path) -> dict[str, set[str]]:
    modules = _modules(package)
    graph: dict[str, set[str]] = {_part(name): set() for name in modules}
    for name, path in modules.items():
        graph[_part(name)] |= {_part(t) for t in _targets(name, path, modules)} - {_part(name)}
    return graph


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for dep in graph[todo.pop()] - seen:
            seen.add(dep)
            todo.append(dep)
    return seen


def test_library_parts_import_no_cycle():
    graph = _parts_graph(LIBRARY)
    try:
        list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle between provenance's parts: {exc.args[1]}") from None
    assert {"text", "registry", "watermark", "_internal", "verify"} <= graph.keys()
    assert "text" in graph["verify"] and "text_manifest" in graph["verify"]


def test_text_knows_nothing_of_c2pa():
    # text/ is below the library: the C2PA text manifest (text_manifest) builds on it, not in it.
    # It reaches only the library's foundations (errors, atomic files, the mixer), never c2pa.
    assert _reach(_parts_graph(LIBRARY), "text") <= {"errors", "files", "splitmix"}


def test_the_c2pa_adapter_sits_at_the_bottom():
    # It calls c2pa and raises the library's errors; it knows nothing of registry, trust, verdicts.
    assert _reach(_parts_graph(LIBRARY), "_internal") <= {"errors"}


def test_the_parts_graph_sees_relative_imports(tmp_path: Path):
    # The check above can fail: text/ importing the pipeline that imports text/ is a cycle.
    package = tmp_path / "provenance"
    (package / "text").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "errors.py").write_text("")
    (package / "text" / "__init__.py").write_text("from .watermark import detect\n")
    (package / "text" / "watermark.py").write_text(
        "from ..errors import E\ndef f():\n    from .. import verify\n"
    )
    (package / "verify.py").write_text("from .text import detect\nfrom . import errors\n")
    graph = _parts_graph(package)
    assert graph == {
        "__init__": set(),
        "errors": set(),
        "text": {"errors", "verify"},
        "verify": {"text", "errors"},
    }
    try:
        list(TopologicalSorter(graph).static_order())
    except CycleError:
        return
    raise AssertionError("the text <-> verify cycle went unnoticed")


def _c2pa_importers(files: list[Path]) -> list[str]:
    """Files that import c2pa (any form: ``import c2pa``, ``from c2pa.c2pa import _lib``)."""
    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            if any(n == "c2pa" or n.startswith("c2pa.") for n in names):
                found.append(str(path.relative_to(path.parents[1])))
                break
    return found


def test_only_the_adapter_imports_c2pa():
    files = [*LIBRARY.rglob("*.py"), *SERVER.rglob("*.py")]
    assert _c2pa_importers(files) == ["_internal/c2pa_adapter.py"]


def test_the_c2pa_import_check_can_fail(tmp_path: Path):
    (tmp_path / "pkg").mkdir()
    for i, line in enumerate(["import c2pa", "from c2pa.c2pa import _lib", "import json, c2pa"]):
        (tmp_path / "pkg" / f"m{i}.py").write_text(f"def f():\n    {line}\n")
    (tmp_path / "pkg" / "ok.py").write_text('"""import c2pa"""\nimport c2patxt\n')
    assert sorted(_c2pa_importers(list((tmp_path / "pkg").glob("*.py")))) == [
        "pkg/m0.py",
        "pkg/m1.py",
        "pkg/m2.py",
    ]


def test_import_does_not_load_the_native_data_hash_functions():
    # They are c2pa's private bindings: loaded on first text signing, so a c2pa release without
    # them breaks text signing only (with an error saying so), never ``import provenance``.
    probe = textwrap.dedent(
        """
        import sys
        from pathlib import Path

        import c2pa.c2pa as native

        import extension_api, provenance
        from provenance._internal import c2pa_adapter as adapter

        def bound():
            # and c2pa-python's own declaration of c2pa_free, which it checks, is untouched
            print(adapter._data_hash_functions.cache_info().currsize, native._lib.c2pa_free.restype)

        bound()
        keys = provenance.init_keys(Path(sys.argv[1]))
        from provenance.text_manifest import sign_text
        sign_text("Some words.", provenance.SigningKeys.load(keys_dir=keys.dir))
        bound()
        """
    )
    with tempfile.TemporaryDirectory() as keys:
        out = subprocess.run(
            [sys.executable, "-c", probe, keys], capture_output=True, text=True, check=True
        ).stdout.splitlines()
    # none after import; bound by the first text signing
    assert out == ["0 <class 'ctypes.c_int'>", "1 <class 'ctypes.c_int'>"]
