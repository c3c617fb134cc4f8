"""House rules checked on the source itself: small functions (issue 11).

No function in ``impactzones/`` may run over 100 lines, counted from its ``def`` to its last
line, less its docstring (the aim is 80): a longer one is split into named steps that read as
the method's description.
"""

from __future__ import annotations

import ast
from pathlib import Path

import impactzones

MAX_LINES = 100

#: Functions still over the limit while issue 11 is finished in parallel (each is being
#: split by the lane that owns its file). Nothing may join this list.
STILL_LONG: set[str] = set()


def function_lengths(source: str) -> dict[str, int]:
    """Lines of every function (methods and nested functions too) in ``source``, from the
    ``def`` line to the last line of its body, less the docstring; decorators not counted.

    The name of a method or nested function is dotted (``Class.method``, ``outer.inner``).
    """
    out: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                lines = child.end_lineno - child.lineno + 1
                doc = child.body[0]
                if (
                    isinstance(doc, ast.Expr)
                    and isinstance(doc.value, ast.Constant)
                    and isinstance(doc.value.value, str)
                ):
                    lines -= doc.end_lineno - doc.lineno + 1
                out[name] = lines
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return out


def test_the_counter_counts_what_the_rule_says():
    """A hand-counted case: 1 def line + 3 docstring lines + 4 body lines -> 5; the
    decorator and the nested function's own lines are counted as the rule says."""
    src = (
        "import functools\n"
        "@functools.cache\n"
        "def f(x):\n"
        '    """One.\n'
        "\n"
        '    Two."""\n'
        "    def g():\n"
        "        return x\n"
        "    y = g()\n"
        "    return y\n"
        "class C:\n"
        "    def m(self):\n"
        "        return 1\n"
    )
    assert function_lengths(src) == {"f": 5, "f.g": 2, "C.m": 2}


def test_no_function_over_100_lines():
    root = Path(impactzones.__file__).parent
    long = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        for name, lines in function_lengths(path.read_text(encoding="utf-8")).items():
            key = f"{rel}:{name}"
            if lines > MAX_LINES and key not in STILL_LONG:
                long.append(f"{key} ({lines} lines)")
    assert long == [], f"split these into named steps (at most {MAX_LINES} lines): {long}"


#: Packages that produce outputs or drive runs: nothing below them may import them.
UPPER = ("maps", "cli", "pipeline", "workflows", "summaries")
#: The layers below the outputs (docs/architecture.md).
LOWER = (
    "core",
    "io",
    "datasets",
    "assign",
    "cube",
    "distributed",
    "hotspots",
    "evaluate",
    "propose",
)


def _imports(path: Path, package: str):
    """Absolute module names imported by the module at ``path`` (``package`` is its own
    dotted package), leaving out a module ``__getattr__`` (a deprecated name's redirect)."""

    def visit(node, skip):
        for child in ast.iter_child_nodes(node):
            inside = skip or (isinstance(child, ast.FunctionDef) and child.name == "__getattr__")
            if isinstance(child, ast.ImportFrom) and not inside:
                base = package.split(".")
                if child.level:
                    base = base[: len(base) - child.level + 1]
                    yield ".".join([*base, child.module] if child.module else base)
                else:
                    yield child.module or ""
            elif isinstance(child, ast.Import) and not inside:
                yield from (a.name for a in child.names)
            yield from visit(child, inside)

    yield from visit(ast.parse(path.read_text(encoding="utf-8")), False)


def test_imports_flow_down_from_outputs_to_the_foundation():
    root = Path(impactzones.__file__).parent
    upward = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        if rel.parts[0] not in LOWER:
            continue
        package = ".".join(["impactzones", *rel.parts[:-1]])
        for name in _imports(path, package):
            parts = name.split(".")
            if parts[0] == "impactzones" and len(parts) > 1 and parts[1] in UPPER:
                upward.append(f"{rel.as_posix()}.py imports {name}")
    assert upward == [], upward


#: Private modules meant for the whole package: the numba kernels every layer may call.
SHARED_PRIVATE = {"impactzones.core._compiled", "impactzones._version"}


def _private_imports(path: Path, root: Path) -> list[str]:
    """``from`` imports in ``path`` that reach a private module or name of another package."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    package = parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.ImportFrom) and node.level):
            continue
        base = package[: len(package) - (node.level - 1)]
        target = base + (node.module.split(".") if node.module else [])
        same_package = target[:2] == parts[:2] and len(parts) > 2 and len(target) > 2
        dotted = ".".join(target)
        private = [n.name for n in node.names if n.name.startswith("_") and not n.name.endswith("__")]
        if any(p.startswith("_") for p in target[1:]) and dotted not in SHARED_PRIVATE:
            private.append(dotted)
        if private and not same_package:
            found.append(f"{'.'.join(parts)} imports {', '.join(private)} from {dotted}")
    return found


def test_no_module_imports_another_packages_private_helper():
    """Issue 11: a helper another package needs is made public where it belongs (as
    ``atomic_write`` in ``core.files`` and ``polygon_ids`` in ``core.geometry`` were)."""
    root = Path(impactzones.__file__).parent
    found = [f for p in sorted(root.rglob("*.py")) for f in _private_imports(p, root)]
    assert found == []


def test_the_private_import_check_finds_one(tmp_path):
    """A planted case: a module in one package importing a private name of another."""
    pkg = tmp_path / "impactzones"
    (pkg / "maps").mkdir(parents=True)
    bad = pkg / "maps" / "x.py"
    bad.write_text("from ..io.writers import _secret\nfrom .y import _fine\n")
    assert _private_imports(bad, pkg) == [
        "impactzones.maps.x imports _secret from impactzones.io.writers"
    ]
