"""Java regular expressions (java.util.regex syntax) as Python `re` patterns.

Most of the syntax is shared; this translates the rest: \\Q...\\E quoting, named groups
`(?<name>...)` and `\\k<name>`, `\\z`/`\\Z`, `\\h`, `\\R`, `\\x{h...}`, `\\0ooo` octal,
`\\cX`, and property classes `\\p{...}`/`\\P{...}` (POSIX classes as Java defines them,
Unicode general categories, a few binary properties). Possessive quantifiers and
atomic groups are Python's too (3.11). Character-class intersection (`&&`) and `\\G`
have no Python equivalent and are refused. Patterns compile with re.ASCII, since
Java's `\\w`, `\\d`, `\\s`, `\\b` and case folding are ASCII unless asked otherwise.
Replacement strings use Java's `$n`, `${name}` and `\\` escapes.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

from .registry import fail

_POSIX = {
    "Lower": "a-z", "Upper": "A-Z", "ASCII": "\\x00-\\x7f", "Alpha": "a-zA-Z", "Digit": "0-9",
    "Alnum": "a-zA-Z0-9", "Punct": "!-/:-@\\[-`{-~", "Graph": "!-~", "Print": " -~", "Blank": " \\t",
    "Cntrl": "\\x00-\\x1f\\x7f", "XDigit": "0-9a-fA-F", "Space": " \\t\\n\\x0b\\f\\r",
}
_CATEGORIES = {"L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No",
               "P", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "S", "Sm", "Sc", "Sk", "So",
               "Z", "Zs", "Zl", "Zp", "C", "Cc", "Cf", "Co", "Cn", "Cs"}
_BINARY = {"Alphabetic": ("L", "Nl"), "Letter": ("L",), "Digit": ("Nd",), "Uppercase": ("Lu",),
           "Lowercase": ("Ll",), "Punctuation": ("P",), "Control": ("Cc",), "White_Space": ("Zs", "Zl", "Zp"),
           "javaLowerCase": ("Ll",), "javaUpperCase": ("Lu",), "javaWhitespace": ("Zs", "Zl", "Zp")}


class _Invalid(Exception):
    pass


@functools.lru_cache(maxsize=512)
def compile_java(pattern: str) -> re.Pattern:
    try:
        return re.compile(java_to_python(pattern), re.ASCII)
    except (_Invalid, re.error) as e:
        fail(f"Invalid regular expression: {pattern}: {e}")


def java_to_python(p: str) -> str:
    out: list[str] = []
    i, n = 0, len(p)
    in_class = 0
    while i < n:
        c = p[i]
        if c == "\\":
            if i + 1 >= n:
                raise _Invalid("unexpected end of pattern after \\")
            token, i = _escape(p, i, in_class > 0)
            out.append(token)
            continue
        if c == "[":
            if in_class and p.startswith("[", i):
                raise _Invalid("nested character classes are not supported")
            in_class += 1
            out.append("[")
            i += 1
            if p.startswith("^", i):
                out.append("^")
                i += 1
            if p.startswith("]", i):  # a leading ] is a literal
                out.append("\\]")
                i += 1
            continue
        if c == "]" and in_class:
            in_class -= 1
        elif c == "&" and in_class and p.startswith("&&", i):
            raise _Invalid("character class intersection (&&) is not supported")
        elif c == "(" and not in_class and p.startswith("(?<", i) and i + 3 < n and p[i + 3] not in "=!":
            out.append("(?P<")
            i += 3
            continue
        elif in_class and c in "[":
            out.append("\\[")
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _escape(p: str, i: int, in_class: bool) -> tuple[str, int]:
    """The Python form of the escape at p[i] (a backslash), and the index after it."""
    d = p[i + 1]
    if d == "Q":
        end = p.find("\\E", i + 2)
        literal = p[i + 2:] if end < 0 else p[i + 2:end]
        quoted = "".join("\\" + ch if not ch.isalnum() else ch for ch in literal)
        return quoted, (len(p) if end < 0 else end + 2)
    if d in "pP":
        if p.startswith("{", i + 2):
            end = p.find("}", i + 3)
            if end < 0:
                raise _Invalid("unclosed property name")
            name, after = p[i + 3:end], end + 1
        elif i + 2 < len(p):
            name, after = p[i + 2], i + 3
        else:
            raise _Invalid("missing property name")
        body = _property(name, negate=d == "P")
        return (body if in_class else f"[{body}]"), after
    if d == "z":
        return "\\Z", i + 2
    if d == "Z":
        return "(?=\\n?\\Z)", i + 2
    if d == "h":
        return ("" if in_class else "[") + " \\t\\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000" + (
            "" if in_class else "]"), i + 2
    if d == "R":
        return "(?:\\r\\n|[\\n\\x0b\\f\\r\\x85\\u2028\\u2029])", i + 2
    if d == "k" and p.startswith("<", i + 2):
        end = p.find(">", i + 3)
        if end < 0:
            raise _Invalid("unclosed group name")
        return f"(?P={p[i + 3:end]})", end + 1
    if d == "x" and p.startswith("{", i + 2):
        end = p.find("}", i + 3)
        if end < 0:
            raise _Invalid("unclosed hexadecimal escape")
        return _char(int(p[i + 3:end], 16)), end + 1
    if d == "0":
        j = i + 2
        while j < len(p) and j < i + 5 and p[j] in "01234567" and int(p[i + 2:j + 1], 8) <= 0o377:
            j += 1
        if j == i + 2:
            raise _Invalid("illegal octal escape sequence")
        return _char(int(p[i + 2:j], 8)), j
    if d == "c":
        if i + 2 >= len(p):
            raise _Invalid("illegal control escape sequence")
        return _char(ord(p[i + 2]) ^ 64), i + 3
    if d == "e":
        return "\\x1b", i + 2
    if d == "G":
        raise _Invalid("\\G is not supported")
    return p[i:i + 2], i + 2


def _char(code: int) -> str:
    return f"\\U{code:08x}"


def _property(name: str, negate: bool) -> str:
    """A property class as the inside of a Python character class."""
    for prefix in ("Is", "gc=", "general_category="):
        if name.startswith(prefix) and (name[len(prefix):] in _CATEGORIES or name[len(prefix):] in _BINARY):
            name = name[len(prefix):]
    if name in _POSIX:
        body = _POSIX[name]
        return ("^" + body) if negate else body  # negation only works as a whole class
    if name in _CATEGORIES:
        ranges = _category_ranges((name,))
    elif name in _BINARY:
        ranges = _category_ranges(_BINARY[name])
    else:
        raise _Invalid(f"unknown character property name {{{name}}}")
    if negate:
        ranges = _complement(ranges)
    return "".join(_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges)


@functools.lru_cache(maxsize=None)
def _category_ranges(categories: tuple) -> tuple:
    """Code point ranges whose general category is one of (or starts with) `categories`;
    built on first use (one pass over the code points)."""
    table = _all_categories()
    ranges, start = [], None
    for code in range(sys.maxunicode + 1):
        hit = any(table[code].startswith(c) for c in categories)
        if hit and start is None:
            start = code
        elif not hit and start is not None:
            ranges.append((start, code - 1))
            start = None
    if start is not None:
        ranges.append((start, sys.maxunicode))
    return tuple(ranges)


@functools.lru_cache(maxsize=1)
def _all_categories() -> list:
    return [unicodedata.category(chr(c)) for c in range(sys.maxunicode + 1)]


def _complement(ranges: tuple) -> tuple:
    out, low = [], 0
    for lo, hi in ranges:
        if lo > low:
            out.append((low, lo - 1))
        low = hi + 1
    if low <= sys.maxunicode:
        out.append((low, sys.maxunicode))
    return tuple(out)


# --- replacement strings ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=256)
def _replacement_parts(replacement: str, groups: int, names: tuple) -> tuple:
    """Java's replacement syntax as literal strings and group references ((number or name,))."""
    parts: list = []
    literal = []
    i, n = 0, len(replacement)
    while i < n:
        c = replacement[i]
        if c == "\\":
            if i + 1 >= n:
                fail("Illegal replacement: character to be escaped is missing")
            literal.append(replacement[i + 1])
            i += 2
            continue
        if c != "$":
            literal.append(c)
            i += 1
            continue
        i += 1
        if i >= n:
            fail("Illegal group reference: group index is missing")
        if replacement[i] == "{":
            end = replacement.find("}", i)
            if end < 0:
                fail("Illegal group reference: named capturing group is missing trailing '}'")
            name = replacement[i + 1:end]
            if name not in names:
                fail(f"Illegal group reference: no group {name}")
            ref, i = name, end + 1
        elif replacement[i].isdigit():
            # as Java: take digits while the number stays a valid group
            ref = int(replacement[i])
            i += 1
            while i < n and replacement[i].isdigit() and ref * 10 + int(replacement[i]) <= groups:
                ref = ref * 10 + int(replacement[i])
                i += 1
            if ref > groups:
                fail(f"Illegal group reference: group index {ref} is out of range")
        else:
            fail("Illegal group reference")
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append((ref,))  # a group reference, by number or name
    if literal:
        parts.append("".join(literal))
    return tuple(parts)


def java_replacement(replacement: str, compiled: re.Pattern):
    """A function for re.sub that builds each match's replacement as Java would."""
    parts = _replacement_parts(replacement, compiled.groups, tuple(compiled.groupindex))
    if all(isinstance(part, str) for part in parts):
        text = "".join(parts)
        return lambda m: text
    return lambda m: "".join(part if isinstance(part, str) else (m.group(part[0]) or "") for part in parts)
