"""The local executor's submit-description cache returns what a fresh read does."""

from __future__ import annotations

import pytest

from gwdag.executors.jobspec import JobSpecCache, read_job_spec

BASE = "universe = local\nexecutable = /bin/echo\n"


@pytest.mark.parametrize("text, macros_a, macros_b, hit", [
    (BASE + "arguments = hello\nqueue\n", {"JOB": "A"}, {"JOB": "B"}, True),
    (BASE + "arguments = $(JOB)\nqueue\n", {"JOB": "A"}, {"JOB": "B"}, False),
    (BASE + "arguments = $(JOB)\nqueue\n", {"JOB": "A"}, {"JOB": "A"}, True),
    (BASE + "x = $(nodename)\narguments = $(x)\nqueue\n",          # through a macro
     {"JOB": "A", "nodename": "n1"}, {"JOB": "B", "nodename": "n2"}, False),
    (BASE + "arguments = $(Cluster).$(Process)\nqueue 2\n", {"JOB": "A"}, {"JOB": "A"}, False),
    (BASE + "arguments = $ENV(HOME)\nqueue\n", {"JOB": "A"}, {"JOB": "A"}, False),
    (BASE + "arguments = $(v:default)\nqueue\n", {"v": "1"}, {"v": "2"}, False),
    # Values that refer on: to a per-proc macro, to a macro function, to another
    # macro (same values both times: a hit).
    (BASE + "arguments = $(x)\nqueue 2\n", {"x": "$(ProcId)"}, {"x": "$(ProcId)"}, False),
    (BASE + "arguments = $(x)\nqueue\n", {"x": "$ENV(HOME)"}, {"x": "$ENV(HOME)"}, False),
    (BASE + "arguments = $(x)\nqueue\n", {"x": "$(y)", "y": "1"}, {"x": "$(y)", "y": "1"},
     True),
    (BASE + "arguments = $(x)\nqueue\n", {"x": "$(y)", "y": "1"}, {"x": "$(y)", "y": "2"},
     False),
])
def test_cache_matches_a_fresh_read(tmp_path, text, macros_a, macros_b, hit):
    cache = JobSpecCache()
    first = cache.read(text, str(tmp_path), macros_a, {}, 7)
    second = cache.read(text, str(tmp_path), macros_b, {}, 8)
    fresh = read_job_spec(text, str(tmp_path), macros_b, {}, cluster=8)
    assert [p.argv for p in second.procs] == [p.argv for p in fresh.procs]
    assert [p.argv for p in first.procs] == \
        [p.argv for p in read_job_spec(text, str(tmp_path), macros_a, {}, cluster=7).procs]
    assert cache.hits == int(hit)


def test_vars_that_are_submit_commands_or_attributes_are_part_of_the_key(tmp_path):
    """A node's VARS can set a submit command or an attribute the description
    never refers to (VARS B request_memory="200", VARS B +Foo="..."): two nodes
    sharing that description must not share its spec."""
    text = BASE + "arguments = hello\nqueue\n"
    cache = JobSpecCache()
    a = cache.read(text, str(tmp_path), {"JOB": "A", "request_memory": "100", "+Foo": '"a"'},
                   {}, 7)
    b = cache.read(text, str(tmp_path), {"JOB": "B", "request_memory": "200", "+Foo": '"b"'},
                   {}, 8)
    appended = cache.read(text, str(tmp_path), {"JOB": "C"}, {"request_memory": "300"}, 9)
    assert (a.request_memory_mb, b.request_memory_mb, appended.request_memory_mb) == \
        (100, 200, 300)
    assert [a.procs[0].attributes.get("Foo"), b.procs[0].attributes.get("Foo")] == \
        ['"a"', '"b"']
    assert cache.hits == 0
    # DAGMan's own macros still share the spec when the text does not use them.
    cache.read(text, str(tmp_path), {"JOB": "D", "RETRY": "1", "request_memory": "200",
                                     "+Foo": '"b"'}, {}, 10)
    assert cache.hits == 1


def test_a_text_without_macros_gives_one_shared_spec(tmp_path):
    """Nodes without VARS share the spec of a description that uses no macro;
    a description that uses one is not read on that path at all."""
    cache = JobSpecCache()
    text = BASE + "arguments = x\n+site = \"a\"\nqueue\n"
    one = cache.read_static(text, str(tmp_path), 1)
    two = cache.read_static(text, str(tmp_path), 2)
    fresh = read_job_spec(text, str(tmp_path), {}, {}, cluster=2)
    assert one is two and cache.hits == 1
    assert (one.procs[0].argv, one.procs[0].attributes) == \
        (fresh.procs[0].argv, fresh.procs[0].attributes)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert cache.read_static(text, str(elsewhere), 3).procs[0].iwd == str(elsewhere)
    assert cache.read_static(BASE + "arguments = $(JOB)\nqueue\n", str(tmp_path), 4) is None


def test_items_read_from_a_file_are_read_again(tmp_path):
    """Two nodes share a description whose items a PRE script rewrites."""
    cache = JobSpecCache()
    text = BASE + "arguments = $(word)\nqueue word from items.txt\n"
    (tmp_path / "items.txt").write_text("a\nb\n")
    first = cache.read(text, str(tmp_path), {"JOB": "A"}, {}, 1)
    (tmp_path / "items.txt").write_text("c\n")
    second = cache.read(text, str(tmp_path), {"JOB": "B"}, {}, 2)
    assert [p.argv[1:] for p in first.procs] == [["a"], ["b"]]
    assert [p.argv[1:] for p in second.procs] == [["c"]]
    assert cache.hits == 0
