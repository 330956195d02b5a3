"""What the planner may know of the world: two small interfaces, wired in by tsql.

`CatalogView` answers table and metadata questions; `FunctionCatalog` answers which
functions exist, their kind and signatures, and folds constant expressions (by asking
the executor, which the planner never imports).
"""

from __future__ import annotations

from typing import Protocol

from .expressions import Expr
from .plan import TableColumn


class CatalogView(Protocol):
    def has_database(self, database: str) -> bool: ...

    def resolve_table(self, database: str, table: str) -> tuple[str, str] | None:
        """The (database, table) names as stored, matching exactly or else ignoring case."""

    def table_columns(self, database: str, table: str) -> list[TableColumn]: ...

    def list_databases(self) -> list[str]: ...

    def list_tables(self, database: str) -> list[str]: ...

    def list_measures(self, database: str, table: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
        """(measure_name, data_type, [(dimension_name, data_type)]) per measure."""


class FunctionCatalog(Protocol):
    def kind(self, name: str) -> str | None:
        """'scalar', 'aggregate', 'window' or None for an unknown function."""

    def signatures(self, name: str) -> list: ...

    def deterministic(self, name: str) -> bool:
        """False for functions whose value changes per call (rand, shuffle): never folded."""

    def castable(self, source, target) -> bool:
        """Whether a CAST from one type to the other exists."""

    def fold(self, expr: Expr):
        """The value of a constant expression (raises the executor's error if it fails)."""
