"""The shell: splitting input into statements, backslash commands, errors, and the real
prompt_toolkit session driven through a pipe."""

from __future__ import annotations

import io
import threading
import time

import pandas as pd
import pytest
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from tsql.completion import KEYWORDS, RESERVED, SqlCompleter, quote_name
from tsql.repl import Shell, is_complete, parse_qualified_name, split_statements

from ..conftest import NOW


@pytest.mark.parametrize("text, statements, rest", [
    ("SELECT 1;", ["SELECT 1"], ""),
    ("SELECT 1; SELECT 2;\n", ["SELECT 1", "SELECT 2"], ""),
    ("SELECT 1", [], "SELECT 1"),
    ("SELECT ';' AS x;", ["SELECT ';' AS x"], ""),
    ("SELECT 'it''s;' ;", ["SELECT 'it''s;'"], ""),
    ('SELECT 1 AS "a;b";', ['SELECT 1 AS "a;b"'], ""),
    ("SELECT 'open;", [], "SELECT 'open;"),
    ("SELECT 1 -- no; end\n;", ["SELECT 1 -- no; end"], ""),
    ("SELECT /* ; */ 1;", ["SELECT /* ; */ 1"], ""),
    ("SELECT /* ; 1;", [], "SELECT /* ; 1;"),
    ("-- just a comment\n", [], ""),
    ("/* c */ ; ;", [], ""),
    ("\\dt\nSELECT 1;", ["\\dt", "SELECT 1"], ""),
    ("  \\d \"sampleDB\".\"DevOps\";\n", ['\\d "sampleDB"."DevOps"'], ""),
    ("SELECT 1;\\q", ["SELECT 1", "\\q"], ""),
    ("SELECT '\\q';", ["SELECT '\\q'"], ""),
])
def test_split_statements(text, statements, rest):
    assert split_statements(text) == (statements, rest)


def test_is_complete():
    assert is_complete("SELECT 1;") and is_complete("") and is_complete("\\dt") and is_complete("quit")
    assert not is_complete("SELECT 1") and not is_complete("SELECT ';") and not is_complete("SELECT 1; SELECT")


def test_parse_qualified_name():
    assert parse_qualified_name('"sample.DB"."Dev""Ops"') == ["sample.DB", 'Dev"Ops']
    assert parse_qualified_name("sampleDB.DevOps") == ["sampleDB", "DevOps"]
    assert parse_qualified_name("DevOps") == ["DevOps"]


def test_quote_name():
    assert quote_name("DevOps") == "DevOps"
    assert quote_name("fuel-reading") == '"fuel-reading"'
    assert quote_name("table") == '"table"' and quote_name('a"b') == '"a""b"'


def test_keywords_come_from_the_grammar():
    assert {"SELECT", "FROM", "SHOW", "MEASURES", "DESCRIBE", "OVER", "NULLS"} <= KEYWORDS
    assert "TABLE" in RESERVED and "LIMIT" not in RESERVED


@pytest.fixture
def data_db(sample_db):
    frame = pd.DataFrame({
        "time": pd.to_datetime([NOW - 2 * 10**9, NOW - 10**9], unit="ns"),
        "hostname": ["h1", "h2"], "measure_name": ["cpu", "cpu"], "measure_value::double": [1.5, 22.25],
    })
    sample_db.write_frame("tsdb", "metrics", frame)
    return sample_db


def run(db, text, **kw):
    out, err = io.StringIO(), io.StringIO()
    shell = Shell(db, out=out, err=err, **kw)
    ok = shell.execute(text)
    return ok, out.getvalue(), err.getvalue(), shell


def test_statements_print_tables(data_db):
    ok, out, err, _ = run(data_db, 'SELECT hostname, measure_value::double AS cpu FROM tsdb.metrics ORDER BY 1;')
    assert ok and err == ""
    assert out == (
        " hostname | cpu\n"
        "----------+-------\n"
        " h1       |   1.5\n"
        " h2       | 22.25\n"
        "(2 rows)\n\n"
    )


def test_timing_adds_time_and_bytes_scanned(data_db):
    ok, out, err, shell = run(data_db, "\\timing\nSELECT count(*) FROM tsdb.metrics;")
    assert ok and shell.timing
    lines = out.splitlines()
    assert lines[0] == "Timing is on."
    assert lines[-2].startswith("(1 row, ") and lines[-2].endswith(" B scanned)") and " ms, " in lines[-2]
    ok, out, _, shell = run(data_db, "\\timing off\n\\timing on\n\\timing", timing=True)
    assert out == "Timing is off.\nTiming is on.\nTiming is off.\n" and not shell.timing


def test_errors_go_to_err_with_a_caret_and_the_rest_still_runs(data_db):
    ok, out, err, _ = run(data_db, "SELECT nope\n  FROM tsdb.metrics;\nSELECT 1 AS one;")
    assert not ok
    assert err == (
        "ValidationException: line 1:8: Column 'nope' does not exist\n"
        "  SELECT nope\n"
        "         ^\n"
    )
    assert out == " one\n-----\n   1\n(1 row)\n\n"


def test_list_databases_and_tables(data_db):
    data_db.create_database("other")
    _, out, _, _ = run(data_db, "\\l")
    assert out == (
        " Database | Tables\n"
        "----------+--------\n"
        " other    |      0\n"
        " tsdb     |      1\n"
        "(2 rows)\n\n"
    )
    _, out, _, _ = run(data_db, "\\dt")
    assert out == (
        " Database | Table   | Memory store retention | Magnetic store retention\n"
        "----------+---------+------------------------+--------------------------\n"
        " tsdb     | metrics |               24 hours |               73000 days\n"
        "(1 row)\n\n"
    )
    assert run(data_db, "\\dt other")[1].endswith("(0 rows)\n\n")
    ok, _, err, _ = run(data_db, "\\dt nowhere")
    assert not ok and err == "\\dt: Database 'nowhere' not found. \\l lists the databases.\n"


@pytest.mark.parametrize("name", ["tsdb.metrics", '"tsdb"."metrics"', "metrics", "TSDB.Metrics"])
def test_describe_table(data_db, name):
    ok, out, err, _ = run(data_db, f"\\d {name}")
    assert ok and err == ""
    assert out == (
        " Column                | Type      | Timestream attribute type\n"
        "-----------------------+-----------+---------------------------\n"
        " hostname              | varchar   | DIMENSION\n"
        " measure_value::double | double    | MEASURE_VALUE\n"
        " measure_name          | varchar   | MEASURE_NAME\n"
        " time                  | timestamp | TIMESTAMP\n"
        "(4 rows)\n"
        "Memory store retention 24 hours, magnetic store retention 73000 days, magnetic store writes off, "
        "partition key measure_name.\n\n"
    )


def test_describe_unknown_and_ambiguous_tables(data_db):
    assert run(data_db, "\\d nope")[2] == "\\d: Table 'nope' not found. \\dt lists the tables.\n"
    data_db.create_database("other")
    data_db.create_table("other", "metrics")
    assert run(data_db, "\\d metrics")[2] == (
        "\\d: Table 'metrics' in several databases; name it as db.table. \\dt lists the tables.\n"
    )
    assert run(data_db, '\\d "tsdb.metrics')[2] == "\\d: Unterminated quoted name in '\"tsdb.metrics'.\n"


def test_help_quit_and_unknown_commands(data_db):
    ok, out, _, shell = run(data_db, "\\?")
    assert ok and out.splitlines()[0].startswith("  \\?") and "\\dt [DATABASE]" in out and not shell.done
    for text in ("\\q", "quit", "exit", " QUIT "):
        assert run(data_db, text)[3].done
    ok, _, _, shell = run(data_db, "\\q\nSELECT nope;")
    assert ok and shell.done  # nothing runs after \q
    ok, out, err, _ = run(data_db, "\\x")
    assert (ok, out, err) == (False, "", "Unknown command \\x. \\? lists the commands.\n")


def test_run_script_exit_status(data_db):
    out, err = io.StringIO(), io.StringIO()
    assert Shell(data_db, out=out, err=err).run_script(io.StringIO("SELECT 1 AS a;\nSELECT 2 AS b")) == 0
    assert out.getvalue() == " a\n---\n 1\n(1 row)\n\n b\n---\n 2\n(1 row)\n\n"
    assert Shell(data_db, out=out, err=err).run_script(io.StringIO("SELECT 1/0;\nSELECT 1;")) == 1


def test_internal_errors_do_not_end_the_shell(data_db, monkeypatch):
    def broken(sql):
        raise RuntimeError("boom")

    monkeypatch.setattr(data_db, "query", broken)
    ok, _, err, shell = run(data_db, "SELECT 1;")
    assert not ok and not shell.done
    assert err.startswith("Internal error: RuntimeError: boom. This is a bug in tsql")


# --- the prompt_toolkit session, driven through its input ---------------------------------------

def interact(db, keys, tmp_path, monkeypatch, **kw):
    """Type `keys` into a real prompt session; returns (status, output, history file).
    `keys` is a string, or a list of (text, buffer text to wait for) steps: completion runs
    in the background, so a step waits until the buffer shows its effect."""
    history = tmp_path / "history"
    monkeypatch.setenv("TSQL_HISTORY", str(history))
    out = io.StringIO()
    shell = Shell(db, out=out, err=out, **kw)
    steps = [(keys, None)] if isinstance(keys, str) else keys
    with create_pipe_input() as pipe:

        def typist():
            for text, expect in steps:
                pipe.send_text(text)
                deadline = time.monotonic() + 10
                while expect is not None and time.monotonic() < deadline and (
                        shell.session is None or shell.session.default_buffer.text != expect):
                    time.sleep(0.01)
            pipe.close()  # end of input acts as Ctrl-D

        thread = threading.Thread(target=typist)
        thread.start()
        status = shell.run_interactive(input=pipe, output=DummyOutput(), banner="welcome")
        thread.join()
    return status, out.getvalue(), history.read_text() if history.exists() else ""


def test_session_runs_multiline_statements_and_keeps_history(data_db, tmp_path, monkeypatch):
    keys = "SELECT hostname\nFROM tsdb.metrics\n  WHERE measure_value::double > 2;\n\\q\nSELECT 'never';\n"
    status, out, history = interact(data_db, keys, tmp_path, monkeypatch)
    assert status == 0
    assert out == "welcome\n hostname\n----------\n h2\n(1 row)\n\n"
    # a new line keeps the indentation of the one before
    assert "+SELECT hostname\n+FROM tsdb.metrics\n+  WHERE measure_value::double > 2;\n" in history
    assert "+\\q\n" in history and "never" not in history


def test_session_runs_several_statements_of_one_line_and_shows_errors(data_db, tmp_path, monkeypatch):
    status, out, _ = interact(data_db, "SELECT 1 AS a; SELECT x;\n", tmp_path, monkeypatch)
    assert status == 0  # the session ended with the input, not with a failure status
    assert out == (
        "welcome\n a\n---\n 1\n(1 row)\n\n"
        "ValidationException: line 1:8: Column 'x' does not exist\n  SELECT x\n         ^\n"
    )


def test_session_ctrl_c_abandons_the_statement_being_typed(data_db, tmp_path, monkeypatch):
    _, out, _ = interact(data_db, "SELECT 'lost'\x03SELECT 'kept' AS k;\n", tmp_path, monkeypatch)
    assert out == "welcome\n k\n------\n kept\n(1 row)\n\n"


def test_session_tab_completes_keywords_and_names(data_db, tmp_path, monkeypatch):
    _, out, history = interact(data_db, [("sel\t", "select"), (" 1 AS one;\n", None)], tmp_path, monkeypatch)
    assert "+select 1 AS one;\n" in history
    assert out.endswith(" one\n-----\n   1\n(1 row)\n\n")
    steps = [("SELECT hostn\t", "SELECT hostname"), (" FROM tsd\t", "SELECT hostname FROM tsdb"),
             (".metr\t", "SELECT hostname FROM tsdb.metrics"), (";\n", None)]
    _, out, history = interact(data_db, steps, tmp_path, monkeypatch)
    assert "+SELECT hostname FROM tsdb.metrics;\n" in history
    assert out.endswith("(2 rows)\n\n")


def test_session_timing_shown_when_on(data_db, tmp_path, monkeypatch):
    _, out, _ = interact(data_db, "SELECT 1 AS a;\n", tmp_path, monkeypatch, timing=True)
    assert out.splitlines()[-2].startswith("(1 row, ") and out.splitlines()[-2].endswith(" ms)")


# --- completion ------------------------------------------------------------------------------------

def completions(db, text):
    found = SqlCompleter(db).get_completions(Document(text), None)
    return [(c.text, c.start_position, c.display_meta_text) for c in found]


def test_completion_offers_keywords_functions_and_names(data_db):
    data_db.create_database("sampleDB")
    data_db.create_table("sampleDB", "DevOps")
    assert ("SELECT", -3, "keyword") in completions(data_db, "SEL")
    assert ("select", -3, "keyword") in completions(data_db, "sel")
    assert ("approx_percentile", -6, "function") in completions(data_db, "SELECT approx")
    assert ("ago", -2, "function") in completions(data_db, "WHERE ag")  # evaluated by the planner
    assert completions(data_db, "SELECT * FROM sam") == [("sampleDB", -3, "database")]
    assert completions(data_db, "SELECT * FROM sampleDB.D") == [("DevOps", -1, "table")]
    assert completions(data_db, 'SELECT * FROM "sampleDB"."') == [('"DevOps"', -1, "table")]
    assert completions(data_db, "SELECT measure_value::") == []
    assert ("hostname", -4, "column") in completions(data_db, "SELECT host")


def test_completion_quotes_names_that_need_it(data_db):
    frame = pd.DataFrame({"time": pd.to_datetime([NOW], unit="ns"), "truck": ["t"], "fuel-reading": [1.0]})
    data_db.write_frame("tsdb", "metrics", frame, measure_name="stats")
    assert ('"fuel-reading"', -4, "column") in completions(data_db, "SELECT fuel")
    assert ('"fuel-reading"', -5, "column") in completions(data_db, 'SELECT "fuel')


def test_completion_of_backslash_commands(data_db):
    assert [c[0] for c in completions(data_db, "\\d")] == ["\\d", "\\dt"]
    assert completions(data_db, "\\d ts") == [("tsdb.metrics", -2, "")]
    assert completions(data_db, "\\dt ") == [("tsdb", 0, "")]
