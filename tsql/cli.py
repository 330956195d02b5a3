"""The `tsql` command: `tsql [PATH]` opens the shell; subcommands do one job each.

Subcommands live in their own modules and are imported only when used, so the shell
starts fast and each command's code has an obvious home.
"""

from __future__ import annotations

import importlib
import sys

# name -> "module:function"; the function takes the remaining arguments and returns an exit code
SUBCOMMANDS = {
    "demo": "tsql.demo:main",
    "query": "tsql.commands:query_main",
    "load": "tsql.commands:load_main",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        module, function = SUBCOMMANDS[argv[0]].split(":")
        return getattr(importlib.import_module(module), function)(argv[1:]) or 0
    from .repl import main as repl_main

    return repl_main(argv) or 0


if __name__ == "__main__":
    sys.exit(main())
