"""The `tsql` command run as a user runs it: a subprocess with piped stdin, and the
subcommands' entry points in process for the cases that need no new interpreter."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import tsql
from tsql.cli import SUBCOMMANDS, default_data_dir
from tsql.commands import load_main, query_main


def tsql_command() -> list[str]:
    script = Path(sys.executable).parent / "tsql"  # the console script `pip install` made
    return [str(script)] if script.exists() else [sys.executable, "-m", "tsql.cli"]


@pytest.fixture
def env(tmp_path):
    """An environment whose home, data directory and history are all under tmp_path."""
    env = dict(os.environ)
    env.update({"HOME": str(tmp_path), "TSQL_DATA": str(tmp_path / "data"), "TSQL_HISTORY": ""})
    env.pop("TSQL_DEBUG", None)
    return env


def run(args, env, stdin=""):
    # bytes, not text mode, which would turn the CSV's CRLF into LF
    done = subprocess.run(tsql_command() + args, input=stdin.encode(), capture_output=True, env=env, timeout=120)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def test_shell_reads_statements_from_piped_stdin(tmp_path, env):
    script = (
        "SELECT 1 AS one;\n"
        "-- a comment; with a semicolon\n"
        "SELECT 'a;b' AS s,\n       2.5 AS d;\n"
        "\\dt\n"
    )
    done = run([str(tmp_path / "db")], env, script)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        " one\n-----\n   1\n(1 row)\n\n"
        " s   | d\n-----+-----\n a;b | 2.5\n(1 row)\n\n"
        " Database | Table | Memory store retention | Magnetic store retention\n"
        "----------+-------+------------------------+--------------------------\n"
        "(0 rows)\n\n"
    )
    assert done.stderr == f"tsql: creating a new database directory {tmp_path / 'db'}\n"


def test_shell_exits_1_when_a_statement_fails_and_never_prints_a_traceback(tmp_path, env):
    done = run([], env, "SELECT 1/0;\nSELECT nope FROM x.y;\nSELECT 2 AS two;\n")
    assert done.returncode == 1
    assert done.stdout == " two\n-----\n   2\n(1 row)\n\n"
    assert done.stderr == (
        f"tsql: creating a new database directory {tmp_path / 'data'}\n"
        "QueryExecutionException: Division by zero\n"
        "ValidationException: Requested database 'x' not found for identifier 'x.y' at line 1:18\n"
        "  SELECT nope FROM x.y\n"
        "                   ^\n"
    )
    assert (tmp_path / "data").is_dir()  # $TSQL_DATA is the default data directory


def test_default_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("TSQL_DATA", str(tmp_path / "a"))
    assert default_data_dir() == str(tmp_path / "a")
    monkeypatch.delenv("TSQL_DATA")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == str(tmp_path / "xdg" / "tsql")
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_data_dir() == str(tmp_path / ".local" / "share" / "tsql")


def test_persistent_data_seen_by_query_and_load_subprocesses(tmp_path, env):
    now = pd.Timestamp.now(tz="UTC").floor("s").tz_localize(None)
    csv = tmp_path / "metrics.csv"
    csv.write_text(
        "time,host,zip,cpu,note\n"
        f"{now - pd.Timedelta(minutes=2)},h1,01234,1.5,\"a, b\"\n"
        f"{now - pd.Timedelta(minutes=1)},h2,02134,2.5,\n"
    )
    load = run(["load", str(csv), "--database", "mydb", "--measure-name", "metrics", "--dimensions", "zip"], env)
    assert load.returncode == 0, load.stderr
    assert load.stdout == 'Loaded 2 of 2 records into "mydb"."metrics" (created).\n'
    query = run(["query", "-f", "csv", "SELECT host, zip, note, cpu FROM mydb.metrics ORDER BY time"], env)
    assert query.returncode == 0, query.stderr
    assert query.stdout == 'host,zip,note,cpu\r\nh1,01234,"a, b",1.5\r\nh2,02134,,2.5\r\n'
    table = run(["query", "--db", env["TSQL_DATA"], "SELECT count(*) AS n FROM mydb.metrics"], env)
    assert table.stdout == " n\n---\n 2\n(1 row)\n"
    failed = run(["query", "SELECT * FROM mydb.nope"], env)
    assert failed.returncode == 1 and failed.stdout == ""
    assert failed.stderr == (
        "ValidationException: line 1:15: Table 'mydb.nope' does not exist\n"
        "  SELECT * FROM mydb.nope\n"
        "                ^\n"
    )


def test_help_lists_every_subcommand(env):
    done = run(["--help"], env)
    assert done.returncode == 0
    for name in SUBCOMMANDS:
        assert f"tsql {name}" in done.stdout
    assert "usage: tsql [-h] [--version] [PATH]" in done.stdout


# --- tsql query, in process -------------------------------------------------------------------------

def query(args, tmp_path, stdin=""):
    (tmp_path / "db").mkdir(exist_ok=True)
    out, err = io.StringIO(), io.StringIO()
    status = query_main(["--db", str(tmp_path / "db")] + args, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_query_formats(tmp_path):
    sql = "SELECT 1 AS n, 'x' AS s, NULL AS z UNION ALL SELECT 22, 'y,z', NULL ORDER BY n"
    assert query([sql], tmp_path)[1] == (
        " n  | s   | z\n----+-----+------\n  1 | x   | NULL\n 22 | y,z | NULL\n(2 rows)\n"
    )
    assert query(["--format", "csv", sql], tmp_path)[1] == 'n,s,z\r\n1,x,\r\n22,"y,z",\r\n'
    status, out, err = query(["--format", "json", sql], tmp_path)
    assert status == 0 and json.loads(out) == [{"n": 1, "s": "x", "z": None}, {"n": 22, "s": "y,z", "z": None}]
    assert query(["-f", "json", "-"], tmp_path, stdin="SELECT true AS b")[1] == '[\n{"b": true}\n]\n'


def test_query_syntax_error(tmp_path):
    status, out, err = query(["SELECT FROM"], tmp_path)
    assert status == 1 and out == ""
    assert err.startswith("ValidationException: line 1:8: ")
    assert err.endswith("  SELECT FROM\n         ^\n")


# --- tsql load, in process --------------------------------------------------------------------------

def load(args, tmp_path):
    (tmp_path / "db").mkdir(exist_ok=True)
    out, err = io.StringIO(), io.StringIO()
    status = load_main(["--db", str(tmp_path / "db")] + args, stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def rows(tmp_path, sql):
    with tsql.connect(str(tmp_path / "db")) as db:
        return db.query(sql).rows


def test_load_long_form_parquet_with_epoch_times(tmp_path):
    now_ms = pd.Timestamp.now(tz="UTC").value // 10**6
    frame = pd.DataFrame({
        "ts": [now_ms - 2000, now_ms - 1000, now_ms - 1000],
        "truck_id": ["007", "007", "008"],
        "measure_name": ["speed", "speed", "location"],
        "measure_value::double": [10.5, 11.0, None],
        "measure_value::varchar": [None, None, "north"],
    })
    path = tmp_path / "trucks.parquet"
    frame.to_parquet(path)
    status, out, err = load([str(path), "--database", "fleet", "--time-column", "ts"], tmp_path)
    assert (status, err) == (0, "")
    assert out == 'Loaded 3 of 3 records into "fleet"."trucks" (created).\n'
    got = rows(tmp_path, 'SELECT truck_id, measure_name, measure_value::double, measure_value::varchar, '
                         'to_milliseconds(time) FROM fleet.trucks ORDER BY time, truck_id')
    assert got == [("007", "speed", 10.5, None, now_ms - 2000), ("007", "speed", 11.0, None, now_ms - 1000),
                   ("008", "location", None, "north", now_ms - 1000)]
    # loading again into the existing table: nothing created, the same points are accepted again
    assert load([str(path), "--database", "fleet", "--time-column", "ts"], tmp_path)[1] == (
        'Loaded 3 of 3 records into "fleet"."trucks".\n'
    )


def test_load_round_trips_query_csv(tmp_path):
    now = pd.Timestamp.now(tz="UTC").floor("ms").tz_localize(None)
    src = pd.DataFrame({"time": [now - pd.Timedelta(seconds=5)], "host": ["h1"], "cpu": [35.0], "n": [3]})
    with tsql.connect(str(tmp_path / "db")) as db:
        db.create_database("src")
        db.create_table("src", "metrics")
        db.write_frame("src", "metrics", src, measure_name="m")
    status, csv, _ = query(["-f", "csv", "SELECT * FROM src.metrics"], tmp_path)
    (tmp_path / "export.csv").write_text(csv)
    assert load([str(tmp_path / "export.csv"), "--database", "copy", "--table", "metrics"], tmp_path)[0] == 0
    assert rows(tmp_path, "SELECT * FROM copy.metrics") == rows(tmp_path, "SELECT * FROM src.metrics")


def test_load_reports_rejected_records(tmp_path):
    with tsql.connect(str(tmp_path / "db")) as db:
        db.create_database("d01")
        db.create_table("d01", "metrics", memory_retention_hours=1)
    now = pd.Timestamp.now(tz="UTC").tz_localize(None)
    path = tmp_path / "m.csv"
    path.write_text(f"time,host,cpu\n{now - pd.Timedelta(minutes=1)},h1,1.0\n{now - pd.Timedelta(days=3)},h1,2.0\n")
    status, out, err = load([str(path), "--database", "d01", "--table", "metrics", "--measure-name", "m"], tmp_path)
    assert status == 1
    assert out == 'Loaded 1 of 2 records into "d01"."metrics".\n'
    assert err.startswith("1 records were rejected:\n  record 1: The record timestamp is outside the time range [")


def test_load_errors_are_one_line(tmp_path):
    assert load([str(tmp_path / "missing.csv"), "--database", "d01"], tmp_path)[2].startswith(
        "tsql load: [Errno 2] No such file or directory")
    path = tmp_path / "m.csv"
    path.write_text("when,host,cpu\n2024-01-01,h1,1\n")
    assert load([str(path), "--database", "d01"], tmp_path)[2] == (
        f"tsql load: no time column 'time' in {path} (choose one with --time-column)\n"
    )
    assert load([str(path), "--database", "d01", "--table", "metrics", "--time-column", "when"], tmp_path)[2] == (
        "ValidationException: A wide frame (multi-measure records) needs a 'measure_name' column "
        "or the measure_name argument.\n"
    )


# on a dumb terminal prompt_toolkit draws no continuation prompt; the new line shows as typed
@pytest.mark.parametrize("term, continued", [("xterm", b"->"), ("dumb", b"6 * 7\r\n")])
def test_interactive_shell_in_a_pseudo_terminal(tmp_path, env, term, continued):
    """`tsql PATH` on a terminal: the prompt, a statement typed over two lines, \\q."""
    pty = pytest.importorskip("pty")
    select = pytest.importorskip("select")
    master, slave = pty.openpty()
    env = dict(env, TERM=term, PROMPT_TOOLKIT_NO_CPR="1", TSQL_HISTORY=str(tmp_path / "history"))
    proc = subprocess.Popen(tsql_command() + [str(tmp_path / "db")], stdin=slave, stdout=slave, stderr=slave,
                            env=env, close_fds=True)
    os.close(slave)
    seen = b""

    def read_until(marker: bytes) -> None:
        nonlocal seen
        while marker not in seen:
            ready, _, _ = select.select([master], [], [], 30)
            assert ready, f"no {marker!r} in {seen!r}"
            seen += os.read(master, 4096)

    try:
        read_until(b"tsql>")  # the screen is drawn with escape sequences between the words
        os.write(master, b"SELECT 6 * 7\r")
        read_until(continued)  # no ';' yet: the statement continues on the next line
        os.write(master, b"AS answer;\r")
        read_until(b"ms)")
        os.write(master, b"\\q\r")
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        os.close(master)
    text = seen.decode(errors="replace").replace("\r\n", "\n")
    assert "tsql 0.1.0: Timestream-compatible SQL." in text
    assert " answer\n--------\n     42\n(1 row, " in text
    assert "+SELECT 6 * 7\n+AS answer;\n" in (tmp_path / "history").read_text()
