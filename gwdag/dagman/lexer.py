"""Tokenizing DAG-file lines the way HTCondor's DAG parser does.

Rules (see ``shared/reference/dagman.md`` §1): tokens are separated by spaces and
tabs; ``"..."`` and ``'...'`` group a token and a backslash inside quotes takes the
next character literally; outside quotes a backslash is an ordinary character.
Quotes stay in the token unless the caller asks for them to be trimmed (file names
are "quote-trimmed").  A token that is followed by ``=`` (possibly after blanks)
continues through the ``=`` and its value, so ``a = 1`` is one token ``a=1``.

Most lines of real DAG files contain no quote, backslash or ``=``; those take a fast
path through :meth:`str.split`, which keeps parsing large generated DAGs cheap.
"""

from __future__ import annotations

import re

__all__ = ["LineLexer", "parse_int", "TOKEN_SPAN"]

#: Spans of whitespace-separated tokens, for the fast path.
TOKEN_SPAN = re.compile(r"[^ \t\r\n]+")
_SLOW_CHARS = re.compile(r"[\"'=\\]")
_DELIMS = " \t\r"
_INT_PREFIX = re.compile(r"\s*([+-]?\d+)")
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def parse_int(text: str) -> int | None:
    """Read a leading integer the way C++ ``std::stoi`` does.

    Leading blanks and a sign are accepted, trailing characters are ignored
    (``"5abc"`` is 5); ``None`` when there is no leading integer or it does not fit
    a 32-bit ``int``.
    """
    match = _INT_PREFIX.match(text)
    if match is None:
        return None
    value = int(match.group(1))
    if not _INT_MIN <= value <= _INT_MAX:
        return None
    return value


class LineLexer:
    """Hands out the tokens of one (already trimmed) DAG command line."""

    __slots__ = ("line", "pos", "error", "_tokens", "_fast")

    def __init__(self, line: str) -> None:
        self.line = line
        self.pos = 0
        self.error = ""
        self._fast = _SLOW_CHARS.search(line) is None
        self._tokens: list[str] = line.split() if self._fast else []

    @property
    def failed(self) -> bool:
        return bool(self.error)

    def reset(self, line: str) -> None:
        """Continue lexing a new line (the rest of an inline description's closer)."""
        self.__init__(line)  # type: ignore[misc]

    def next(self, trim_quotes: bool = False) -> str:
        """Return the next token, or ``""`` at the end of the line (or on error)."""
        if self._fast:
            return self._next_fast()
        return self._next_slow(trim_quotes)

    def peek(self) -> str:
        """Return the next token without consuming it."""
        saved_pos, saved_error = self.pos, self.error
        token = self.next()
        self.pos, self.error = saved_pos, saved_error
        return token

    def remain(self) -> str:
        """Return the untokenized rest of the line, leading blanks removed."""
        line = self.line
        if self._fast:
            rest = ""
            if self.pos < len(self._tokens):
                # Only SCRIPT, ENV and SET_JOB_ATTR need the raw rest: find it now.
                spans = TOKEN_SPAN.finditer(line)
                for _ in range(self.pos):
                    next(spans)
                rest = line[next(spans).start():]
            self.pos = len(self._tokens)
            return rest
        pos = self.pos
        while pos < len(line) and line[pos].isspace():
            pos += 1
        self.pos = len(line)
        return line[pos:]

    # -- implementation -------------------------------------------------------------
    def _next_fast(self) -> str:
        if self.pos >= len(self._tokens):
            return ""
        self.pos += 1
        return self._tokens[self.pos - 1]

    def _next_slow(self, trim_quotes: bool) -> str:
        line = self.line
        length = len(line)
        pos = self.pos
        token: list[str] = []
        escaped = in_quotes = is_pair = pair_complete = False
        quote = ""
        while pos < length:
            char = line[pos]
            if escaped:
                token.append(char)
                escaped = False
            elif in_quotes:
                if char == "\\":
                    escaped = True
                elif char == quote:
                    if not trim_quotes:
                        token.append(quote)
                    in_quotes = False
                else:
                    token.append(char)
            elif char in _DELIMS:
                # Look past the blanks: a following '=' keeps this token going.
                next_is_equals = False
                while pos + 1 < length:
                    if line[pos + 1] in _DELIMS:
                        pos += 1
                    else:
                        next_is_equals = line[pos + 1] == "="
                        break
                if token and ((not is_pair and not next_is_equals) or pair_complete):
                    pos += 1
                    break
            elif not is_pair and char == "=":
                is_pair = True
                token.append(char)
            else:
                if char in "\"'":
                    quote = char
                    in_quotes = True
                    if not trim_quotes:
                        token.append(char)
                else:
                    token.append(char)
                if is_pair:
                    pair_complete = True
            pos += 1
        self.pos = pos
        if in_quotes:
            self.error = "Invalid quoting: no ending quote found"
            return ""
        if is_pair and not pair_complete:
            self.error = "Invalid key value pair: no value discovered"
            return ""
        return "".join(token)
