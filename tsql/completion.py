"""Tab completion for the shell: keywords of the grammar, function names, databases,
tables and columns, and the backslash commands."""

from __future__ import annotations

import re
from importlib import resources

from prompt_toolkit.completion import Completer, Completion

from .errors import Error

_WORD = re.compile(r'("[^"]*|[A-Za-z0-9_$@]*)\Z')
_QUALIFIER = re.compile(r'("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_]*)\.\Z')
COMMANDS = ["\\?", "\\d", "\\dt", "\\l", "\\q", "\\timing"]
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def quote_name(name: str) -> str:
    """A name as SQL needs it: bare when it is a plain, unreserved identifier."""
    if _PLAIN_NAME.match(name) and name.upper() not in RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def _grammar_keywords() -> tuple[set[str], set[str]]:
    """(keywords, reserved words) as grammar/timestream.lark defines them."""
    grammar = resources.files("tsql.grammar").joinpath("timestream.lark").read_text()
    keywords = set(re.findall(r'"([A-Z_]+)"i', grammar))
    reserved_pattern = re.search(r"NAME: /\(\?!\(\?:([a-z_|]+)\)", grammar)
    reserved = set(reserved_pattern.group(1).upper().split("|")) if reserved_pattern else set()
    return keywords, reserved


KEYWORDS, RESERVED = _grammar_keywords()


def function_names() -> list[str]:
    """The function library's names, plus those the planner evaluates itself (now, ago, ...)."""
    from .executor import REGISTRY
    from .planner.binder import Binder

    names = {n for n in REGISTRY.functions if not n.startswith("$")}
    names |= {n[len("_fn_"):] for n in dir(Binder) if n.startswith("_fn_")}
    return sorted(names)


class SqlCompleter(Completer):
    """Completes the word before the cursor. Names are read from the database when the
    completer is made and on `refresh()` (the shell calls it after each input)."""

    def __init__(self, db):
        self.db = db
        self.keywords = sorted(KEYWORDS)
        self.functions = function_names()
        self.refresh()

    def refresh(self) -> None:
        self.tables: dict[str, list[str]] = {}
        self.columns: set[str] = set()
        for database in self.db.list_databases():
            self.tables[database] = self.db.list_tables(database)
            for table in self.tables[database]:
                try:
                    described = self.db.query(f"DESCRIBE {quote_name(database)}.{quote_name(table)}")
                except Error:
                    continue  # a table dropped meanwhile
                self.columns.update(row[0] for row in described.rows)

    def get_completions(self, document, complete_event):
        before = document.text_before_cursor
        word = _WORD.search(before).group(1)
        head = before[: len(before) - len(word)]
        if before.lstrip().startswith("\\"):
            yield from self._command_completions(before.lstrip(), word)
            return
        qualifier = _QUALIFIER.search(head)
        candidates = []
        if qualifier and self._database_named(qualifier.group(1)):
            candidates = [(t, "table") for t in self.tables[self._database_named(qualifier.group(1))]]
        elif not word:
            return  # everything would match: offer nothing rather than hundreds of words
        else:
            candidates += [(d, "database") for d in self.tables]
            candidates += [(t, "table") for tables in self.tables.values() for t in tables]
            candidates += [(c, "column") for c in sorted(self.columns)]
            if not word.startswith('"'):
                upper = word[:1].isupper() or not word
                candidates += [(k if upper else k.lower(), "keyword") for k in self.keywords]
                candidates += [(f, "function") for f in self.functions]
        typed = word.lstrip('"').lower()
        seen = set()
        for name, kind in candidates:
            if not name.lower().startswith(typed) or name in seen:
                continue
            seen.add(name)
            text = name if kind in ("keyword", "function") else quote_name(name)
            if word.startswith('"') and not text.startswith('"'):
                text = '"' + name.replace('"', '""') + '"'
            yield Completion(text, start_position=-len(word), display_meta=kind)

    def _command_completions(self, line: str, word: str):
        if " " not in line:
            for command in COMMANDS:
                if command.startswith(line):
                    yield Completion(command, start_position=-len(line))
            return
        command = line.split(" ", 1)[0]
        if command == "\\d":
            names = [f"{quote_name(d)}.{quote_name(t)}" for d, tables in self.tables.items() for t in tables]
        elif command == "\\dt":
            names = [quote_name(d) for d in self.tables]
        else:
            return
        typed = line.split(" ", 1)[1].lstrip()
        for name in names:
            if name.lower().lstrip('"').startswith(typed.lower().lstrip('"')):
                yield Completion(name, start_position=-len(typed))

    def _database_named(self, quoted: str) -> str | None:
        name = quoted[1:-1].replace('""', '"') if quoted.startswith('"') else quoted
        if name in self.tables:
            return name
        close = [d for d in self.tables if d.lower() == name.lower()]
        return close[0] if len(close) == 1 else None
