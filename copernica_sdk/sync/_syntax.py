"""Scanning shared by the path grammar (:mod:`.paths`) and the expression language
(:mod:`._expressions`): quotes, brackets and braces, so a separator inside
``['a|b']`` or ``{x | default:'|'}`` is not taken for one."""

from __future__ import annotations

__all__ = ["SyntaxProblem", "is_quoted", "scan", "unquote"]


class SyntaxProblem(ValueError):
    """A compile problem, without the config key (the caller adds it)."""


# A quote opens a string only where a value may start; elsewhere an apostrophe
# is just text, so templates such as "{first_name}'s order" need no escaping.
_VALUE_START = frozenset("|:=[{,")


def scan(text: str, start: int, stops: str, *, brace_escapes: bool = False) -> int:
    """Index of the first character of ``stops`` at depth 0 outside strings,
    or ``len(text)``.  Raises on unclosed quotes and unbalanced brackets.
    ``brace_escapes``: ``{{`` and ``}}`` outside placeholders are literal braces."""
    depth = 0
    i = start
    n = len(text)
    prev = ""  # last non-space character, to decide whether a quote opens a string
    while i < n:
        c = text[i]
        if brace_escapes and depth == 0 and c in "{}" and text.startswith(c + c, i):
            i += 2
            prev = c
            continue
        if c in "'\"" and (prev == "" or prev in _VALUE_START):
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise SyntaxProblem(f"unclosed quote {c} in {text!r}")
            i = j + 1
            prev = c
            continue
        if depth == 0 and c in stops:
            return i
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth < 0:
                raise SyntaxProblem(f"unbalanced {c!r} in {text!r}")
        if not c.isspace():
            prev = c
        i += 1
    if depth:
        raise SyntaxProblem(f"unclosed bracket in {text!r}")
    return n


def unquote(text: str) -> str:
    """``'a\\'b'`` → ``a'b``; the caller checked ``text`` starts with a quote."""
    quote = text[0]
    if len(text) < 2 or text[-1] != quote:
        raise SyntaxProblem(f"unclosed quote in {text!r}")
    out: list[str] = []
    i = 1
    while i < len(text) - 1:
        c = text[i]
        if c == "\\" and i + 1 < len(text) - 1:
            out.append(text[i + 1])
            i += 2
            continue
        if c == quote:
            raise SyntaxProblem(f"unexpected text after the quoted literal in {text!r}")
        out.append(c)
        i += 1
    return "".join(out)


def is_quoted(text: str) -> bool:
    """Whether ``text`` is one quoted literal (``'x'`` or ``"x"``)."""
    return len(text) >= 2 and text[0] in "'\"" and text[-1] == text[0]
