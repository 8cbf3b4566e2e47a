"""Which contract regexes a POSIX engine reads as Python does, so that Redshift and Snowflake
can run ``str_matches`` in the database instead of on a sample.

A contract's pattern is Python ``re`` syntax, matched with ``re.match`` (pandera's
``str_matches``). Redshift and Snowflake speak POSIX ERE plus a few Perl escapes, and some
constructs that look alike mean different things there; many others do not exist. So
:func:`posix_portable` accepts a pattern only when every construct in it means the same in
both: literal characters, ``.``, bracket expressions without backslashes or ``[: :]``-style
classes, groups ``( )``, alternation, ``^`` and ``$``, the greedy quantifiers ``* + ?
{m} {m,} {m,n}`` (bounds up to 255, POSIX's RE_DUP_MAX), escaped metacharacters, and the
escapes both vendors document: ``\\d \\D \\w \\W \\s \\S``
(https://docs.aws.amazon.com/redshift/latest/dg/pattern-matching-conditions-posix.html,
https://docs.snowflake.com/en/sql-reference/functions-regexp). Everything else (``(?``
groups and flags, lazy and possessive quantifiers, backreferences, ``\\b \\A \\Z \\p{..}``,
``{,n}``, a literal ``{``) goes to the sampled pandera path.

Two differences remain, both about values rather than patterns: ``\\d`` and ``\\w`` are
ASCII there (Snowflake documents ``0-9`` and ``a-z, A-Z, _, 0-9``) and Unicode in Python, so
a non-ASCII digit or letter counts differently; and on values holding line breaks ``.``,
``^`` and ``$`` may not agree (Redshift documents ``^``/``$`` as line anchors, and Python's
``$`` also matches before a final newline).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from watchdog.warehouses.sqlbase import SqlWarehouse

#: Characters that have a meaning outside brackets; escaped, each is itself in both syntaxes.
_META = frozenset(".^$*+?()[]{}|\\")
#: The Perl class escapes Redshift and Snowflake document.
_CLASSES = frozenset("dDwWsS")
#: Doubled inside brackets, Python warns that these may become set operations.
_SET_OPERATORS = frozenset({"--", "&&", "~~", "||"})
_BOUNDS = re.compile(r"\{(\d+)(,(\d*))?\}")
#: The largest repetition count POSIX guarantees (RE_DUP_MAX).
MAX_REPEAT = 255


def pushes_regex(wh: SqlWarehouse, pattern: str) -> bool:
    """See :meth:`~watchdog.warehouses.base.Warehouse.pushes_regex`."""
    return wh.SUPPORTS_REGEX and PORTABLE[wh.REGEX_SYNTAX](pattern)


def _valid(pattern: str) -> bool:
    with warnings.catch_warnings():  # Python's nested-set warnings: the scan rejects those
        warnings.simplefilter("ignore", FutureWarning)
        try:
            re.compile(pattern)
        except re.error:
            return False  # the sampled path reports an invalid pattern itself
    return True


#: Python-only constructs, each a query error in RE2 (DuckDB's regexp_matches, BigQuery's
#: REGEXP_CONTAINS: https://github.com/google/re2/wiki/Syntax): lookarounds, backreferences,
#: atomic groups, conditionals, possessive quantifiers, ``\Z`` (RE2 spells it ``\z``), the
#: flags RE2 lacks (``a L u x``) and ``{,n}`` (a literal there).
_RE2_LACKS = re.compile(
    r"(\\[1-9Z])|\\[\s\S]|(\(\?(?:[=!>(]|<[=!]|P=|[a-zA-Z-]*[aLux]))|([*+?}]\+)|(\{,)")
#: Constructs PostgreSQL's AREs (https://www.postgresql.org/docs/current/functions-matching.html
#: #POSIX-ESCAPE-SEQUENCES) read unlike Python or refuse: ``\b`` (backspace there, a word
#: boundary in Python), ``\B`` (a backslash there), named groups and references, atomic
#: groups, conditionals, inline flags (other letters, other meanings), possessive quantifiers
#: and ``{,n}``. (``.`` also matches a newline there; values with line breaks may differ.)
_ARE_LACKS = re.compile(
    r"(\\[bB])|\\[\s\S]|(\(\?(?:P|<(?![=!])|[>(]|[a-zA-Z-]+[:)]))|([*+?}]\+)|(\{,)")


def _lacks(finder: re.Pattern[str]) -> Callable[[str], bool]:
    """A test that a pattern is valid and no match of ``finder`` has a capture group (escapes
    are consumed whole, so an escaped ``\\(`` never reads as a group)."""
    def portable(pattern: str) -> bool:
        return _valid(pattern) and not any(any(m.groups()) for m in finder.finditer(pattern))
    return portable


def posix_portable(pattern: str) -> bool:
    """True when a POSIX ERE engine matches ``pattern`` where Python's ``re`` does."""
    return _valid(pattern) and bool(pattern) and _Scanner(pattern).run()


#: The patterns each regex syntax reads as Python's ``re.match`` does, by ``REGEX_SYNTAX``.
PORTABLE: dict[str, Callable[[str], bool]] = {
    "re2": _lacks(_RE2_LACKS),
    "are": _lacks(_ARE_LACKS),
    "posix": posix_portable,
}


class _Scanner:
    """One left-to-right pass over the pattern; ``last`` is the kind of the previous token
    (``atom``, ``anchor``, ``open``, ``bar``, ``repeat``; ``open`` at the start)."""

    def __init__(self, pattern: str) -> None:
        self.text, self.at, self.last = pattern, 0, "open"

    def run(self) -> bool:
        while self.at < len(self.text):
            if not self._step():
                return False
        return self.last not in ("bar", "open")

    def _step(self) -> bool:
        char = self.text[self.at]
        step = {"\\": self._escape, "[": self._bracket, "(": self._open, ")": self._close,
                "|": self._bar, "{": self._bounds}.get(char)
        if step is not None:
            return step()
        if char in "*+?":
            return self._repeat(1)
        if char == "}":
            return False  # a lone brace: literal in Python, undefined in POSIX
        self._took(1, "anchor" if char in "^$" else "atom")
        return True

    def _took(self, width: int, kind: str) -> None:
        self.at, self.last = self.at + width, kind

    def _escape(self) -> bool:
        escaped = self.text[self.at + 1:self.at + 2]
        if not escaped or (escaped not in _META and escaped not in _CLASSES):
            return False
        self._took(2, "atom")
        return True

    def _bracket(self) -> bool:
        end = self.at + 1
        end += self.text.startswith("^", end)
        end += self.text.startswith("]", end)  # a leading ] is literal in both
        while end < len(self.text) and self.text[end] != "]":
            if self.text[end] in "\\[" or self.text[end:end + 2] in _SET_OPERATORS:
                return False  # escapes, [:classes:] and Python's future set operations
            end += 1
        self._took(end + 1 - self.at, "atom")
        return end < len(self.text)

    def _open(self) -> bool:
        if self.text.startswith("?", self.at + 1):
            return False  # (?:...), (?i), lookarounds, named groups
        self._took(1, "open")
        return True

    def _close(self) -> bool:
        if self.last in ("open", "bar"):
            return False  # an empty group or alternative
        self._took(1, "atom")
        return True

    def _bar(self) -> bool:
        if self.last in ("open", "bar"):
            return False
        self._took(1, "bar")
        return True

    def _bounds(self) -> bool:
        found = _BOUNDS.match(self.text, self.at)
        if found is None:
            return False  # {,n} or a literal brace
        low, high = int(found[1]), found[3]
        if max(low, int(high or 0)) > MAX_REPEAT or (high and int(high) < low):
            return False
        return self._repeat(found.end() - self.at)

    def _repeat(self, width: int) -> bool:
        if self.last != "atom" or self.text[self.at + width:self.at + width + 1] in ("?", "+"):
            return False  # lazy *? and possessive *+ have no POSIX spelling
        self._took(width, "repeat")
        return True
