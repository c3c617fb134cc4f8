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
