"""Keeping the cyclic garbage collector off long-lived structures."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from gwdag.dagman.gcpause import paused_gc, set_aside_from_gc


@pytest.fixture(autouse=True)
def _restore_collector():
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()


def test_paused_gc_restores_the_collector_state():
    gc.enable()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    with paused_gc():
        assert not gc.isenabled()
    assert not gc.isenabled()     # it was off before: it stays off


def test_keep_sets_what_the_block_made_aside():
    gc.unfreeze()
    with paused_gc(keep=True):
        kept = [[] for _ in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(kept)
    with paused_gc():
        pass
    assert gc.get_freeze_count() >= len(kept)


def test_set_aside_is_undone_on_exit_and_cycles_are_collected_after():
    gc.unfreeze()
    gc.collect()
    cycle: list = []
    cycle.append(cycle)
    before = gc.get_freeze_count()
    with set_aside_from_gc():
        assert gc.get_freeze_count() > before
        del cycle
        assert gc.collect() == 0       # set aside: not collected while the block runs
    assert gc.get_freeze_count() == 0
    assert gc.collect() >= 1           # back under the collector: collected now


def test_an_error_in_the_block_still_restores_everything():
    gc.unfreeze()
    gc.enable()
    with pytest.raises(RuntimeError), set_aside_from_gc(), paused_gc(keep=True):
        raise RuntimeError("boom")
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_dag_run_starts_without_a_collection(tmp_path):
    # Before the first job: imports and the DAG's state are built with the
    # collector paused and then set aside, so no pass runs at start-up.
    dag = tmp_path / "d.dag"
    (tmp_path / "j.sub").write_text("executable = /bin/true\nuniverse = local\nqueue\n")
    dag.write_text("".join(f"JOB N{i} j.sub\n" for i in range(300))
                   + "".join(f"PARENT N{i} CHILD N{i + 1}\n" for i in range(299)))
    # (counted from main() on: what the interpreter and gwdag/__main__.py's own
    # imports do before it depends on what the environment imported already)
    code = (
        "import gc, os, sys\n"
        "from gwdag.__main__ import main\n"
        "passes = []\n"
        "gc.callbacks.append(lambda phase, info: phase == 'start' and passes.append(1))\n"
        "def first_spawn(*args, **kwargs):\n"
        "    print(len(passes), flush=True)\n"
        "    os._exit(0)\n"
        "os.posix_spawn = first_spawn\n"
        f"sys.argv = ['gwdag', 'dag', 'run', '--cpus', '1', {str(dag)!r}]\n"
        "main()\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, check=True)
    assert out.stdout.strip() == "0", out.stderr
