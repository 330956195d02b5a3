"""One-shot commands: `tsql query` prints one result, `tsql load` writes a CSV or Parquet
file into a table."""

from __future__ import annotations

import argparse
import math
import os
import sys

from .errors import Error, RejectedRecordsError
from .render import FORMATS, format_error, render

MAX_REASONS = 5  # rejected records `tsql load` describes one by one


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    from .cli import default_data_dir

    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--db", metavar="PATH", help=f"database directory (default: {default_data_dir()})")
    return parser


# --- tsql query -------------------------------------------------------------------------------

def query_main(argv: list[str], stdin=None, stdout=None, stderr=None) -> int:
    """Run one SQL statement and print its result (a table, CSV or JSON)."""
    from .cli import open_database

    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    parser = _parser("tsql query", query_main.__doc__)
    parser.add_argument("sql", metavar="SQL", help="the statement; '-' reads it from stdin")
    parser.add_argument("--format", "-f", choices=FORMATS, default="table",
                        help="table (aligned, for people), csv (RFC 4180 with a header row) or json "
                             "(an array of objects); default table")
    args = parser.parse_args(argv)
    sql = stdin.read() if args.sql == "-" else args.sql
    try:
        with open_database(args.db, stderr) as db:
            stdout.write(render(db.query(sql), args.format))
        return 0
    except Exception as e:  # noqa: BLE001 - format_error reports a non-tsql exception as a bug
        print(format_error(e, sql), file=stderr)
        return 1


# --- tsql load --------------------------------------------------------------------------------

def load_main(argv: list[str], stdout=None, stderr=None) -> int:
    """Load a CSV or Parquet file into a table (created when missing)."""
    from .cli import open_database

    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    parser = _parser("tsql load", LOAD_HELP)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("file", metavar="FILE", help="a .csv or .parquet file")
    parser.add_argument("--database", required=True, help="database to load into (created when missing)")
    parser.add_argument("--table", help="table to load into (created when missing; default: the file's name)")
    parser.add_argument("--measure-name", help="measure name of wide rows (multi-measure records) "
                                               "when the file has no measure_name column")
    parser.add_argument("--dimensions", metavar="A,B,...", default="",
                        help="columns to read as dimensions even if they hold numbers")
    parser.add_argument("--time-column", default="time", help="the column holding the time (default: time)")
    parser.add_argument("--time-unit", choices=TIME_UNITS, default="ms",
                        help="unit of a numeric time column (default ms, as Timestream's TimeUnit); "
                             "text times are read as ISO 8601 / 'YYYY-MM-DD HH:MM:SS' in UTC")
    parser.add_argument("--format", choices=("csv", "parquet"), help="file format (default: from the file name)")
    parser.add_argument("--memory-retention-hours", type=int,
                        help="memory store retention of a table created here (default: enough to hold "
                             "the file's oldest record)")
    args = parser.parse_args(argv)
    table = args.table or os.path.splitext(os.path.basename(args.file))[0]
    try:
        frame = read_frame(args.file, args.format, args.time_column, args.time_unit,
                           [d for d in args.dimensions.split(",") if d])
        with open_database(args.db, stderr) as db:
            created = _ensure_table(db, args.database, table, frame, args.memory_retention_hours)
            try:
                db.write_frame(args.database, table, frame, measure_name=args.measure_name)
                rejected = []
            except RejectedRecordsError as e:
                rejected = e.rejected_records
    except (Error, OSError, ValueError) as e:
        print(format_error(e) if isinstance(e, Error) else f"tsql load: {e}", file=stderr)
        return 1
    written = len(frame) - len(rejected)
    target = f'"{args.database}"."{table}"'
    print(f"Loaded {written} of {len(frame)} records into {target}{' (created)' if created else ''}.", file=stdout)
    if rejected:
        print(f"{len(rejected)} records were rejected:", file=stderr)
        for r in rejected[:MAX_REASONS]:
            print(f"  record {r['RecordIndex']}: {r['Reason']}", file=stderr)
        if len(rejected) > MAX_REASONS:
            print(f"  ... and {len(rejected) - MAX_REASONS} more", file=stderr)
        return 1
    return 0


LOAD_HELP = """Load a CSV or Parquet file into a table through Database.write_frame.

The file is long form when it has measure_value::<type> columns (single-measure
records: time, measure_name, measure_value::double|bigint|varchar|boolean, the rest
dimensions) and wide form otherwise (multi-measure records: time, text columns as
dimensions, the other columns as measures, named by a measure_name column or
--measure-name). `tsql query --format csv` writes files this command reads back.
"""
TIME_UNITS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def read_frame(path: str, fmt: str | None, time_column: str, time_unit: str, dimensions: list[str]):
    """The file as a pandas frame ready for write_frame: a `time` column of datetimes and
    dimensions as text."""
    import pandas as pd

    fmt = fmt or ("parquet" if path.lower().endswith((".parquet", ".pq")) else "csv")
    if fmt == "parquet":
        frame = pd.read_parquet(path)
    else:
        header = pd.read_csv(path, nrows=0).columns
        long_form = any(str(c).startswith("measure_value::") for c in header)
        # dimension values are text even when they look like numbers (ids, zip codes)
        text_columns = [c for c in header if c in dimensions or (
            long_form and c not in (time_column, "measure_name") and not str(c).startswith("measure_value::"))]
        frame = pd.read_csv(path, dtype={c: str for c in text_columns}, keep_default_na=False,
                            na_values={c: [""] for c in header})
    missing = [d for d in dimensions if d not in frame.columns]
    if missing:
        raise ValueError(f"no column {missing[0]!r} in {path}")
    for d in dimensions:
        frame[d] = frame[d].map(lambda v: None if pd.isna(v) else str(v)).astype(object)
    if time_column not in frame.columns:
        raise ValueError(f"no time column {time_column!r} in {path} (choose one with --time-column)")
    if time_column != "time":
        if "time" in frame.columns:
            raise ValueError(f"{path} has both a 'time' column and the time column {time_column!r}")
        frame = frame.rename(columns={time_column: "time"})
    times = frame["time"]
    if pd.api.types.is_numeric_dtype(times.dtype):
        if times.isna().any():
            raise ValueError(f"{path} has rows without a time")
        frame["time"] = pd.to_datetime(times.astype("int64") * TIME_UNITS[time_unit], unit="ns")
    elif not pd.api.types.is_datetime64_any_dtype(times.dtype):
        frame["time"] = pd.to_datetime(times, utc=True, format="mixed").dt.tz_localize(None)
    return frame


def _ensure_table(db, database: str, table: str, frame, memory_hours: int | None) -> bool:
    """Create the database and table when missing; True when the table is new. A new
    table's memory store keeps the file's oldest record (at most a year, Timestream's limit)."""
    if database not in db.list_databases():
        db.create_database(database)
    if table in db.list_tables(database):
        return False
    if memory_hours is None:
        oldest = frame["time"].min().value if len(frame) else db.clock.now_ns()
        age_hours = (db.clock.now_ns() - oldest) / 3.6e12
        memory_hours = min(max(math.ceil(age_hours) + 1, 1), 8766)
    db.create_table(database, table, memory_retention_hours=memory_hours)
    return True


def bench_main(argv: list[str]) -> int:
    """Run a benchmark from bench/ (tsql bench tsbs --hosts 100 --hours 12); same as python -m bench."""
    import os
    import sys

    sys.path.insert(0, os.getcwd())
    try:
        from bench.__main__ import main
    except ImportError:
        print("tsql bench runs the benchmarks of a tsql source checkout: run it from the repository root.",
              file=sys.stderr)
        return 2
    return main(argv)
