"""The ``impactzones`` command: parsing, one library call, rendering.

The parsers are built from the options declared in :mod:`impactzones.core.options`; each
command is one call into :mod:`impactzones.workflows`, whose :class:`~impactzones.workflows.Outcome`
this module prints. Exit codes: 0 success; 2 a problem with the input or the settings (one
sentence says what and what to do next); 1 an unexpected error (rerun with ``--debug``).
"""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager

from .. import __version__
from ..core.errors import ImpactZonesError, InputError

__all__ = ["build_parser", "main", "os_error_sentence", "run_command"]

EXIT_OK, EXIT_UNEXPECTED, EXIT_INPUT = 0, 1, 2
#: stopped by the user (Ctrl-C): 128 + SIGINT, as a shell reports a process SIGINT ended
EXIT_INTERRUPTED = 130
#: Terminal tables fit this many columns unless --wide.
TERMINAL_COLUMNS = 80
#: What the CLI keeps for itself: never passed to the library.
CLI_ONLY = ("command", "func", "quiet", "debug", "wide", "json")


def os_error_sentence(exc: OSError) -> str:
    """One sentence for a file-system refusal (permissions, a file where a folder must be...).

    Examples
    --------
    >>> os_error_sentence(PermissionError(13, "Permission denied", "/x/y.csv"))
    'Cannot write or read /x/y.csv: permission denied; choose a folder you can write to (--out).'
    """
    import errno

    where = exc.filename or "a file"
    advice = {
        errno.EACCES: "permission denied; choose a folder you can write to (--out)",
        errno.EPERM: "permission denied; choose a folder you can write to (--out)",
        errno.EROFS: "the file system is read-only; choose another folder (--out)",
        errno.ENOTDIR: "part of the path is a file, not a folder; choose another path",
        errno.EISDIR: "it is a folder where a file is expected; give a file name",
        errno.EEXIST: "a file is in the way of a folder; choose another path",
        errno.ENOSPC: "the disk is full; free some space or choose another folder",
        errno.ENAMETOOLONG: "the path is too long; choose a shorter one",
    }.get(exc.errno or 0, f"{(exc.strerror or str(exc)).lower()}; check the path")
    return f"Cannot write or read {where}: {advice}."


def _one_line(message: object, limit: int | None = None) -> str:
    """A message as one line the terminal shows as written: user text inside it (a column
    or file name) cannot break the line or send escape codes; ``limit``: most characters."""
    from ..core.messages import message_text

    return message_text(message, limit=limit)


def _width() -> int | None:
    """The printed width in columns: ``COLUMNS`` when set, else the terminal's own width
    (``None``: rich measures it), else :data:`TERMINAL_COLUMNS` when the output is not a
    terminal (a pipe, a log, CI)."""
    import os

    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return None if sys.stdout.isatty() else TERMINAL_COLUMNS


def _say(text: str) -> None:
    """A note or warning on stderr, wrapped between words to the printed width."""
    from rich.console import Console

    width = _width() if not sys.stderr.isatty() else None
    Console(stderr=True, highlight=False, width=width).print(text, markup=False)


def _console(quiet: bool = False):
    from rich.console import Console

    return Console(quiet=quiet, highlight=False, width=_width())


@contextmanager
def _steps(console, quiet: bool, total: int = 4):
    """A progress bar that advances and names each step while it runs (a plain line per
    step when the output is not a terminal; nothing with --quiet)."""
    if quiet or not console.is_terminal:
        yield lambda msg: None if quiet else console.print(f"[dim]... {msg}[/dim]")
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<50}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("Starting", total=total)
        state = {"n": 0}

        def step(msg: str) -> None:
            if state["n"]:
                progress.advance(task)
            state["n"] += 1
            if state["n"] > (progress.tasks[0].total or 0):
                progress.update(task, total=state["n"])
            progress.update(task, description=msg)

        yield step
        progress.update(task, completed=progress.tasks[0].total)


# Parser: built from the declared options (impactzones.core.options)


class _Parser(argparse.ArgumentParser):
    """argparse with one sentence for a bad argument (exit 2), not the whole usage block."""

    def error(self, message: str):
        self.exit(EXIT_INPUT, f"{self.prog}: {message}; see {self.prog} --help.\n")


def _typed(opt):
    """An argparse ``type`` from a declared option: its parse, with argparse's error."""

    def parse(text: str):
        try:
            return opt.parse(text)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _add(p, opt, groups: dict) -> None:
    """One declared option as an argparse argument."""
    kw: dict = {"help": argparse.SUPPRESS if opt.hidden else opt.help_plain().replace("%", "%%")}
    if opt.kind == "bool":
        kw |= (
            {"action": "store_true"}
            if opt.const is None
            else {"action": "store_const", "const": opt.const, "dest": opt.dest or opt.name}
        )
    else:
        kw |= {"default": opt.default, "metavar": opt.metavar, "nargs": opt.nargs}
        if opt.repeat:
            kw["action"] = "append"
        if opt.choices:
            kw["choices"] = opt.choices
        elif opt.kind not in ("path", "paths", "text", "columns"):
            kw["type"] = _typed(opt)
    if not opt.positional:
        kw["dest"] = opt.dest or opt.name
        kw["required"] = opt.required or None
    if opt.exclusive and opt.exclusive not in groups:
        groups[opt.exclusive] = p.add_mutually_exclusive_group()
    target = groups[opt.exclusive] if opt.exclusive else p
    target.add_argument(*opt.flags, **{k: v for k, v in kw.items() if v is not None})


def build_parser() -> argparse.ArgumentParser:
    """The ``impactzones`` parser, built from :data:`impactzones.core.options.COMMANDS`."""
    from ..core.options import COMMANDS, command_options

    parser = _Parser(
        prog="impactzones",
        description="Crime hot spots and Impact Zone evaluation. St. Louis, MO is bundled: "
        "`impactzones demo` runs the whole pipeline on it.",
        epilog="Exit codes: 0 ok; 2 bad input or settings (the message says what to do); "
        "1 unexpected error (rerun with --debug).",
    )
    parser.add_argument("--version", action="version", version=f"impactzones {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, cmd in COMMANDS.items():
        p = sub.add_parser(name, help=cmd.help, description=cmd.description)
        groups: dict = {}
        for opt in command_options(name):
            _add(p, opt, groups)
        p.set_defaults(func=run_command)
    return parser


def run_command(args: argparse.Namespace) -> int:
    """Run a parsed command: ONE call into :mod:`impactzones.workflows`, then print its
    outcome (JSON with ``--json``, else its report; notes on stderr unless quiet)."""
    from importlib import import_module

    from ..core.collect import fewer_collections
    from ..core.options import COMMANDS

    module, name = COMMANDS[args.command].runner.split(":")
    quiet = args.quiet or getattr(args, "json", False)
    con = _console(quiet)
    kwargs = {k: v for k, v in vars(args).items() if k not in CLI_ONLY}
    _guard_inputs(args)  # before any work: no output over (or a folder round) an input
    with fewer_collections():  # the imports and a run make many objects, few garbage cycles
        runner = getattr(import_module(module), name)
        with _steps(con, quiet, total=8 if args.command in ("demo", "map", "run") else 4) as step:
            outcome = runner(progress=step, **kwargs)
    for line in outcome.warnings:
        _say(f"impactzones: warning: {_one_line(line)}")
    for line in [] if quiet else outcome.notes:
        _say(line)
    if getattr(args, "json", False):
        from ..core.files import json_text

        print(json_text(outcome.data))  # standard JSON: NaN as null
        return EXIT_OK
    from ..summaries import wrap_prose

    for block in outcome.report(args.wide):
        if isinstance(block, str):
            style = "dim" if type(block).__name__ == "Note" else None
            text = wrap_prose(block, con.width)
            con.print(text, markup=False, style=style, soft_wrap=True)
        else:
            _show(con, block, wide=args.wide)
    return EXIT_OK


def _guard_inputs(args: argparse.Namespace) -> None:
    """Refuse an ``--out`` (or ``--rejects``) over any input the command declares (every
    path option but the outputs: incidents, layers, base map, harm weights, crosswalk,
    study file); a folder ``--out`` may hold none of them."""
    from ..core.options import COMMANDS, OUTPUT_PATHS, command_options

    inputs: list = []
    for opt in command_options(args.command):
        if opt.kind in ("path", "paths") and opt.name not in OUTPUT_PATHS:
            value = getattr(args, opt.dest or opt.name, None)
            inputs += value if isinstance(value, list) else [value] if value else []
    from ..core.files import check_apart

    outs = [getattr(args, "out", None), getattr(args, "rejects", None)]
    check_apart(inputs, outs, folder=COMMANDS[args.command].out_folder)


def _show(con, table, *, wide: bool = False) -> None:
    """Print a :class:`~impactzones.summaries.TextTable` within :data:`TERMINAL_COLUMNS`
    (dropping the columns it names in ``drop``, in that order, until it fits; ``wide``
    keeps them all), then say what was dropped and explain the terms it shows."""
    from rich import box
    from rich.table import Table

    from ..summaries import TERMS

    limit = min(con.width, TERMINAL_COLUMNS)
    keep = list(range(len(table.columns)))  # by position: headers may repeat ("chg")
    t = _rich_table(Table, box, table, keep)
    dropped = []
    for name in () if wide else table.drop:
        if con.measure(t).maximum < limit:
            break
        if name in table.columns:
            keep.remove(table.columns.index(name))
            dropped.append(name)
            t = _rich_table(Table, box, table, keep)
    old = con.width
    need = con.measure(t, options=con.options.update(max_width=1000)).maximum
    con.width = max(need, old) if wide else limit
    try:
        con.print(t)
    finally:
        con.width = old
    if dropped:
        con.print(f"Not shown in {limit} columns: {', '.join(dropped)} "
                  "(--wide shows every column).", style="dim", markup=False)  # fmt: skip
    used = [v for k, v in TERMS.items() if k in " ".join(table.columns[i] for i in keep)]
    if used:
        con.print("; ".join(used) + ".", style="dim", markup=False)


def _rich_table(Table, box, table, keep: list):
    """The rich table of the columns at positions ``keep`` of a TextTable (user text shown
    as text, never as markup)."""
    from rich.text import Text

    t = Table(title=Text(table.title), box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    for i in keep:
        c = table.columns[i]
        t.add_column(c, justify="left" if c in table.left else "right")
    for row in table.rows:
        t.add_row(*(Text(str(row[i])) for i in keep))
    return t


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_OK
    import warnings

    from ..core.collect import no_collection_at_exit

    no_collection_at_exit()  # a command's process ends after it: seconds saved on the way out

    shown: set[str] = set()

    def show(message, category, *_args, **_kwargs):  # no source path; each text once
        text = _one_line(message)
        if text not in shown:  # a picture drawn here and in the worker warns in both
            shown.add(text)
            _say(f"impactzones: warning: {text}")

    previous, warnings.showwarning = warnings.showwarning, show
    try:
        return args.func(args)
    except ImpactZonesError as exc:
        if args.debug:
            raise
        if getattr(args, "json", False) and exc.data is not None:  # machine-readable too
            from ..core.files import json_text

            print(json_text(exc.data))
        print(f"impactzones: {_one_line(exc)}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("impactzones: interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # the file system said no: a setting to change, not a bug
        if args.debug:
            raise
        print(f"impactzones: {os_error_sentence(exc)}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # never a bare traceback for a user
        if args.debug:
            raise
        print(
            f"impactzones: unexpected error ({type(exc).__name__}: {_one_line(exc, 300)}); "
            "rerun with --debug for the details and report it.",
            file=sys.stderr,
        )
        return EXIT_UNEXPECTED
    finally:
        warnings.showwarning = previous
