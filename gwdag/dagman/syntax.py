"""Syntax of DAG files: lines to commands, with DAGMan's error messages.

This is the first stage of reading a DAG: it knows every command's grammar
(``shared/reference/dagman.md`` §1–2) but nothing about what the names refer to;
:mod:`gwdag.dagman.loader` resolves nodes, splices and includes.  Like
``condor_dag_checker`` it continues after an error so that a file's every problem
is reported at once (``condor_dagman`` itself stops at the first one); errors read
``<file>:<line> Failed to parse <COMMAND> command: <reason>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .lexer import LineLexer, parse_int

__all__ = [
    "Command",
    "SyntaxIssue",
    "parse_dag_text",
    "canonical_keyword",
    "KEYWORDS",
    "RESERVED_NAMES",
    "ALL_NODES",
]

ALL_NODES = "ALL_NODES"
RESERVED_NAMES = frozenset({"PARENT", "CHILD", "ALL_NODES"})
ILLEGAL_NODE_CHARS = "+"

#: Every command keyword, normalised (upper case, ``-`` written ``_``).
KEYWORDS = frozenset(
    {
        "JOB", "FINAL", "PROVISIONER", "SERVICE", "SUBDAG", "SPLICE",
        "SUBMIT_DESCRIPTION", "PARENT", "WEAK", "SCRIPT", "RETRY", "ABORT_DAG_ON",
        "VARS", "PRIORITY", "PRE_SKIP", "DONE", "CATEGORY", "MAXJOBS", "CONFIG",
        "INCLUDE", "DOT", "NODE_STATUS_FILE", "JOBSTATE_LOG", "SAVE_POINT_FILE",
        "SET_JOB_ATTR", "ENV", "REJECT", "CONNECT", "PIN_IN", "PIN_OUT", "TOLERANCE",
    }
)
NODE_KEYWORDS = ("JOB", "FINAL", "PROVISIONER", "SERVICE", "SUBDAG")
SCRIPT_TYPES = ("PRE", "POST", "HOLD")
DEBUG_STREAMS = ("STDOUT", "STDERR", "ALL")


def canonical_keyword(word: str) -> str:
    """Normalise a keyword: case-insensitive, ``-`` and ``_`` interchangeable."""
    return word.upper().replace("-", "_")


@dataclass(slots=True)
class Command:
    """One parsed DAG command.

    ``keyword`` is canonical (``WEAK PARENT`` lines have keyword ``PARENT`` and
    ``fields["weak"]`` true); ``fields`` holds the command's arguments by name.
    """

    keyword: str
    file: str
    line: int
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class SyntaxIssue:
    """A syntax error at ``file:line``; ``message`` is the full DAGMan-style text."""

    file: str
    line: int
    message: str
    command: str | None = None


class _Lines:
    """Logical lines of a DAG file: trimmed, comments skipped, ``\\`` continued."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.index = 0

    @staticmethod
    def _skip(line: str) -> bool:
        return not line or line[0] == "#" or line.startswith("//")

    def next_command(self) -> tuple[int, str] | None:
        lines = self.lines
        while self.index < len(lines):
            line = lines[self.index].strip()
            self.index += 1
            if self._skip(line):
                continue
            first = self.index
            while line.endswith("\\"):
                piece = None
                while self.index < len(lines):
                    candidate = lines[self.index].strip()
                    self.index += 1
                    if not self._skip(candidate):
                        piece = candidate
                        break
                line = line[:-1].rstrip()
                if piece is None:
                    break
                line = f"{line} {piece}"
            return first, line
        return None

    def read_inline(self, end: str) -> tuple[str, str | None]:
        """Read an inline submit description up to ``end``.

        Returns the body (trimmed lines joined by newlines) and the rest of the
        closing line, or ``None`` in its place when the end was never found.
        """
        body: list[str] = []
        lines = self.lines
        while self.index < len(lines):
            line = lines[self.index].strip()
            self.index += 1
            if self._skip(line):
                continue
            if line == end or line.startswith(end + " "):
                return "".join(body), line[len(end):]
            body.append(line + "\n")
        return "".join(body), None


def _inline_end(token: str) -> str | None:
    """The closing token for an inline description opener, else ``None``."""
    if token.startswith("{"):
        return "}"
    if token.startswith("@="):
        return "@" + token[2:] if len(token) > 2 else ""
    return None


class _CommandParser:
    def __init__(self, text: str, filename: str, allow_illegal_chars: bool) -> None:
        self.lines = _Lines(text)
        self.filename = filename
        self.allow_illegal_chars = allow_illegal_chars

    # Each ``_parse_X`` fills ``fields`` and returns an error reason or "".
    def _read_inline(self, lex: LineLexer, end: str, fields: dict[str, Any]) -> str:
        if not end:
            return "No inline description closing token specified (@=TOKEN)"
        body, closer = self.lines.read_inline(end)
        if closer is None:
            return f"Missing inline description closing token: {end}"
        fields["inline"] = body
        lex.reset(closer.strip())
        return ""

    def _parse_node(self, lex: LineLexer, keyword: str, fields: dict[str, Any]) -> str:
        name = lex.next()
        if not name:
            return "Missing node name"
        if name.upper() in RESERVED_NAMES:
            return "Node name is a reserved word"
        if not self.allow_illegal_chars and any(c in name for c in ILLEGAL_NODE_CHARS):
            return "Node name contains illegal charater"  # sic: DAGMan's spelling
        fields.update(name=name, dir=None, noop=False, done=False, inline=None)
        submit = lex.next(trim_quotes=True)
        if not submit:
            return "No submit description provided"
        end = _inline_end(submit) if keyword != "SUBDAG" else None
        if end is not None:
            fields["submit"] = "INLINE"
            error = self._read_inline(lex, end, fields)
            if error:
                return error
        else:
            fields["submit"] = submit
        while token := lex.next():
            word = token.upper()
            if word == "NOOP":
                fields["noop"] = True
            elif word == "DONE":
                fields["done"] = True
            elif word == "DIR":
                directory = lex.next(trim_quotes=True)
                if not directory:
                    return "No directory path provided for DIR subcommand"
                fields["dir"] = directory
            else:
                return f"Unexpected token '{token}'"
        return ""

    def _parse_submit_description(self, lex: LineLexer, fields: dict[str, Any]) -> str:
        name = lex.next()
        if not name:
            return "No submit description name provided"
        fields["name"] = name
        opener = lex.next()
        end = _inline_end(opener) if opener else None
        if end is None:
            return "No inline description provided"
        return self._read_inline(lex, end, fields)

    def _parse_splice(self, lex: LineLexer, fields: dict[str, Any]) -> str:
        name = lex.next()
        if not name:
            return "Missing splice name"
        fields.update(name=name, dir=None)
        dagfile = lex.next(trim_quotes=True)
        if not dagfile:
            return "Missing DAG file"
        fields["dagfile"] = dagfile
        token = lex.next()
        if not token:
            return ""
        if token.upper() != "DIR":
            return f"Unexpected token '{token}'"
        directory = lex.next(trim_quotes=True)
        if not directory:
            return "No directory path provided for DIR subcommand"
        fields["dir"] = directory
        token = lex.next()
        return f"Unexpected token '{token}'" if token else ""

    def _parse_parent(self, lex: LineLexer, fields: dict[str, Any]) -> str:
        parents: list[str] = []
        children: list[str] = []
        fields.update(parents=parents, children=children)
        token = lex.next()
        if not token or token.upper() == "CHILD":
            return "No parent node(s) specified"
        error = "Missing CHILD specifier"
        in_children = False
        while token:
            if token.upper() == "CHILD":
                if lex.peek():
                    in_children = True
                    error = ""
                else:
                    error = "No children node(s) specified"
            elif in_children:
                children.append(token)
            else:
                parents.append(token)
            token = lex.next()
        return error

    def _parse_script(self, lex: LineLexer, fields: dict[str, Any]) -> str:
        fields.update(defer_status=None, defer_time=None, debug_file=None, debug_stream=None)
        while True:
            token = lex.next()
            word = token.upper()
            if word in SCRIPT_TYPES:
                fields["type"] = word
                break
            if word == "DEFER":
                value = lex.next()
                if not value:
                    return "DEFER missing status value"
                status = parse_int(value)
                if status is None:
                    return f"Invalid DEFER status value '{value}'"
                value = lex.next()
                if not value:
                    return "DEFER missing time value"
                seconds = parse_int(value)
                if seconds is None:
                    return f"Invalid DEFER time value '{value}'"
                fields.update(defer_status=status, defer_time=seconds)
            elif word == "DEBUG":
                debug_file = lex.next()
                if not debug_file:
                    return "DEBUG missing filename"
                stream = lex.next()
                if not stream:
                    return "DEBUG missing output stream type (STDOUT, STDERR, ALL)"
                if stream.upper() not in DEBUG_STREAMS:
                    return f"Unknown DEBUG output stream type '{stream}'"
                fields.update(debug_file=debug_file, debug_stream=stream.upper())
            else:
                return ("Missing script type (PRE, POST, HOLD) and optional "
                        "sub-commands (DEFER, DEBUG)")
        node = lex.next()
        if not node:
            return "No node name specified"
        fields["node"] = node
        command = lex.remain().strip()
        if not command:
            return "No script specified"
        fields["command"] = command
        return ""

    def _parse_retry(self, lex: LineLexer, fields: dict[str, Any]) -> str:
        node = lex.next()
        if not node:
            return "No node name specified"
        fields.update(node=node, unless_exit=None)
        token = lex.next()
        if not token:
            return "Missing max retry value"
        retries = parse_int(token)
        if retries is None or retries < 0:
            return f"Invalid max retry value '{token}' (Must be positive integer)"
        fields["retries"] = retries
        token = lex.next()
        if not token:
            return ""
        if canonical_keyword(token) != "UNLESS_EXIT":
            return f"Unexpected token '{token}'"
        token = lex.next()
        if not token:
            return "UNLESS-EXIT missing exit code"
        code = parse_int(token)
        if code is None:
            return f"Invalid UNLESS-EXIT code '{token}' specified"
        fields["unless_exit"] = code
        token = lex.next()
        return f"Unexpected token '{token}'" if token else ""

    def _parse_abort_dag_on(self, lex: LineLexer, fields: dict[str, Any]) -> str:
        node = lex.next()
        if not node:
            return "No node name specified"
        fields.update(node=node, return_value=None)
        token = lex.next()
        if not token:
            return "Missing exit status to abort on"
        status = parse_int(token)
        if status is None:
            return f"Invalid exit status '{token}' specified"
        fields["status"] = status
        token = lex.next()
        if not token:
            return ""
        if token.upper() != "RETURN":
            return f"Unexpected token '{token}'"
        token = lex.next()
        if not token:
            return "RETURN is missing value"
        code = parse_int(token)
        if code is None or not 0 <= code <= 255:
            return f"Invalid RETURN code '{token}' (Must be between 0 and 255)"
        fields["return_value"] = code
        token = lex.next()
        return f"Unexpected token '{token}'" if token else ""

    def _parse_vars(self, lex: LineLexer, fields: dict[str, Any]) -> str:
        # The node name ends at the first blank: ``VARS A = 1`` must not lex as ``A=1``.
        rest = lex.remain()
        node, _, rest = rest.partition(" ") if " " in rest else rest.partition("\t")
        if not node:
            return "No node name specified"
        fields.update(node=node, append=None)
        mode = _VARS_MODE.match(rest)
        if mode:
            fields["append"] = mode.group(1).upper() == "APPEND"
            rest = rest[mode.end():]
        pairs, error = parse_vars_pairs(rest)
        fields["pairs"] = pairs
        if error:
            return error
        return "" if pairs else "No key=value pairs specified"

    def _parse_node_int(self, lex: LineLexer, fields: dict[str, Any], missing: str,
                        invalid: str, key: str) -> str:
        node = lex.next()
        if not node:
            return "No node name specified"
        fields["node"] = node
        token = lex.next()
        if not token:
            return missing
        value = parse_int(token)
        if value is None:
            return invalid.format(token)
        fields[key] = value
        token = lex.next()
        return f"Unexpected token '{token}'" if token else ""

    def _parse_save_point(self, lex: LineLexer, fields: dict[str, Any]) -> str:
        node = lex.next()
        if not node:
            return "No node name specified"
        if node.upper() == ALL_NODES:
            return "ALL_NODES cannot be used for save point file command"
        fields["node"] = node
        filename = lex.next(trim_quotes=True)
        if not filename:
            dag_name = self.filename.replace("\\", "/").rsplit("/", 1)[-1]
            fields["file"] = f"{node}-{dag_name}.save"
            return ""
        fields["file"] = filename
        token = lex.next()
        return f"Unexpected token '{token}'" if token else ""

    def _parse_category(self, lex: LineLexer, fields: dict[str, Any]) -> str:
        node = lex.next()
        if not node:
            return "No node name specified"
        category = lex.next()
        if not category:
            return "No category name specified"
        fields.update(node=node, category=category)
        token = lex.next()
        return f"Unexpected token '{token}'" if token else ""

    def _parse_maxjobs(self, lex: LineLexer, fields: dict[str, Any]) -> str:
        category = lex.next()
        if not category:
            return "No category name specified"
        fields["category"] = category
        token = lex.next()
        if not token:
            return "No throttle limit specified"
        limit = parse_int(token)
        if limit is None or limit < 0:
            return f"Invalid throttle limit '{token}'"
        fields["limit"] = limit
        token = lex.next()
        return f"Unexpected token '{token}'" if token else ""

    def _parse_single_file(self, lex: LineLexer, fields: dict[str, Any], missing: str) -> str:
        filename = lex.next(trim_quotes=True)
        if not filename:
            return missing
        fields["file"] = filename
        token = lex.next()
        return f"Unexpected token '{token}'" if token else ""

    def _parse_dot(self, lex: LineLexer, fields: dict[str, Any]) -> str:
        filename = lex.next(trim_quotes=True)
        if not filename:
            return "No file specified"
        fields.update(file=filename, update=None, overwrite=None, include=None)
        while token := lex.next():
            word = canonical_keyword(token)
            if word == "UPDATE":
                fields["update"] = True
            elif word == "DONT_UPDATE":
                fields["update"] = False
            elif word == "OVERWRITE":
                fields["overwrite"] = True
            elif word == "DONT_OVERWRITE":
                fields["overwrite"] = False
            elif word == "INCLUDE":
                header = lex.next()
                if not header:
                    return "Missing INCLUDE header file"
                fields["include"] = header
            else:
                return f"Unexpected token '{token}'"
        return ""

    def _parse_node_status_file(self, lex: LineLexer, fields: dict[str, Any]) -> str:
        filename = lex.next(trim_quotes=True)
        if not filename:
            return "No file specified"
        fields.update(file=filename, min_update=None, always_update=False)
        while token := lex.next():
            if canonical_keyword(token) == "ALWAYS_UPDATE":
                fields["always_update"] = True
                continue
            seconds = parse_int(token)
            if seconds is None:
                return f"Unexpected token '{token}'"
            fields["min_update"] = seconds  # the last number wins
        return ""

    def _parse_env(self, lex: LineLexer, fields: dict[str, Any]) -> str:
        action = lex.next()
        if not action:
            return "Missing action (SET or GET) and variables"
        if action.upper() not in ("SET", "GET"):
            return f"Unexpected token '{action}'"
        variables = lex.remain().strip()
        if not variables:
            return "No environment variables provided"
        fields.update(action=action.upper(), variables=variables)
        return ""

    def _parse_connect(self, lex: LineLexer, fields: dict[str, Any]) -> str:
        out_splice, in_splice = lex.next(), lex.next()
        if not out_splice or not in_splice:
            return "Missing splice(s) to connect"
        fields.update(out_splice=out_splice, in_splice=in_splice)
        token = lex.next()
        return f"Unexpected token '{token}'" if token else ""

    def _parse_pin(self, lex: LineLexer, fields: dict[str, Any]) -> str:
        node = lex.next()
        if not node:
            return "No node name specified"
        fields["node"] = node
        token = lex.next()
        if not token:
            return "No pin number specified"
        pin = parse_int(token)
        if pin is None or pin < 1:
            return f"Invalid pin number '{token}'"
        fields["pin"] = pin
        token = lex.next()
        return f"Unexpected token '{token}'" if token else ""

    def _parse_tolerance(self, lex: LineLexer, fields: dict[str, Any]) -> str:
        node = lex.next()
        if not node:
            return "No node name specified"
        fields.update(node=node, percent=False, mode=None)
        token = lex.next()
        if not token:
            return "Missing failure tolerance value"
        number = token
        if token.endswith("%"):
            number = token[:-1]
            fields["percent"] = True
            if not number:
                return "Empty percentage specified for failure tolerance"
        value = parse_int(number)
        if value is None or value < 0:
            return f"Invalid tolerance value '{token}'"
        fields["value"] = value
        token = lex.next()
        if token == "%":
            fields["percent"] = True
            token = lex.next()
        if token and canonical_keyword(token) in ("FAIL_FAST", "WAIT"):
            fields["mode"] = canonical_keyword(token).replace("_", "-")
            token = lex.next()
        return f"Unexpected token '{token}'" if token else ""

    def _no_arg(self, lex: LineLexer, fields: dict[str, Any], key: str, missing: str) -> str:
        value = lex.next()
        if not value:
            return missing
        fields[key] = value
        token = lex.next()
        return f"Unexpected token '{token}'" if token else ""

    def _dispatch(self, keyword: str, lex: LineLexer, fields: dict[str, Any]) -> str:
        if keyword in NODE_KEYWORDS:
            if keyword == "SUBDAG" and lex.next().upper() != "EXTERNAL":
                return "Missing EXTERNAL keyword"
            return self._parse_node(lex, keyword, fields)
        if keyword == "PARENT":
            return self._parse_parent(lex, fields)
        if keyword == "VARS":
            return self._parse_vars(lex, fields)
        if keyword == "SCRIPT":
            return self._parse_script(lex, fields)
        if keyword == "RETRY":
            return self._parse_retry(lex, fields)
        if keyword == "ABORT_DAG_ON":
            return self._parse_abort_dag_on(lex, fields)
        if keyword == "PRIORITY":
            return self._parse_node_int(lex, fields, "Missing priority value",
                                        "Invalid priority value '{}'", "priority")
        if keyword == "PRE_SKIP":
            return self._parse_node_int(lex, fields, "Missing exit code",
                                        "Invalid exit code '{}'", "exit_code")
        if keyword == "CATEGORY":
            return self._parse_category(lex, fields)
        if keyword == "MAXJOBS":
            return self._parse_maxjobs(lex, fields)
        if keyword == "DONE":
            return self._no_arg(lex, fields, "node", "No node name specified")
        if keyword == "SPLICE":
            return self._parse_splice(lex, fields)
        if keyword == "SUBMIT_DESCRIPTION":
            return self._parse_submit_description(lex, fields)
        if keyword == "SAVE_POINT_FILE":
            return self._parse_save_point(lex, fields)
        if keyword == "TOLERANCE":
            return self._parse_tolerance(lex, fields)
        if keyword == "CONFIG":
            return self._parse_single_file(lex, fields, "No configuration file specified")
        if keyword in ("INCLUDE", "JOBSTATE_LOG"):
            return self._parse_single_file(lex, fields, "No include file specified")
        if keyword == "DOT":
            return self._parse_dot(lex, fields)
        if keyword == "NODE_STATUS_FILE":
            return self._parse_node_status_file(lex, fields)
        if keyword == "SET_JOB_ATTR":
            attribute = lex.remain().strip()
            fields["attribute"] = attribute
            return "" if attribute else "No attribute line (key = value) provided"
        if keyword == "ENV":
            return self._parse_env(lex, fields)
        if keyword == "REJECT":
            token = lex.next()
            return f"Unexpected token '{token}'" if token else ""
        if keyword == "CONNECT":
            return self._parse_connect(lex, fields)
        if keyword in ("PIN_IN", "PIN_OUT"):
            return self._parse_pin(lex, fields)
        raise AssertionError(f"no parser for {keyword}")  # pragma: no cover

    def _fast(self, text: str) -> tuple[str, dict[str, Any]] | None:
        """The command of a plain JOB, VARS, PARENT or RETRY line, or ``None``.

        Generated DAGs are almost entirely such lines; these forms (no quotes but
        in VARS values, no escapes, no options) parse to exactly what the general
        path gives, which takes over for anything else.
        """
        word, _, rest = text.partition(" ")
        if word == "JOB":
            match = _FAST_JOB.fullmatch(rest)
            if match is None or match.group(1).upper() in RESERVED_NAMES:
                return None
            return "JOB", {"name": match.group(1), "dir": None, "noop": False, "done": False,
                           "inline": None, "submit": match.group(2)}
        if word == "VARS":
            match = _FAST_VARS.fullmatch(rest)
            if match is None:
                return None
            return "VARS", {"node": match.group(1), "append": None,
                            "pairs": _FAST_PAIR.findall(match.group(2))}
        if _SLOW_LINE.search(text) is not None:
            return None
        parts = text.split()
        if word == "PARENT":
            if text.upper().count("CHILD") != 1 or "CHILD" not in parts:
                return None
            split = parts.index("CHILD")
            if split < 2 or split == len(parts) - 1:
                return None
            return "PARENT", {"weak": False, "parents": parts[1:split],
                              "children": parts[split + 1:]}
        if word == "RETRY":
            if len(parts) != 3 or not parts[2].isascii() or not parts[2].isdigit():
                return None
            if len(parts[2]) > 9:
                return None
            return "RETRY", {"node": parts[1], "unless_exit": None,
                             "retries": int(parts[2])}
        return None

    def parse(self) -> tuple[list[Command], list[SyntaxIssue]]:
        commands: list[Command] = []
        issues: list[SyntaxIssue] = []
        filename = self.filename
        fast = self._fast
        lines = self.lines
        raw = lines.lines
        while lines.index < len(raw):
            # The common line (one line, no comment) is handled here; the rest,
            # continuations included, by _Lines.next_command.
            text = raw[lines.index].strip()
            if text and text[0] != "#" and text[-1] != "\\" and not text.startswith("//"):
                lines.index += 1
                line_no = lines.index
            else:
                entry = lines.next_command()
                if entry is None:
                    break
                line_no, text = entry
            plain = fast(text)
            if plain is not None:
                commands.append(Command(plain[0], filename, line_no, plain[1]))
                continue
            lex = LineLexer(text)
            word = lex.next()
            keyword = canonical_keyword(word)
            if keyword not in KEYWORDS:
                word = word.replace("-", "_")
                message = f"{filename}:{line_no} '{word}' is not a valid DAG command"
                issues.append(SyntaxIssue(filename, line_no, message))
                continue
            fields: dict[str, Any] = {}
            if keyword == "WEAK":
                keyword = "PARENT"
                fields["weak"] = True
                if canonical_keyword(lex.next()) != "PARENT":
                    reason = "WEAK dependency missing PARENT keyword"
                else:
                    reason = self._dispatch(keyword, lex, fields)
            else:
                if keyword == "PARENT":
                    fields["weak"] = False
                reason = self._dispatch(keyword, lex, fields)
            if lex.failed:
                reason = lex.error
            if reason:
                issues.append(SyntaxIssue(
                    filename, line_no,
                    f"{filename}:{line_no} Failed to parse {keyword} command: {reason}",
                    keyword))
                continue
            commands.append(Command(keyword, filename, line_no, fields))
        return commands, issues


#: The plain forms :meth:`_CommandParser._fast` takes: no quote, backslash or ``=``
#: outside VARS; VARS keys that start with an ASCII letter or digit (not ``queue``)
#: and double-quoted values without escapes.
_SLOW_LINE = re.compile(r"[\"'=\\]")
_FAST_KEY = r"(?![qQ][uU][eE][uU][eE])[A-Za-z0-9][^\s=\"'\\]*"
_FAST_VARS = re.compile(
    r"([^\s=\"'\\]+)((?:[ \t]+" + _FAST_KEY + r"=\"[^\"\\\n]*\")+)[ \t]*")
_FAST_JOB = re.compile(r"([^\s=\"'\\+]+)[ \t]+([^\s=\"'\\{@][^\s=\"'\\]*)")
_FAST_PAIR = re.compile(r"(" + _FAST_KEY + r")=\"([^\"\\\n]*)\"")
_ALNUM = re.compile(r"[^\W_]")
_VARS_MODE = re.compile(r"(PREPEND|APPEND)(?:[ \t]+|$)", re.IGNORECASE)
_BLANK = " \t\r"


def _skip_blanks(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _BLANK:
        pos += 1
    return pos


def _read_value(text: str, pos: int) -> tuple[str, int, str]:
    """Read a VARS value at ``pos``: quoted parts lose their quotes, ``\\x`` is ``x``."""
    value: list[str] = []
    while pos < len(text) and text[pos] not in _BLANK:
        char = text[pos]
        if char in "\"'":
            quote = char
            pos += 1
            while pos < len(text) and text[pos] != quote:
                if text[pos] == "\\" and pos + 1 < len(text):
                    pos += 1
                value.append(text[pos])
                pos += 1
            if pos >= len(text):
                return "", pos, "Invalid quoting: no ending quote found"
            pos += 1
        else:
            value.append(char)
            pos += 1
    return "".join(value), pos, ""


_SIMPLE_PAIR = re.compile(r"[ \t]*([^\s=\"']+)[ \t]*=[ \t]*(\"[^\"\\]*\"|[^\s=\"'\\]+)(?=[ \t]|$)")


def parse_vars_pairs(text: str) -> tuple[list[tuple[str, str]], str]:
    """Parse the ``key=value`` pairs of a VARS line.

    Blanks around ``=`` are allowed, values may be quoted (quotes removed, ``\\"``
    and ``\\\\`` unescaped), ``+attr`` is written ``My.attr`` and keys may not start
    with ``queue``.  Returns the pairs read and an error reason (``""`` if none).
    """
    pairs: list[tuple[str, str]] = []
    pos = 0
    length = len(text)
    while True:
        simple = _SIMPLE_PAIR.match(text, pos)
        if simple is not None:
            key, value = simple.group(1), simple.group(2)
            if value.startswith('"'):
                value = value[1:-1]
            pos = simple.end()
        else:
            pos = _skip_blanks(text, pos)
            if pos >= length:
                break
            start = pos
            while pos < length and text[pos] not in _BLANK and text[pos] != "=":
                pos += 1
            key = text[start:pos]
            if not key:
                return pairs, "Key value pair missing key"
            if '"' in key or "'" in key:
                return pairs, "Key contains quotation mark"
            pos = _skip_blanks(text, pos)
            if pos >= length:
                return pairs, "Key value pair missing operator and value"
            if text[pos] != "=":
                return pairs, "Key value pair missing value: Failed to locate operator"
            pos = _skip_blanks(text, pos + 1)
            if pos >= length:
                return pairs, "Key value pair missing value: No value specified"
            if text[pos] == "=":
                return pairs, "Key value pair missing value: Double operator"
            value, pos, error = _read_value(text, pos)
            if error:
                return pairs, error
        if key == "+" or _ALNUM.search(key) is None:
            return pairs, "Variable name must contain at least one alphanumeric character"
        if key.startswith("+"):
            key = "My." + key[1:]
        if key.lower().startswith("queue"):
            return pairs, f"Illegal variable name '{key}': name can not begin with 'queue'"
        pairs.append((key, value))
    return pairs, ""


def parse_dag_text(text: str, filename: str, *, allow_illegal_chars: bool = False
                   ) -> tuple[list[Command], list[SyntaxIssue]]:
    """Parse the text of one DAG file into commands and syntax errors.

    ``filename`` is used in messages exactly as given (DAGMan prints the path it was
    handed).  INCLUDE and SPLICE are returned as commands, not followed.
    """
    return _CommandParser(text, filename, allow_illegal_chars).parse()
