"""Java regular expressions translated to Python's `re` (executor/functions/javaregex.py)."""

from __future__ import annotations

import re

import pytest

import tsql
from tsql.executor.functions.javaregex import compile_java, java_replacement, java_to_python


@pytest.mark.parametrize("java, text, found", [
    (r"a\Q.*\Eb", "a.*b", True),
    (r"a\Q.*\Eb", "axxb", False),
    (r"(?<year>\d{4})-\k<year>", "2020-2020", True),
    (r"\p{Lu}\p{Ll}+", "Élan", True),
    (r"^\P{L}+$", "123 !", True),
    (r"^\p{IsAlphabetic}+$", "abcé", True),
    (r"^\p{Digit}+$", "١٢", False),  # POSIX classes are ASCII in Java
    (r"^\w+$", "naïve", False),  # so are \w, \d, \s
    (r"^\x{263A}$", "☺", True),
    (r"^\0101$", "A", True),
    (r"a\z", "a\n", False),
    (r"a\Z", "a\n", True),
    (r"a*+a", "aaa", False),  # possessive
    (r"(?>ab|a)c", "ac", True),
    (r"[]a]", "]", True),
    (r"\h", "\u00a0", True),
    (r"\R", "\r\n", True),
])
def test_java_syntax(java, text, found):
    assert (compile_java(java).search(text) is not None) is found


@pytest.mark.parametrize("java", [r"[a-z&&[^aeiou]]", r"\G", r"\p{NoSuchClass}", "(", r"\k<nope>"])
def test_unsupported_or_invalid_patterns_fail_clearly(java):
    with pytest.raises(tsql.QueryExecutionError, match="Invalid regular expression"):
        compile_java(java)


@pytest.mark.parametrize("replacement, result", [
    ("[$1]", "x[b]y"),
    ("${g}${g}", "xbby"),
    (r"\$1", "x$1y"),
    ("$10", "xb0y"),  # Java takes digits only while they name a group
    ("", "xy"),
])
def test_java_replacements(replacement, result):
    compiled = compile_java("(?<g>b)")
    assert compiled.sub(java_replacement(replacement, compiled), "xby") == result


@pytest.mark.parametrize("replacement, message", [
    ("$2", "Illegal group reference: group index 2 is out of range"),
    ("${h}", "Illegal group reference: no group h"),
    ("$", "Illegal group reference: group index is missing"),
    ("a\\", "Illegal replacement: character to be escaped is missing"),
])
def test_bad_replacements(replacement, message):
    with pytest.raises(tsql.QueryExecutionError, match=re.escape(message)):
        java_replacement(replacement, compile_java("(?<g>b)"))


def test_translation_keeps_what_python_shares():
    assert java_to_python(r"^(a|b)+\d{2,3}$") == r"^(a|b)+\d{2,3}$"
    assert java_to_python("(?<name>x)") == "(?P<name>x)"
