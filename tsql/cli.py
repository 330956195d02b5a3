"""The `tsql` command: `tsql [PATH]` opens the shell; subcommands do one job each.

Subcommands live in their own modules and are imported only when used, so the shell
starts fast and each command's code has an obvious home.
"""

from __future__ import annotations

import importlib
import os
import sys

# name -> "module:function"; the function takes the remaining arguments and returns an exit code
SUBCOMMANDS = {
    "demo": "tsql.demo:main",
    "query": "tsql.commands:query_main",
    "load": "tsql.commands:load_main",
    "serve": "tsql.server.cli:main",
    "bench": "tsql.commands:bench_main",
}


def default_data_dir() -> str:
    """Where `tsql`, `tsql query` and `tsql load` keep data when given no path:
    $TSQL_DATA, else $XDG_DATA_HOME/tsql, else ~/.local/share/tsql."""
    if os.environ.get("TSQL_DATA"):
        return os.environ["TSQL_DATA"]
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "tsql")


def open_database(path: str | None, err=None, clock=None):
    """Open the persistent database in directory `path` (the default data directory when
    None), saying so on `err` when the directory is new. Raises tsql.Error on failure."""
    import tsql

    path = os.path.abspath(path or default_data_dir())
    if os.path.exists(path) and not os.path.isdir(path):
        raise tsql.ValidationError(f"{path} is not a directory: a tsql database is a directory.")
    if not os.path.exists(path) and err is not None:
        print(f"tsql: creating a new database directory {path}", file=err)
    return tsql.connect(path, clock=clock)


def commands_help() -> str:
    """One line per subcommand: its name and the first line of its function's docstring."""
    lines = []
    for name, target in SUBCOMMANDS.items():
        module, function = target.split(":")
        doc = getattr(importlib.import_module(module), function).__doc__ or ""
        lines.append(f"  tsql {name:<8} {doc.strip().splitlines()[0] if doc.strip() else ''}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in SUBCOMMANDS:
            module, function = SUBCOMMANDS[argv[0]].split(":")
            return getattr(importlib.import_module(module), function)(argv[1:]) or 0
        from .repl import main as repl_main

        return repl_main(argv) or 0
    except BrokenPipeError:
        # the reader went away (`tsql query ... | head`): stop quietly, as other tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
