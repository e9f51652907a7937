"""The syntax layer against HTCondor's own parser unit-test files."""

from __future__ import annotations

import pytest

from gwdag.dagman.lexer import LineLexer, parse_int
from gwdag.dagman.syntax import Command, parse_dag_text, parse_vars_pairs

from .conftest import DAG_CORPUS, corpus_cases, require_corpus

INT_MAX = 2**31 - 1


def _case(case_id: str) -> dict:
    require_corpus()
    return next(c for c in corpus_cases() if c["id"] == case_id)


def _flag(value: bool) -> str:
    return "T" if value else "F"


def _inline(text: str | None) -> str:
    return "{NONE}" if text is None else "{" + text.replace("\n", "\x1f") + "}"


def render(cmd: Command) -> str:
    """A command as HTCondor's DagParser unit test prints it."""
    f = cmd.fields
    k = cmd.keyword
    if k in ("JOB", "FINAL", "PROVISIONER", "SERVICE", "SUBDAG"):
        body = (f"{f['name']} {f['submit']} {_inline(f['inline'])} {f['dir'] or ''} "
                f"{_flag(f['noop'])} {_flag(f['done'])}")
    elif k == "REJECT":
        body = f"{cmd.file}:{cmd.line}"
    elif k == "SPLICE":
        body = f"{f['name']} {f['dagfile']} {f['dir'] or ''}"
    elif k == "SUBMIT_DESCRIPTION":
        body = f"{f['name']} {_inline(f['inline'])}"
    elif k == "PARENT":
        body = ("WEAK " if f["weak"] else "") + \
            f"[ {' '.join(f['parents'])} ] --> [ {' '.join(f['children'])} ]"
    elif k == "SCRIPT":
        time = 0 if f["defer_time"] is None else f["defer_time"]
        status = -1 if f["defer_status"] is None else f["defer_status"]
        body = (f"{f['node']} {f['type']} '{f['command']}' {time} {status} "
                f"{f['debug_file'] or ''} {f['debug_stream'] or 'NONE'}")
    elif k == "RETRY":
        body = f"{f['node']} {f['retries']} {f['unless_exit'] or 0}"
    elif k == "ABORT_DAG_ON":
        ret = INT_MAX if f["return_value"] is None else f["return_value"]
        body = f"{f['node']} {f['status']} {ret}"
    elif k == "VARS":
        mode = {None: "", True: "APPEND ", False: "PREPEND "}[f["append"]]
        body = f"{f['node']} {mode}" + " ".join(f"[{a}={b}]" for a, b in sorted(f["pairs"]))
    elif k == "PRIORITY":
        body = f"{f['node']} {f['priority']}"
    elif k == "PRE_SKIP":
        body = f"{f['node']} {f['exit_code']}"
    elif k == "TOLERANCE":
        body = f"{f['node']} {f['value']} {_flag(f['percent'])} {f['mode'] or 'AUTO'}"
    elif k == "SAVE_POINT_FILE":
        body = f"{f['node']} {f['file']}"
    elif k == "CATEGORY":
        body = f"{f['category']} {f['node']}"
    elif k == "MAXJOBS":
        body = f"{f['category']} {f['limit']}"
    elif k in ("CONFIG", "INCLUDE", "JOBSTATE_LOG"):
        body = f["file"]
    elif k == "DOT":
        body = (f"{f['file']} {f['include'] or ''} {_flag(bool(f['update']))} "
                f"{_flag(bool(f['overwrite']))}")
    elif k == "NODE_STATUS_FILE":
        body = f"{f['file']} {f['min_update']} {_flag(f['always_update'])}"
    elif k == "ENV":
        variables = f["variables"] if f["action"] == "SET" else ",".join(f["variables"].split())
        body = f"{f['action']} {variables}"
    elif k == "CONNECT":
        body = f"[{f['out_splice']}]--[{f['in_splice']}]"
    elif k in ("PIN_IN", "PIN_OUT"):
        body = f"{f['node']} {f['pin']} {k[4:]}"
    elif k == "DONE":
        body = f["node"]
    elif k == "SET_JOB_ATTR":
        body = f["attribute"]
    else:
        raise AssertionError(k)
    return f"{k} > {body}"


def test_every_command_parses_as_htcondor_does():
    case = _case("parser-unit-successful")
    path = DAG_CORPUS / case["dir"] / case["top_dags"][0]
    commands, issues = parse_dag_text(path.read_text(), path.name)
    assert issues == []
    assert [render(c) for c in commands] == case["expected"]["parsed_commands_in_order"]


def test_every_parse_error_has_dagmans_line_and_message():
    case = _case("parser-unit-parse-failure")
    path = DAG_CORPUS / case["dir"] / case["top_dags"][0]
    commands, issues = parse_dag_text(path.read_text(), path.name)
    assert commands == []
    assert [i.message for i in issues] == case["expected"]["errors_in_order"]


@pytest.mark.parametrize("case_id", ["parser-unit-submit-desc-no-end",
                                     "parser-unit-inline-node-no-desc-end",
                                     "submit-description-missing-brace"])
def test_unterminated_inline_descriptions(case_id):
    case = _case(case_id)
    path = DAG_CORPUS / case["dir"] / case["top_dags"][0]
    _, issues = parse_dag_text(path.read_text(), path.name)
    assert [i.message for i in issues] == case["expected"]["errors_in_order"]


def test_keywords_ignore_case_and_dash_underscore():
    text = ("job A a.sub\nPre-Skip A 3\nabort_dag_on A 1 return 2\n"
            "SUBMIT-description d {\nqueue\n}\n")
    commands, issues = parse_dag_text(text, "x.dag")
    assert issues == []
    assert [c.keyword for c in commands] == ["JOB", "PRE_SKIP", "ABORT_DAG_ON",
                                             "SUBMIT_DESCRIPTION"]
    assert commands[2].fields["return_value"] == 2


def test_continuation_lines_and_comments_between_pieces():
    text = "JOB A a.sub\nDONE \\\n# a comment\n   \\\n\nA\n// trailing comment\n"
    commands, issues = parse_dag_text(text, "x.dag")
    assert issues == []
    assert commands[1].keyword == "DONE" and commands[1].fields["node"] == "A"
    assert commands[1].line == 2


def test_hash_inside_a_line_is_not_a_comment():
    commands, _ = parse_dag_text("SCRIPT POST A post.sh #1 $RETURN\n", "x.dag")
    assert commands[0].fields["command"] == "post.sh #1 $RETURN"


def test_illegal_plus_is_allowed_on_request():
    text = "JOB S+A a.sub\n"
    _, issues = parse_dag_text(text, "x.dag")
    assert "illegal charater" in issues[0].message
    commands, issues = parse_dag_text(text, "x.dag", allow_illegal_chars=True)
    assert issues == [] and commands[0].fields["name"] == "S+A"


def test_quoted_file_names_lose_their_quotes():
    commands, issues = parse_dag_text('JOB A "my job.sub" DIR "a dir"\n', "x.dag")
    assert issues == []
    assert commands[0].fields["submit"] == "my job.sub"
    assert commands[0].fields["dir"] == "a dir"


def test_unterminated_quote():
    _, issues = parse_dag_text('JOB A "a.sub\n', "x.dag")
    assert issues[0].message.endswith("Invalid quoting: no ending quote found")


@pytest.mark.parametrize("text,expected", [
    ('x="1" y = 2', [("x", "1"), ("y", "2")]),
    ("a='it\\'s' b=\"say \\\"hi\\\"\"", [("a", "it's"), ("b", 'say "hi"')]),
    ('+Attr=3', [("My.Attr", "3")]),
    ('v="a b  c"', [("v", "a b  c")]),
])
def test_vars_pairs(text, expected):
    pairs, error = parse_vars_pairs(text)
    assert error == "" and pairs == expected


def test_lexer_joins_key_value_across_blanks():
    lexer = LineLexer("VARS A  k =  v  next")
    assert [lexer.next(), lexer.next(), lexer.next(), lexer.next()] == ["VARS", "A", "k=v", "next"]


@pytest.mark.parametrize("text,value", [("5", 5), ("-3", -3), ("+7", 7), ("12abc", 12),
                                        ("abc", None), ("", None), ("99999999999", None)])
def test_parse_int_is_stoi(text, value):
    assert parse_int(text) == value
