"""The shell: `tsql [PATH]` reads statements, runs them and prints their results.

On a terminal it is an interactive prompt (prompt_toolkit: history, statements spanning
lines until `;`, keyword and name completion on Tab); otherwise it runs the statements
it reads from stdin and exits non-zero if any failed. Backslash commands (`\\?`) describe
the catalog and change settings.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from .completion import SqlCompleter, quote_name
from .errors import Error, ResourceNotFoundError, ValidationError
from .render import format_error, format_table, result_table, row_count

PROMPT = "tsql> "
CONTINUATION = "   -> "
MAX_SHOWN_ROWS = 1000  # the shell draws at most this many rows of a result

HELP = [
    ("\\?", "show these commands"),
    ("\\l", "list databases"),
    ("\\dt [DATABASE]", "list tables (of all databases, or of one)"),
    ("\\d TABLE", "describe a table (TABLE is db.table, quoted names allowed)"),
    ("\\timing [on|off]", "show the time each statement takes (toggles without argument)"),
    ("\\q", "quit (also Ctrl-D, quit, exit)"),
]


# --- reading statements -----------------------------------------------------------------------

def split_statements(text: str) -> tuple[list[str], str]:
    """Split `text` into complete statements and an unterminated rest.

    SQL statements end with `;` outside quotes and comments; a backslash command at the
    start of a statement ends with its line. Statements come back without the `;` and
    stripped; those holding nothing but comments are dropped. The rest is "" when the
    text ends cleanly (whitespace and comments only), else its unfinished tail.
    """
    statements = []
    start = i = 0
    content = False  # anything but whitespace and comments since `start`
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and not content:
            end = text.find("\n", i)
            end = n if end < 0 else end
            statements.append(text[i:end].strip().rstrip(";").strip())
            start = i = end
            continue
        if ch in "'\"":
            end = _closing_quote(text, i)
            if end < 0:
                return statements, text[start:].strip()
            content = True
            i = end + 1
            continue
        if text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                return statements, text[start:].strip()
            i = end + 2
            continue
        if ch == ";":
            if content:
                statements.append(text[start:i].strip())
            start, content = i + 1, False
        elif not ch.isspace():
            content = True
        i += 1
    return statements, text[start:].strip() if content else ""


def _closing_quote(text: str, i: int) -> int:
    """Index of the quote closing the one at `i` (a doubled quote escapes), or -1."""
    quote = text[i]
    j = i + 1
    while True:
        j = text.find(quote, j)
        if j < 0:
            return -1
        if text.startswith(quote * 2, j):
            j += 2
            continue
        return j


_BARE_WORDS = {"quit": "\\q", "exit": "\\q", "help": "\\?"}  # alone on a line, as in psql


def is_complete(text: str) -> bool:
    """Whether Enter should run the input: every statement is terminated (or the input
    is a backslash command, blank, or a bare quit/exit/help)."""
    return text.strip().lower() in _BARE_WORDS or split_statements(text)[1] == ""


# --- names in commands ------------------------------------------------------------------------

def parse_qualified_name(text: str) -> list[str]:
    """`db.table`, `"db"."table"`, `table` -> its parts, quotes removed."""
    parts, i, text = [], 0, text.strip()
    while True:
        if text.startswith('"', i):
            end = _closing_quote(text, i)
            if end < 0:
                raise ValidationError(f"Unterminated quoted name in {text!r}.")
            parts.append(text[i + 1:end].replace('""', '"'))
            i = end + 1
        else:
            end = text.find(".", i)
            end = len(text) if end < 0 else end
            parts.append(text[i:end].strip())
            i = end
        if i >= len(text):
            return parts
        if text[i] != ".":
            raise ValidationError(f"Expected '.' after {parts[-1]!r} in {text!r}.")
        i += 1


# --- the shell --------------------------------------------------------------------------------

class Shell:
    """Runs statements and backslash commands against a Database, printing to `out`
    (results) and `err` (errors and notices)."""

    def __init__(self, db, out=None, err=None, timing: bool = False, max_rows: int = MAX_SHOWN_ROWS):
        self.db = db
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.timing = timing
        self.max_rows = max_rows
        self.done = False  # set by \q
        self.session = None  # the prompt_toolkit session, once run_interactive made it

    def _print(self, text: str, stream=None) -> None:
        stream = stream or self.out
        stream.write(text + "\n")
        stream.flush()

    def execute(self, text: str) -> bool:
        """Run every statement and command in `text` (an unterminated rest included);
        True when none failed. Stops after \\q."""
        word = text.strip().lower()
        if word in _BARE_WORDS:
            statements = [_BARE_WORDS[word]]
        else:
            statements, rest = split_statements(text)
            if rest:
                statements.append(rest)
        ok = True
        for statement in statements:
            if self.done:
                break
            ok &= self.command(statement) if statement.startswith("\\") else self.query(statement)
        return ok

    def query(self, sql: str) -> bool:
        started = time.perf_counter()
        try:
            result = self.db.query(sql)
            seconds = time.perf_counter() - started
            self._print(result_table(result, self.max_rows, seconds if self.timing else None) + "\n")
            return True
        except KeyboardInterrupt:
            self._print("Cancelled.", self.err)
        except Exception as e:  # noqa: BLE001 - a bug must not end the session; format_error says it is one
            self._print(format_error(e, sql), self.err)
        return False

    # backslash commands ---------------------------------------------------------------------

    def command(self, line: str) -> bool:
        name, _, arg = line.partition(" ")
        arg = arg.strip()
        handler = {
            "\\?": self._help, "\\h": self._help, "\\q": self._quit, "\\l": self._databases,
            "\\dt": self._tables, "\\d": self._describe, "\\timing": self._timing,
        }.get(name)
        if handler is None:
            self._print(f"Unknown command {name}. \\? lists the commands.", self.err)
            return False
        try:
            handler(arg)
            return True
        except Error as e:
            self._print(f"{name}: {e.message}", self.err)
            return False

    def _help(self, arg: str) -> None:
        width = max(len(c) for c, _ in HELP)
        lines = [f"  {c:<{width}}  {d}" for c, d in HELP]
        lines.append("SQL statements end with ';' and may span lines. Tab completes keywords, functions and names.")
        self._print("\n".join(lines))

    def _quit(self, arg: str) -> None:
        self.done = True

    def _timing(self, arg: str) -> None:
        if arg.lower() not in ("", "on", "off"):
            raise ValidationError("\\timing takes on, off or nothing.")
        self.timing = (arg.lower() == "on") if arg else not self.timing
        self._print(f"Timing is {'on' if self.timing else 'off'}.")

    def _databases(self, arg: str) -> None:
        rows = [[d, str(self.db.describe_database(d)["TableCount"])] for d in self.db.list_databases()]
        self._print(format_table(["Database", "Tables"], rows, [False, True]) + f"\n({row_count(len(rows))})\n")

    def _tables(self, arg: str) -> None:
        databases = [self._resolve_database(arg)] if arg else self.db.list_databases()
        rows = []
        for database in databases:
            for table in self.db.list_tables(database):
                info = self.db.describe_table(database, table)
                retention = info["RetentionProperties"]
                rows.append([
                    database, table, f"{retention['MemoryStoreRetentionPeriodInHours']} hours",
                    f"{retention['MagneticStoreRetentionPeriodInDays']} days",
                ])
        names = ["Database", "Table", "Memory store retention", "Magnetic store retention"]
        self._print(format_table(names, rows, [False, False, True, True]) + f"\n({row_count(len(rows))})\n")

    def _describe(self, arg: str) -> None:
        if not arg:
            return self._tables(arg)
        database, table = self._resolve_table(arg)
        qualified = f"{quote_name(database)}.{quote_name(table)}"
        self._print(result_table(self.db.query(f"DESCRIBE {qualified}")))
        info = self.db.describe_table(database, table)
        retention = info["RetentionProperties"]
        key = info["Schema"]["CompositePartitionKey"][0]
        writes = info["MagneticStoreWriteProperties"]["EnableMagneticStoreWrites"]
        self._print(
            f"Memory store retention {retention['MemoryStoreRetentionPeriodInHours']} hours, magnetic store "
            f"retention {retention['MagneticStoreRetentionPeriodInDays']} days, magnetic store writes "
            f"{'on' if writes else 'off'}, partition key "
            f"{'measure_name' if key['Type'] == 'MEASURE' else 'dimension ' + key['Name']}.\n"
        )

    def _resolve_database(self, name: str) -> str:
        parts = parse_qualified_name(name)
        if len(parts) != 1:
            raise ValidationError(f"Expected a database name, not {name!r}.")
        return self._database(parts[0])

    def _database(self, name: str) -> str:
        return _match(name, self.db.list_databases(), f"Database '{name}' not found. \\l lists the databases.")

    def _resolve_table(self, name: str) -> tuple[str, str]:
        parts = parse_qualified_name(name)
        if len(parts) == 2:
            database = self._database(parts[0])
            missing = f"Table '{name}' not found. \\dt lists the tables."
            return database, _match(parts[1], self.db.list_tables(database), missing)
        if len(parts) != 1:
            raise ValidationError(f"Expected db.table, not {name!r}.")
        found = [(d, t) for d in self.db.list_databases() for t in self.db.list_tables(d)
                 if t.lower() == parts[0].lower()]
        exact = [(d, t) for d, t in found if t == parts[0]]
        found = exact or found
        if len(found) != 1:
            problem = "not found" if not found else "in several databases; name it as db.table"
            raise ResourceNotFoundError(f"Table '{parts[0]}' {problem}. \\dt lists the tables.")
        return found[0]

    # reading input ----------------------------------------------------------------------------

    def run_script(self, stream) -> int:
        """Run all statements read from `stream`; 1 if any failed, else 0."""
        return 0 if self.execute(stream.read()) else 1

    def run_interactive(self, input=None, output=None, banner: str | None = None) -> int:
        """The prompt loop, until \\q or end of input. `input`/`output` are for tests
        (prompt_toolkit's pipe input and DummyOutput); None means the terminal."""
        session = self.session = self._session(input, output)
        if banner:
            self._print(banner)
        while not self.done:
            try:
                text = session.prompt()
                while not is_complete(text):  # a dumb terminal's Enter always accepts the line
                    text += "\n" + session.prompt(CONTINUATION)
            except KeyboardInterrupt:  # Ctrl-C abandons the statement being typed
                continue
            except EOFError:  # Ctrl-D
                break
            self.execute(text)
            session.completer.refresh()
        return 0

    def _session(self, input, output):
        from prompt_toolkit import PromptSession
        from prompt_toolkit.filters import Condition

        session = PromptSession(
            message=PROMPT,
            prompt_continuation=lambda width, line, wrap: CONTINUATION,
            multiline=Condition(lambda: not is_complete(session.default_buffer.text)),
            history=_history(),
            completer=SqlCompleter(self.db),
            complete_while_typing=False,
            enable_history_search=True,
            input=input,
            output=output,
        )
        return session


def _match(name: str, names: list[str], missing: str) -> str:
    """`name` among `names`: exactly, or case-insensitively when that is unambiguous."""
    if name in names:
        return name
    close = [n for n in names if n.lower() == name.lower()]
    if len(close) == 1:
        return close[0]
    raise ResourceNotFoundError(missing)


def history_path() -> str | None:
    """$TSQL_HISTORY (empty: no history file), else ~/.tsql_history."""
    path = os.environ.get("TSQL_HISTORY")
    if path is None:
        return os.path.join(os.path.expanduser("~"), ".tsql_history")
    return path or None


def _history():
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    path = history_path()
    if path is not None:
        try:
            with open(path, "a", encoding="utf-8"):
                pass
            return FileHistory(path)
        except OSError:
            pass  # an unwritable home is no reason to refuse the shell
    return InMemoryHistory()


def banner() -> str:
    from . import __version__

    return f"tsql {__version__}: Timestream-compatible SQL. Statements end with ';'. \\? for help, \\q to quit."


# --- `tsql [PATH]` ----------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    from .cli import commands_help, default_data_dir, open_database

    class Parser(argparse.ArgumentParser):
        def format_help(self):  # the commands' modules load only when help is asked for
            self.epilog = "commands:\n" + commands_help()
            return super().format_help()

    parser = Parser(
        prog="tsql",
        description="Open the tsql shell on the database in directory PATH. With stdin not a terminal, "
                    "run the statements read from it instead (exit status 1 if any failed).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", nargs="?", metavar="PATH",
                        help=f"database directory (default: {default_data_dir()}; $TSQL_DATA overrides)")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"tsql {__version__}")
    args = parser.parse_args(argv)
    try:
        db = open_database(args.path, sys.stderr)
    except Error as e:
        print(f"tsql: {e}", file=sys.stderr)
        return 1
    with db:
        interactive = sys.stdin.isatty()
        shell = Shell(db, timing=interactive)
        if interactive:
            return shell.run_interactive(banner=banner())
        return shell.run_script(sys.stdin)
