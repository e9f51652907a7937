"""The embedded executor: runs a DAG on this machine with DAGMan's semantics and
writes DAGMan's artifacts (``shared/reference/dagman.md`` §3–9).

One process, one event loop.  Node jobs and PRE/POST scripts are child processes,
each in its own process group; their exits arrive through pidfds in a selector, so
a child is started the moment its last parent finishes (DAGMan waits for its next
log scan, 5 s by default).  What a pool would log, this writes: every job event in
``<dag>.nodes.log`` (and in the job's own ``log``), ``<dag>.dagman.out``,
``<dag>.metrics``, the node status file and jobstate log when asked for, rescue DAGs.

Deviations from condor_dagman, all for a single machine: a submit that fails (no
such submit file or executable, an unsupported universe) fails at once instead of
after DAGMAN_MAX_SUBMIT_ATTEMPTS tries spread over minutes; procs are started as
``--cpus``/``--memory`` allow instead of by a negotiator; a job whose executable
cannot be started is held and removed (RETURN -1002) rather than left on hold.
"""

from __future__ import annotations

import heapq
import json
import operator
import os
import re
import select
import selectors
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..dagman.eventlog import EventLogWriter, Usage
from ..dagman.gcpause import paused_gc, set_aside_from_gc
from ..dagman.loader import load_dag, read_config_knobs
from ..dagman.model import Dag, Node, NodeKind, Script
from ..dagman.rescue import (
    done_nodes_in,
    newest_rescue,
    next_rescue_path,
    rescue_text,
    save_point_text,
)
from ..dagman.states import DagStatus, NodeStatus
from ..dagman.status_file import (
    DagCounts,
    NodeStatusRow,
    jobstate_line,
    status_file_text,
    write_status_file,
)
from .jobspec import JobSpec, JobSpecCache, JobSpecError, ProcSpec, universe_number

if TYPE_CHECKING:
    import resource

__all__ = ["RunOptions", "RunResult", "LocalExecutor", "run_dag", "DagAlreadyRunning",
           "lock_path", "running_pid", "machine_memory_mb"]

#: $RETURN values DAGMan uses for jobs that did not exit by themselves.
RETURN_SUBMIT_FAILED = -1001
RETURN_JOB_REMOVED = -1002
RETURN_PRE_FAILED = -1004


class DagAlreadyRunning(Exception):
    """A second ``run`` of a DAG whose lock is held by a live process."""


def machine_memory_mb() -> int:
    """Physical memory of this machine in MB."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    except (ValueError, OSError):  # pragma: no cover - non-POSIX
        return 0


def lock_path(dag_path: str) -> str:
    return dag_path + ".lock"


def running_pid(dag_path: str) -> int | None:
    """The pid of a live executor running ``dag_path``, from its lock file."""
    try:
        with open(lock_path(dag_path), encoding="utf-8") as handle:
            pid = int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


@dataclass
class RunOptions:
    """Throttles and switches of one run (condor_submit_dag's options)."""

    max_jobs: int = 0  # submitted nodes at once; 0 = unlimited
    max_idle: int = 0  # idle procs at once; 0 = unlimited
    max_pre: int = 20
    max_post: int = 20
    cpus: int = field(default_factory=lambda: os.cpu_count() or 1)
    memory_mb: int = field(default_factory=machine_memory_mb)
    always_run_post: bool | None = None  # None: DAGMAN_ALWAYS_RUN_POST from CONFIG
    use_dag_dir: bool = False
    force: bool = False  # ignore (and keep) rescue DAGs
    halt_poll: float = 0.5  # seconds between checks for the halt file while idle
    status_interval: float = 0.1  # least seconds between dagman.out status blocks
    settle: float = 0.03  # seconds of pause before the first job of a large DAG; 0: none


@dataclass
class RunResult:
    exit_code: int
    dag_status: DagStatus
    nodes: dict[str, NodeStatus]
    rescue_file: str | None
    duration: float


#: Job nodes from which a DAG is paused for ``RunOptions.settle`` before its first job.
SETTLE_MIN_JOBS = 100

#: Signals a job starts with at their default action, as subprocess does.
_RESET_SIGNALS = tuple(getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ")
                       if hasattr(signal, name))


class _Started:
    """A job started with posix_spawn: its pid, and its return code once reaped
    (negative: killed by that signal) — the part of Popen the executor uses."""

    __slots__ = ("pid", "returncode")

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None


class _Scratch:
    """A job's scratch directory with its ``.job.ad`` kept open: a finished
    job's directory is handed to the next job, whose ad is written over the
    last one in place — one ``pwrite`` per job instead of open, write, truncate
    and close (ext4 flushes a freshly written file that is unlinked or
    truncated to nothing: ~0.3 ms)."""

    __slots__ = ("path", "ad_path", "ad_fd", "ad_inode", "ad_size")

    def __init__(self, root: str) -> None:
        self.path = tempfile.mkdtemp(prefix="job-", dir=root)   # absolute
        self.ad_path = self.path + "/.job.ad"
        self.ad_fd = os.open(self.ad_path,
                             os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        self.ad_inode = os.fstat(self.ad_fd).st_ino
        self.ad_size = 0

    def write_ad(self, data: bytes) -> None:
        """Make ``data`` the whole content of the ad (truncated only when shorter
        than the last one)."""
        written = os.pwrite(self.ad_fd, data, 0)
        while written < len(data):
            written += os.pwrite(self.ad_fd, data[written:], written)
        if len(data) < self.ad_size:
            os.ftruncate(self.ad_fd, len(data))
        self.ad_size = len(data)

    def reusable(self) -> bool:
        """Did the job leave its directory as it found it: its ad (the same
        file, not a new one or a link, of the size written) and nothing else?"""
        try:
            if os.listdir(self.path) != [".job.ad"]:
                return False
            info = os.lstat(self.ad_path)
        except OSError:
            return False
        return (info.st_ino == self.ad_inode and info.st_size == self.ad_size
                and stat.S_ISREG(info.st_mode))

    def close(self) -> None:
        if self.ad_fd >= 0:
            os.close(self.ad_fd)
            self.ad_fd = -1

    def remove(self) -> None:
        self.close()
        _rmtree(self.path)


class _Proc:
    """One proc of a node's job.  Plain class attributes are the defaults: one
    is made per job, and only what differs from them is set on it."""

    popen: _Started | subprocess.Popen[bytes] | None = None
    files: tuple = ()  # its open stdin/stdout/stderr files while it starts
    exit_code: int | None = None
    signal: int | None = None
    removed = False
    scratch: _Scratch | None = None
    env: dict[str, str] | None = None  # from its scratch directory's assignment to its start

    def __init__(self, spec: ProcSpec) -> None:
        self.spec = spec


class _NodeRun:
    """The run-time state of one node."""

    __slots__ = ("node", "status", "waiting", "retries", "pre_return", "job_return",
                 "retval", "cluster", "job", "procs", "procs_left", "seq", "details",
                 "script", "started_once")

    def __init__(self, node: Node) -> None:
        self.node = node
        self.status = NodeStatus.NOT_READY
        self.waiting = 0
        self.retries = 0
        self.pre_return: int | None = None
        self.job_return: int | None = None
        self.retval: int | None = None
        self.cluster: int | None = None
        self.job: JobSpec | None = None
        self.procs: list[_Proc] = []
        self.procs_left = 0
        self.seq = 0
        self.details = ""
        self.script: subprocess.Popen[bytes] | None = None
        self.started_once = False


_STATUS_OF = operator.attrgetter("status")
#: States of a node with something running or about to run for it.
_ACTIVE = frozenset({NodeStatus.SUBMITTED, NodeStatus.PRERUN, NodeStatus.POSTRUN})
_KIND_OF = operator.attrgetter("node.kind")
_SEQ_OF = operator.attrgetter("seq")

#: Strings printOld writes as they are between double quotes.
_PLAIN_STRING = re.compile(r"[A-Za-z0-9_.+,:@/-]*")
_DYNAMIC_ATTRIBUTES = frozenset({"clusterid", "procid", "dagnodename", "dagparentnodenames",
                                 "qdate"})
_CUSTOM_ATTRIBUTE = re.compile(r"^\s*(?:\+|MY\.)(\w+)\s*=\s*(.*?)\s*$", re.I)


_prefix_cache: list = [-1, ""]


def _now_prefix() -> str:
    """``MM/DD/YY HH:MM:SS `` for now; formatted once per second (a busy DAG writes
    thousands of lines a second)."""
    second = int(time.time())
    if second != _prefix_cache[0]:
        _prefix_cache[:] = [second, time.strftime("%m/%d/%y %H:%M:%S ",
                                                  time.localtime(second))]
    return _prefix_cache[1]


def _signal_exit(status: int) -> tuple[int | None, int | None]:
    """(exit code, signal) from a wait status."""
    if os.WIFSIGNALED(status):
        return None, os.WTERMSIG(status)
    return os.WEXITSTATUS(status), None


class _Watcher:
    """The descriptors the loop waits on (child pidfds and the wake-up pipe), each
    with its data: ``select.epoll`` where there is one, else ``selectors``.

    epoll directly because the selectors layer costs a key object and two
    dictionary updates per job and per exit (with the directory and pid read
    once per run: 7 % less loop CPU on 2,000 empty jobs, docs/executor.md).
    """

    def __init__(self) -> None:
        self._data: dict[int, object] = {}
        self._epoll = select.epoll() if hasattr(select, "epoll") else None
        self._selector = None if self._epoll else selectors.DefaultSelector()

    def register(self, fd: int, data: object) -> None:
        if self._epoll is not None:
            self._epoll.register(fd, select.EPOLLIN)
        else:
            self._selector.register(fd, selectors.EVENT_READ)
        self._data[fd] = data

    def unregister(self, fd: int) -> None:
        del self._data[fd]
        if self._epoll is not None:
            self._epoll.unregister(fd)
        else:
            self._selector.unregister(fd)

    def select(self, timeout: float | None) -> list[tuple[int, object]]:
        """(fd, data) of the descriptors ready within ``timeout`` seconds."""
        if self._epoll is not None:
            ready = self._epoll.poll(-1 if timeout is None else timeout)
            return [(fd, self._data[fd]) for fd, _ in ready if fd in self._data]
        return [(key.fd, self._data[key.fd]) for key, _ in self._selector.select(timeout)
                if key.fd in self._data]

    def close(self) -> None:
        if self._epoll is not None:
            self._epoll.close()
        else:
            self._selector.close()


class LocalExecutor:
    """Runs one DAG file to completion; see the module docstring."""

    def __init__(self, dag_file: str, options: RunOptions | None = None, *,
                 log: Callable[[str], None] | None = None) -> None:
        self.options = options or RunOptions()
        self.echo = log
        self.dag_file = os.path.abspath(dag_file)
        self._halt_file = self.dag_file + ".halt"
        self.cwd = os.path.dirname(self.dag_file) if self.options.use_dag_dir else os.getcwd()
        self.dag: Dag | None = None
        self.runs: dict[str, _NodeRun] = {}
        self.dag_status = DagStatus.OK
        self.next_cluster = 1
        self.seq = 0
        self.ready_counter = 0
        self.ready: list[tuple[int, int, str]] = []  # heap of (-priority, order, node)
        self.pre_queue: deque[str] = deque()
        self.post_queue: deque[tuple[str, int]] = deque()
        self.idle: deque[tuple[_NodeRun, _Proc]] = deque()
        self.timers: list[tuple[float, int, str, str]] = []  # (due, order, node, kind)
        self.scripts_running = {"PRE": 0, "POST": 0}
        self.cpus_used = 0
        self.memory_used = 0
        self.submitted_nodes = 0
        self.category_running: dict[str, int] = {}
        self.watcher = _Watcher()
        self.removed = self.aborted = self.halted = False
        self.abort_return: int | None = None
        self.final_started = False
        self.changed = True
        self.last_status_block = 0.0
        self.last_status_file = 0.0
        self.jobs_submitted = self.jobs_succeeded = self.jobs_failed = 0
        self.rescue_file: str | None = None
        self.start_time = time.time()
        self._wake_r = self._wake_w = -1
        self._noop_subproc = 0
        self._removal_done = False
        self._polled: list[tuple[int, tuple]] = []  # children watched without a pidfd
        # exits reaped and not yet handled: (handler, its arguments), in order
        self._exited: list[tuple[Callable[..., None], tuple]] = []
        self.scratch_root = ""
        self._stamp = _now_prefix()  # the time stamp of dagman.out lines (see _tick)
        self._null_fds: tuple[int, int, int] = (-1, -1, -1)   # /dev/null as a job's streams
        self._null_actions: list[tuple[int, int, int]] = []
        self._cwd_now = ""
        self._counted: list[_NodeRun] | None = None  # non-service runs, for _counts
        self._pid = str(os.getpid())
        self._free_scratch: list[_Scratch] = []
        self._all_scratch: set[_Scratch] = set()   # open ones, to close at the end
        self._submit_texts: dict[str, tuple[tuple[int, int, int], str]] = {}
        self._submit_paths: dict[tuple[str, str], str] = {}  # (DIR, submit file) -> path
        self._spec_cache = JobSpecCache()

    # -- artifacts -------------------------------------------------------------------
    def _out(self, line: str) -> None:
        # Flushed before every wait, not per line: a status block is seven lines.
        self._dagman_out.write(self._stamp + line + "\n")
        if self.echo is not None:
            self.echo(line)

    def _tick(self) -> None:
        """Take the time for the lines written next: once per turn of the loop
        (and at the steps outside it), not per line — four lines per job."""
        self._stamp = _now_prefix()

    def _jobstate(self, node: str, event: str, condor_id: str, nr: _NodeRun | None) -> None:
        if self._jobstate_log is None:
            return
        tag = "-"
        seq: int | str = "-"
        if nr is not None:
            seq = nr.seq
            tag = self._job_tag(nr)
        self._jobstate_log.write(jobstate_line(int(time.time()), node, event, condor_id,
                                               tag, seq))
        self._jobstate_log.flush()

    def _job_tag(self, nr: _NodeRun) -> str:
        """The jobstate.log tag: the attribute ``+job_tag_name`` names (default
        ``pegasus_site``).  DAGMan knows it before the job is submitted (PRE
        lines carry it), so it is read from the submit file when needed."""
        if nr.job is not None and nr.job.procs:
            attrs = nr.job.procs[0].attributes
        else:
            attrs = self._submit_attributes(nr.node)
        name = attrs.get("job_tag_name", "").strip().strip('"').lstrip("+")
        value = attrs.get(name or "pegasus_site", "").strip().strip('"')
        return value or "-"

    def _submit_attributes(self, node: Node) -> dict[str, str]:
        """``+attr = value`` / ``MY.attr = value`` lines of a node's submit file
        (no macro expansion: enough for the job tag)."""
        cached = self._tag_cache.get(node.name)
        if cached is not None:
            return cached
        attrs: dict[str, str] = {}
        if node.kind is NodeKind.JOB:
            try:
                text = self._description_text(node)
            except JobSpecError:
                text = ""      # the submit itself will fail and say why
            for line in text.splitlines():
                match = _CUSTOM_ATTRIBUTE.match(line)
                if match:
                    attrs[match.group(1).lower()] = match.group(2)
        self._tag_cache[node.name] = attrs
        return attrs

    def _counts(self) -> DagCounts:
        # A status block every 0.1 s counts every node, in C (an enum member
        # lookup costs ~0.13 µs on Python 3.11: 0.8 ms a block).
        counted = self._non_service()
        by = Counter(map(_STATUS_OF, counted))
        return DagCounts(total=len(counted), done=by[NodeStatus.DONE],
                         pre=by[NodeStatus.PRERUN], queued=by[NodeStatus.SUBMITTED],
                         post=by[NodeStatus.POSTRUN], ready=by[NodeStatus.READY],
                         unready=by[NodeStatus.NOT_READY], futile=by[NodeStatus.FUTILE],
                         failed=by[NodeStatus.ERROR], procs_idle=len(self.idle))

    def _non_service(self) -> list[_NodeRun]:
        """The runs of every node but SERVICE ones (listed once: the set of
        nodes never changes during a run)."""
        if self._counted is None:
            self._counted = [nr for nr in self.runs.values()
                             if nr.node.kind is not NodeKind.SERVICE]
        return self._counted

    def _status_block(self) -> None:
        c = self._counts()
        self._out(f"DAG status: {int(self.dag_status)} ({self.dag_status.label})")
        self._out(f"Of {c.total} nodes total:")
        self._out(" Done     Pre   Queued    Post   Ready   Un-Ready   Failed   Futile")
        self._out("  ===     ===      ===     ===     ===        ===      ===      ===")
        self._out(f"{c.done:>5} {c.pre:>7} {c.queued:>8} {c.post:>7} {c.ready:>7} "
                  f"{c.unready:>10} {c.failed:>8} {c.futile:>8}")
        self._out("0 job proc(s) currently held")

    def _write_status_file(self, final: bool = False) -> None:
        spec = self.dag.node_status_file if self.dag else None
        if spec is None:
            return
        now = time.time()
        interval = 60 if spec.min_update is None else spec.min_update
        if not final and now - self.last_status_file < interval and not spec.always_update:
            return
        self.last_status_file = now
        rows = []
        for nr in self.runs.values():
            if nr.node.kind is NodeKind.SERVICE:
                continue
            status, details = nr.status, nr.details
            if final and self.exit_code_guess() != 0 and status in (
                    NodeStatus.PRERUN, NodeStatus.SUBMITTED, NodeStatus.POSTRUN):
                details, status = f"Was {status.label}", NodeStatus.ERROR
            if status is NodeStatus.SUBMITTED:
                details = "idle" if any(p.popen is None for p in nr.procs) else "not_idle"
            rows.append(NodeStatusRow(nr.node.name, status, details, nr.retries,
                                      nr.procs_left if status is NodeStatus.SUBMITTED else 0))
        counts = self._counts()
        if final:
            code = self.exit_code_guess()
            dag_status = NodeStatus.DONE if code == 0 else NodeStatus.ERROR
            if code == 0:
                note = "success"
            elif self.removed:
                note = "removed"
            elif self.aborted:
                note = "aborted"
            elif self.dag_status is DagStatus.CYCLE:
                note = "cycle"
            else:
                note = "failed"
            moved = counts.pre + counts.queued + counts.post if code != 0 else 0
            if moved:
                counts = DagCounts(counts.total, counts.done, 0, 0, 0, counts.ready,
                                   counts.unready, counts.futile, counts.failed + moved)
            next_update = None
        else:
            dag_status, note = NodeStatus.SUBMITTED, ""
            next_update = int(now + interval)
        text = status_file_text([os.path.basename(self.dag_file)], dag_status, note, counts,
                                rows, now=now, next_update=next_update)
        write_status_file(os.path.join(self.cwd, spec.file), text)

    # -- setup -------------------------------------------------------------------------
    def _setup(self) -> int | None:
        """Load the DAG and prepare the artifacts; an exit code when it cannot run."""
        base = self.dag_file
        self._tick()
        self._dagman_out = open(base + ".dagman.out", "a", encoding="utf-8")
        self._jobstate_log = None
        self._tag_cache: dict[str, dict[str, str]] = {}
        self._static_ads: dict[tuple, tuple[str, bool]] = {}   # by what decides them
        self._ads_by_spec: dict[ProcSpec, tuple[str, bool]] = {}  # the same, by spec
        self._executables: set[str] = set()
        self._out("******************************************************")
        self._out("** condor_scheduniv_exec.0.0 (CONDOR_DAGMAN) STARTING UP")
        self._out(f"** gwdag local executor, pid {os.getpid()}")
        self._out("******************************************************")
        result = load_dag(self.dag_file, cwd=self.cwd)
        self._tick()
        if result.errors:
            for issue in result.errors:
                self._out(f"ERROR: {issue.message}")
            self._out("Aborting DAG because of parse errors")
            self.dag_status = DagStatus.ERROR
            return 1
        self.dag = dag = result.dag
        self.knobs = read_config_knobs(os.path.join(self.cwd, dag.config)) if dag.config else {}
        # As in HTCondor, _CONDOR_<KNOB> in the environment overrides the configuration.
        for key, value in os.environ.items():
            if key.startswith("_CONDOR_DAGMAN_"):
                self.knobs[key[len("_CONDOR_"):].upper()] = value
        if self.options.always_run_post is None:
            self.options.always_run_post = self._knob_bool("DAGMAN_ALWAYS_RUN_POST", False)
        for knob, attr in (("DAGMAN_MAX_JOBS_SUBMITTED", "max_jobs"),
                           ("DAGMAN_MAX_JOBS_IDLE", "max_idle"),
                           ("DAGMAN_MAX_PRE_SCRIPTS", "max_pre"),
                           ("DAGMAN_MAX_POST_SCRIPTS", "max_post")):
            if knob in self.knobs and getattr(self.options, attr) == getattr(RunOptions(), attr):
                try:
                    setattr(self.options, attr, int(self.knobs[knob]))
                except ValueError:
                    self._out(f"Warning: ignoring {knob} = {self.knobs[knob]}")
        provisioners = [n.name for n in dag.nodes.values() if n.kind is NodeKind.PROVISIONER]
        if provisioners:
            self._out(f"ERROR: PROVISIONER node {provisioners[0]} needs an HTCondor pool "
                      "(it provisions execute resources); run this DAG with the condor "
                      "executor")
            self.dag_status = DagStatus.ERROR
            return 1
        for node in dag.nodes.values():
            self.runs[node.name] = _NodeRun(node)
        rescue = None if self.options.force else newest_rescue(self.dag_file)
        done_from_rescue: set[str] = set()
        if rescue is not None:
            self._out(f"Found rescue DAG number {rescue[0]}; running {rescue[1]} in "
                      "combination with normal DAG file")
            for name in done_nodes_in(rescue[1]):
                if name in self.runs:
                    done_from_rescue.add(name)
        for name, nr in self.runs.items():
            if nr.node.done or name in done_from_rescue:
                nr.status = NodeStatus.DONE
                nr.details = "User defined as DONE" if nr.node.done else ""
        if dag.jobstate_log:
            self._jobstate_log = open(os.path.join(self.cwd, dag.jobstate_log), "a",
                                      encoding="utf-8")
            self._jobstate_log.write(f"{int(time.time())} INTERNAL *** DAGMAN_STARTED "
                                     f"{os.getpid()}.0 ***\n")
        # Buffered: written before every wait and before a script starts (a POST
        # script may read its job's events), one write instead of three per job.
        self.nodes_log = EventLogWriter(base + ".nodes.log", truncate=True, buffered=True)
        self.scratch_root = tempfile.mkdtemp(prefix="gwdag-run-")
        _close_on_exec_above_stderr()
        self._open_null()
        try:
            self._cwd_now = os.getcwd()   # read once: the executor never changes directory
        except OSError:
            self._cwd_now = ""
        self._out(f"Dag contains {len(self.runs)} total nodes")
        return None

    def _knob_bool(self, knob: str, default: bool) -> bool:
        value = self.knobs.get(knob)
        if value is None:
            return default
        return value.strip().lower() in ("true", "1", "yes")

    # -- graph ---------------------------------------------------------------------------
    def _initial_readiness(self) -> None:
        dag = self.dag
        runs = self.runs
        outside = (NodeKind.FINAL, NodeKind.SERVICE)
        # A node waits for every parent not DONE yet; counted from the DONE side
        # (nodes marked DONE or done in a rescue DAG: few or none on a first run).
        parents = dag.parents
        for name, nr in runs.items():
            if nr.node.kind not in outside:
                nr.waiting = len(parents.get(name, ()))
        for name, nr in runs.items():
            if nr.status is NodeStatus.DONE:
                for child in dag.children.get(name, ()):
                    if runs[child].node.kind not in outside:
                        runs[child].waiting -= 1
        for nr in runs.values():
            if nr.node.kind in outside:
                continue
            if nr.status is NodeStatus.NOT_READY and nr.waiting == 0:
                self._make_ready(nr)

    def _make_ready(self, nr: _NodeRun) -> None:
        nr.status = NodeStatus.READY
        nr.seq = 0  # a new attempt: numbered when its PRE script or job starts
        self.changed = True
        if nr.node.scripts.get("PRE") is not None:
            self.pre_queue.append(nr.node.name)
        else:
            self._queue_for_submit(nr)

    def _queue_for_submit(self, nr: _NodeRun) -> None:
        nr.status = NodeStatus.READY
        self.ready_counter += 1
        heapq.heappush(self.ready, (-nr.node.priority, self.ready_counter, nr.node.name))

    def _parent_finished(self, parent: str, success: bool) -> None:
        for child, weak in self.dag.children.get(parent, {}).items():
            cr = self.runs[child]
            if cr.status is not NodeStatus.NOT_READY:
                continue
            if success or weak:
                cr.waiting -= 1
                if cr.waiting == 0 and not self._stopping():
                    self._make_ready(cr)
            else:
                self._futilize(child)

    def _futilize(self, name: str) -> None:
        stack = [name]
        while stack:
            current = stack.pop()
            cr = self.runs[current]
            if cr.status is not NodeStatus.NOT_READY:
                continue
            cr.status = NodeStatus.FUTILE
            cr.details = "Had an ancestor node fail"
            self.changed = True
            for child, weak in self.dag.children.get(current, {}).items():
                if weak:
                    self._parent_finished_single(child)
                else:
                    stack.append(child)

    def _parent_finished_single(self, child: str) -> None:
        cr = self.runs[child]
        if cr.status is NodeStatus.NOT_READY:
            cr.waiting -= 1
            if cr.waiting == 0 and not self._stopping():
                self._make_ready(cr)

    def _stopping(self) -> bool:
        return (self.removed or self.aborted or self.halted) and not self.final_started

    # -- macros ------------------------------------------------------------------------
    def _failed_count(self) -> int:
        return sum(1 for nr in self.runs.values()
                   if nr.status is NodeStatus.ERROR and nr.node.kind is not NodeKind.SERVICE)

    def _script_argv(self, nr: _NodeRun, script: Script) -> list[str]:
        counts = self._counts()
        node = nr.node
        values = {
            "$JOB": node.name, "$NODE": node.name, "$RETRY": str(nr.retries),
            "$MAX_RETRIES": str(node.retry), "$NODE_COUNT": str(len(self.runs)),
            "$QUEUED_COUNT": str(counts.queued), "$DONE_COUNT": str(counts.done),
            "$FAILED_COUNT": str(self._failed_count()), "$FUTILE_COUNT": str(counts.futile),
            "$DAGID": str(os.getpid()), "$DAG_STATUS": str(int(self.dag_status)),
        }
        if script.type != "PRE":
            codes = [p.exit_code if p.signal is None else -p.signal for p in nr.procs
                     if p.exit_code is not None or p.signal is not None]
            cluster = nr.cluster if nr.cluster is not None else -1
            job_return = nr.job_return if nr.job_return is not None else 0
            values.update({
                "$JOBID": f"{cluster}.{max(len(nr.procs) - 1, 0)}",
                "$CLUSTERID": str(cluster), "$JOB_COUNT": str(len(nr.procs)),
                "$JOB_ABORT_COUNT": str(sum(1 for p in nr.procs if p.removed)),
                "$SUCCESS": "True" if job_return == 0 else "False",
                "$RETURN": str(job_return),
                "$PRE_SCRIPT_RETURN": str(nr.pre_return if nr.pre_return is not None else -1),
                "$EXIT_CODES": ",".join(str(c) for c in sorted(set(codes))),
                "$EXIT_CODE_COUNTS": ",".join(f"{c}:{codes.count(c)}" for c in sorted(set(codes))),
                "$EXIT_CODE_LIST": ",".join(str(c) for c in codes),
            })
        argv = []
        for token in script.command.split():
            argv.append(values.get(token.upper(), token) if token.startswith("$") else token)
        return argv

    # -- scripts -----------------------------------------------------------------------
    def _node_dir(self, node: Node) -> str:
        return os.path.normpath(os.path.join(self.cwd, node.dir)) if node.dir else self.cwd

    def _script_executable(self, name: str, node_dir: str) -> str:
        """A script's program: absolute as given; else in the node's DIR; else
        relative to the DAG working directory (DAGMan's DaemonCore makes a
        relative executable absolute against its own cwd before running the
        script in the node's DIR: job_dagman_default_log keeps a DIR node's PRE
        script beside the DAG); else a command on PATH."""
        if os.path.isabs(name):
            return name
        for base in (node_dir, self.cwd):
            candidate = os.path.join(base, name)
            if os.path.exists(candidate):
                return candidate
        return name if "/" not in name else os.path.join(node_dir, name)

    def _start_script(self, nr: _NodeRun, kind: str) -> None:
        node = nr.node
        script = node.scripts[kind]
        argv = self._script_argv(nr, script)
        nr.status = NodeStatus.PRERUN if kind == "PRE" else NodeStatus.POSTRUN
        self.changed = True
        self.scripts_running[kind] += 1
        self._out(f"Running {kind} script of Node {node.name}...")
        condor_id = "-" if kind == "PRE" else f"{nr.cluster if nr.cluster else 0}.0"
        self._jobstate(node.name, f"{kind}_SCRIPT_STARTED", condor_id, nr)
        out = subprocess.DEVNULL
        debug = None
        if script.debug_file:
            debug = open(os.path.join(self._node_dir(node), script.debug_file), "ab")
            out = debug
        cwd = self._node_dir(node)
        executable = self._script_executable(argv[0], cwd)
        self.nodes_log.flush()   # the script may read the events so far
        try:
            popen = subprocess.Popen(
                [executable, *argv[1:]], cwd=cwd, stdin=subprocess.DEVNULL,
                stdout=out if script.debug_stream in ("STDOUT", "ALL") else subprocess.DEVNULL,
                stderr=out if script.debug_stream in ("STDERR", "ALL") else subprocess.DEVNULL,
                start_new_session=True)
        except OSError as exc:
            self._out(f"ERROR: failed to run {kind} script of node {node.name}: {exc}")
            self.scripts_running[kind] -= 1
            self._script_done(nr, kind, 1, None)
            return
        finally:
            if debug:
                debug.close()
        nr.script = popen
        self._watch(popen.pid, ("script", nr, kind, popen))

    def _script_exited(self, nr: _NodeRun, kind: str, code: int | None, sig: int | None) -> None:
        """Handle a reaped script (exit code, or the signal that killed it)."""
        self.scripts_running[kind] -= 1
        nr.script = None
        script = nr.node.scripts[kind]
        if (script.defer_status is not None and sig is None and code == script.defer_status
                and not self._stopping()):
            delay = script.defer_time or 0
            self._out(f"Deferring {kind} script of node {nr.node.name} for {delay} seconds "
                      f"(exit status was {code})...")
            self.seq += 1
            heapq.heappush(self.timers, (time.monotonic() + delay, self.seq, nr.node.name, kind))
            return
        self._script_done(nr, kind, code, sig)

    def _script_done(self, nr: _NodeRun, kind: str, code: int | None, sig: int | None) -> None:
        value = -sig if sig is not None else (code or 0)
        node = nr.node
        if kind == "PRE":
            nr.pre_return = value
            if node.pre_skip is not None and sig is None and code == node.pre_skip:
                self._out(f"PRE_SKIP return value {code} indicates we are done (successfully) "
                          f"with node {node.name}")
                self._noop_subproc += 1
                self.nodes_log.preskip(self._noop_subproc, node.name)
                self._jobstate(node.name, "PRE_SCRIPT_SUCCESS", "-", nr)
                self._node_succeeded(nr)
                return
            if value == 0:
                self._out(f"PRE Script of node {node.name} completed successfully.")
                self._jobstate(node.name, "PRE_SCRIPT_SUCCESS", "-", nr)
                self._queue_for_submit(nr)
                self.changed = True
                return
            self._out(f"PRE Script of Node {node.name} failed with status {value}")
            self._jobstate(node.name, "PRE_SCRIPT_FAILURE", "-", nr)
            nr.details = f"PRE Script failed with status {value}"
            if self.options.always_run_post and "POST" in node.scripts:
                nr.job_return = RETURN_PRE_FAILED
                self.post_queue.append((node.name, 0))
                return
            self._node_failed(nr, value, from_pre=True)
            return
        # POST
        cluster = nr.cluster if nr.cluster is not None else 0
        self.nodes_log.post_script_terminated(cluster, node.name, return_value=code, signal=sig)
        self._jobstate(node.name, "POST_SCRIPT_TERMINATED", f"{cluster}.0", nr)
        if value == 0:
            self._out(f"POST Script of node {node.name} completed successfully.")
            self._jobstate(node.name, "POST_SCRIPT_SUCCESS", f"{cluster}.0", nr)
            nr.retval = 0
            if self._check_abort(nr, 0):
                nr.status = NodeStatus.DONE
                self._parent_finished(node.name, True)
                return
            self._node_succeeded(nr)
        else:
            self._out(f"POST Script of node {node.name} failed with status {value}")
            self._jobstate(node.name, "POST_SCRIPT_FAILURE", f"{cluster}.0", nr)
            nr.details = f"POST script failed with status {value}"
            self._node_failed(nr, value)

    # -- jobs --------------------------------------------------------------------------
    def _submit(self, nr: _NodeRun) -> None:
        node = nr.node
        self._start_attempt(nr)
        nr.status = NodeStatus.SUBMITTED
        self.changed = True
        nr.procs = []
        nr.job_return = None
        if node.noop:
            self._noop_subproc += 1
            self._out(f"Submitting HTCondor Node {node.name} job(s)... (NOOP)")
            self.nodes_log.noop(self._noop_subproc, node.name)
            nr.job_return = 0
            self._job_finished(nr)
            return
        cluster = self.next_cluster
        try:
            job = self._job_spec(nr, cluster)
            if len(job.procs) > 1 and self._knob_bool("DAGMAN_PROHIBIT_MULTI_JOBS", False):
                raise JobSpecError(f"Submit generated {len(job.procs)} job procs; disallowed "
                                   "by DAGMAN_PROHIBIT_MULTI_JOBS setting")
        except (JobSpecError, OSError) as exc:
            self._out(f"ERROR: submit of node {node.name} failed: {exc}")
            self._jobstate(node.name, "SUBMIT_FAILURE", "-", nr)
            nr.details = f"Job submit failed: {exc}"
            nr.job_return = RETURN_SUBMIT_FAILED
            self._after_job(nr)
            return
        self.next_cluster += 1
        nr.cluster = cluster
        nr.job = job
        self.submitted_nodes += 1
        if node.category:
            self.category_running[node.category] = self.category_running.get(node.category,
                                                                              0) + 1
        self._out(f"Submitting HTCondor Node {node.name} job(s)...")
        user_log = EventLogWriter(job.log) if job.log else None
        nr.procs = list(map(_Proc, job.procs))
        nr.procs_left = len(nr.procs)
        for proc in nr.procs:
            self.nodes_log.submit(cluster, proc.spec.proc, node.name)
            if user_log:
                user_log.submit(cluster, proc.spec.proc, node.name)
            if self._jobstate_log is not None:
                self._jobstate(node.name, "SUBMIT", f"{cluster}.{proc.spec.proc}", nr)
            self.jobs_submitted += 1
            self.idle.append((nr, proc))
        if user_log:
            user_log.close()
        self._out(f"Event: ULOG_SUBMIT for HTCondor Node {node.name} ({cluster}.0.0)")

    def _job_spec(self, nr: _NodeRun, cluster: int) -> JobSpec:
        node = nr.node
        dag = self.dag
        submit_dir = self._node_dir(node)
        if node.kind is NodeKind.SUBDAG:
            text = (f"universe = local\nexecutable = {sys.executable}\n"
                    f"arguments = \"-m gwdag dag run '{node.submit}'\"\n"
                    f"output = {node.submit}.gwdag.out\nerror = {node.submit}.gwdag.err\n"
                    "getenv = true\nqueue\n")
        else:
            text = self._description_text(node)
        if not node.vars:
            # A text without macros: DAGMan's (JOB, RETRY, ...) cannot change the job.
            job = self._spec_cache.read_static(text, submit_dir, cluster)
            if job is not None:
                return self._resolve_executables(job)
        parents = list(dag.parents.get(node.name, {}))
        macros = {"JOB": node.name, "RETRY": str(nr.retries),
                  "DAG_STATUS": str(int(self.dag_status)),
                  "DAGManJobId": self._pid}
        if "failed_count" in text.lower() or any(
                "failed_count" in v.value.lower() for v in node.vars.values()):
            macros["FAILED_COUNT"] = str(self._failed_count())   # O(nodes): only if used
        if parents:
            macros["DAG_PARENT_NAMES"] = ",".join(parents)
        prepend = {k: v.value for k, v in node.vars.items() if not v.append}
        append = {k: v.value for k, v in node.vars.items() if v.append}
        macros.update(prepend)
        job = self._spec_cache.read(text, submit_dir, macros, append, cluster)
        return self._resolve_executables(job)

    def _resolve_executables(self, job: JobSpec) -> JobSpec:
        # (the one change made to a shared spec: every job sharing it would find
        # the same program on PATH)
        for proc in job.procs:
            # (an executable seen once is not looked for again: one removed later
            # fails to start, and the job is held as it would be then)
            if proc.argv[0] in self._executables:
                continue
            if os.path.exists(proc.argv[0]):
                self._executables.add(proc.argv[0])
            else:
                # A bare command name not in the submit directory is looked up on PATH.
                found = shutil.which(job.executable) if "/" not in job.executable else None
                if found is None:
                    raise JobSpecError(f"executable {proc.argv[0]} does not exist")
                proc.argv[0] = found
        return job

    def _description_text(self, node: Node) -> str:
        """A JOB node's submit description: inline, a named SUBMIT-DESCRIPTION,
        or its submit file (in the node's DIR)."""
        if node.inline_submit is not None:
            return node.inline_submit
        if node.submit in self.dag.submit_descriptions:
            return self.dag.submit_descriptions[node.submit]
        key = (node.dir, node.submit)
        path = self._submit_paths.get(key)
        if path is None:
            path = self._submit_paths[key] = os.path.join(self._node_dir(node), node.submit)
        return self._submit_text(path, node.submit)

    def _submit_text(self, path: str, name: str) -> str:
        """A submit file's text, read again only when it changed (a PRE script
        may write or rewrite it)."""
        try:
            info = os.stat(path)
            stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
            cached = self._submit_texts.get(path)
            if cached is not None and cached[0] == stamp:
                return cached[1]
            with open(path, encoding="utf-8", errors="surrogateescape") as handle:
                text = handle.read()
        except OSError as exc:
            raise JobSpecError(f"cannot read submit file {name}: {exc.strerror}") from exc
        self._submit_texts[path] = (stamp, text)
        return text

    def _start_idle(self) -> None:
        """Start idle procs in order while they fit in ``--cpus``/``--memory``
        (one always starts when nothing runs, however much it asks for)."""
        idle = self.idle
        cpus, memory = self.options.cpus, self.options.memory_mb
        submitted = NodeStatus.SUBMITTED
        while idle:
            nr, proc = idle[0]
            job = nr.job
            if job is None or nr.status is not submitted:
                idle.popleft()
                if proc.scratch is not None:   # prepared, never started: still clean
                    self._free_scratch.append(proc.scratch)
                    proc.scratch = None
                continue
            if (self.cpus_used or self.memory_used) and (
                    self.cpus_used + job.request_cpus > cpus
                    or (memory and self.memory_used + job.request_memory_mb > memory)):
                return
            idle.popleft()
            self._start_proc(nr, proc)

    def _prepare(self, nr: _NodeRun, proc: _Proc) -> None:
        """Give a proc its scratch directory with its job ad, and its environment.

        Done for the next proc to start before the loop waits for a slot to free
        (the loop has nothing else to do then), so that refilling the slot is
        little more than the spawn itself.
        """
        spec = proc.spec
        # a finished job's directory, else a new one (no mkdir/rmdir pair per job:
        # on ext4 they cost as much as the fork itself)
        scratch = self._free_scratch.pop() if self._free_scratch else self._new_scratch()
        proc.scratch = scratch
        scratch.write_ad(self._job_ad(nr, proc).encode())
        proc.env = {**spec.env, "_CONDOR_JOB_AD": scratch.ad_path,
                    "_CONDOR_SCRATCH_DIR": scratch.path,
                    "OMP_NUM_THREADS": str(nr.job.request_cpus), "_CONDOR_JOB_IWD": spec.iwd}

    def _new_scratch(self) -> _Scratch:
        scratch = _Scratch(self.scratch_root)
        self._all_scratch.add(scratch)
        return scratch

    def _start_proc(self, nr: _NodeRun, proc: _Proc) -> None:
        job = nr.job
        spec = proc.spec
        if proc.scratch is None:
            self._prepare(nr, proc)
        scratch = proc.scratch
        env = proc.env
        proc.env = None
        try:
            if spec.stdin is None and spec.stdout is None and spec.stderr is None:
                popen = self._spawn(spec.argv, spec.iwd, env, None)
            else:
                proc.files = _open_streams(spec)
                popen = self._spawn(spec.argv, spec.iwd, env, proc.files)
        except OSError as exc:
            self._not_started(nr, proc, exc)
            return
        if proc.files:
            for handle in proc.files:
                if handle is not None:
                    handle.close()
            proc.files = ()
        proc.popen = popen
        self.cpus_used += job.request_cpus
        self.memory_used += job.request_memory_mb
        self.nodes_log.execute(nr.cluster, spec.proc)
        if self._jobstate_log is not None:
            self._jobstate(nr.node.name, "EXECUTE", f"{nr.cluster}.{spec.proc}", nr)
        self._watch(popen.pid, ("proc", nr, proc, popen))
        if job.periodic_remove and _evaluates_true(job.periodic_remove, scratch.ad_path):
            # The schedd would remove it at its first periodic check once running.
            self._out(f"Node {nr.node.name} job proc ({nr.cluster}.{spec.proc}.0) removed: "
                      f"periodic_remove ({job.periodic_remove}) is true")
            proc.removed = True
            _kill_group(popen.pid)

    def _not_started(self, nr: _NodeRun, proc: _Proc, exc: OSError) -> None:
        """A proc whose streams or program could not be opened: held, then removed."""
        for handle in proc.files:
            if handle is not None:
                handle.close()
        proc.files = ()
        spec = proc.spec
        reason = f"Failed to execute '{spec.argv[0]}': {exc.strerror or exc}"
        self._out(f"Node {nr.node.name} job proc ({nr.cluster}.{spec.proc}.0) held: {reason}")
        self.nodes_log.held(nr.cluster, spec.proc, reason, 6, exc.errno or 0)
        self.nodes_log.aborted(nr.cluster, spec.proc, "removed: the job could not start")
        proc.removed = True
        proc.exit_code = None
        self._proc_finished(nr, proc)

    def _spawn(self, argv: list[str], cwd: str, env: dict[str, str],
               files: tuple | None) -> _Started | subprocess.Popen[bytes]:
        """Start a job in its own session with ``files`` as its standard streams
        (``None`` for all three or for one of them: /dev/null).

        ``os.posix_spawn`` when the job runs in this process's directory: it
        spares the parent Popen's Python-side work (its error pipe and the
        bookkeeping around the fork, ~0.15 ms per job here), which matters when a
        DAG's jobs are short.  Elsewhere (posix_spawn cannot change directory)
        Popen, which closes every other descriptor too.
        """
        if files is None:   # the common case: actions built once
            fds = self._null_fds
            actions = self._null_actions
        else:
            fds = [f.fileno() if f is not None else self._null_fds[0] for f in files]
            actions = [(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(fds)]
        # (a stream already on its target descriptor would keep its close-on-exec
        # flag through a same-descriptor dup2: Popen handles that case)
        if cwd == self._cwd_now and min(fds) > 2:
            try:
                pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsid=True,
                                     setsigdef=_RESET_SIGNALS)
                return _Started(pid)
            except NotImplementedError:   # a libc without POSIX_SPAWN_SETSID
                pass
        # The Popen object itself: one dropped before its returncode is set would be
        # reaped by subprocess's own clean-up, and the job's exit lost to _reap.
        return subprocess.Popen(argv, cwd=cwd, env=env, stdin=fds[0], stdout=fds[1],
                                stderr=fds[2], start_new_session=True)

    def _open_null(self) -> None:
        """/dev/null, opened once per run: the streams a job has no file for."""
        fd = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        self._null_fds = (fd, fd, fd)
        self._null_actions = [(os.POSIX_SPAWN_DUP2, fd, target) for target in range(3)]

    def _job_ad(self, nr: _NodeRun, proc: _Proc) -> str:
        """The job's ClassAd (old syntax), as the starter writes ``.job.ad``.

        The attributes that come from the submit description are printed once per
        distinct description; only the five that differ per job are printed for
        each (jobs of one layer share a description: this halves the cost).
        """
        spec = proc.spec
        static = self._ads_by_spec.get(spec)   # (specs are shared: see JobSpecCache)
        if static is None:
            static = self._static_ad(nr.job, spec)
            if len(self._ads_by_spec) >= 1024:
                self._ads_by_spec.pop(next(iter(self._ads_by_spec)))
            self._ads_by_spec[spec] = static
        text, plain_attributes = static
        name = nr.node.name
        parents = ",".join(self.dag.parents.get(name, ()))
        if plain_attributes and _PLAIN_STRING.fullmatch(name) and \
                _PLAIN_STRING.fullmatch(parents):
            # What printOld gives, in its order, without building a ClassAd per job.
            return (f"QDate = {int(time.time())}\nProcId = {spec.proc}\n"
                    f"ClusterId = {nr.cluster}\nDAGNodeName = \"{name}\"\n"
                    f"DAGParentNodeNames = \"{parents}\"\n{text}")
        import classad2

        ad = classad2.ClassAd()
        ad["ClusterId"] = nr.cluster
        ad["ProcId"] = spec.proc
        ad["DAGNodeName"] = name
        ad["DAGParentNodeNames"] = parents
        ad["QDate"] = int(time.time())
        for attribute in spec.attributes:
            if attribute in ad:   # a +attribute of the description wins (ClassAd
                del ad[attribute]  # names are case-insensitive, as `in` is here)
        return ad.printOld() + text

    def _static_ad(self, job: JobSpec, spec: ProcSpec) -> tuple[str, bool]:
        """The part of a job ad its description decides (printed by classad2),
        and whether none of its own attributes is one set per job."""
        key = (job.request_cpus, job.request_memory_mb, job.universe, spec.iwd,
               tuple(spec.argv), tuple(spec.attributes.items()))
        static = self._static_ads.get(key)
        if static is None:
            import classad2

            ad = classad2.ClassAd()
            ad["DAGManJobId"] = os.getpid()
            ad["RequestCpus"] = job.request_cpus
            ad["RequestMemory"] = job.request_memory_mb
            ad["Iwd"] = spec.iwd
            ad["Cmd"] = spec.argv[0]
            ad["Arguments"] = " ".join(shlex.quote(a) for a in spec.argv[1:])
            ad["JobUniverse"] = universe_number(job.universe)
            ad["Owner"] = os.environ.get("USER", "nobody")
            ad["DAGManNodesLog"] = self.dag_file + ".nodes.log"
            for name, value in spec.attributes.items():
                try:
                    ad[name] = classad2.ExprTree(value)
                except Exception:  # not an expression: keep the text
                    ad[name] = value
            plain = not _DYNAMIC_ATTRIBUTES.intersection(a.lower() for a in spec.attributes)
            static = self._static_ads[key] = (ad.printOld(), plain)
        return static

    def _proc_exited(self, nr: _NodeRun, proc: _Proc, rusage: resource.struct_rusage) -> None:
        """Handle a reaped proc (its exit code or signal already recorded)."""
        job = nr.job
        usage = Usage(rusage.ru_utime, rusage.ru_stime)
        code, sig = proc.exit_code, proc.signal
        spec = proc.spec
        if proc.removed:
            self.nodes_log.aborted(nr.cluster, spec.proc, "via gwdag (DAG removed or aborted)")
            if self._jobstate_log is not None:
                self._jobstate(nr.node.name, "JOB_ABORTED", f"{nr.cluster}.{spec.proc}", nr)
        else:
            self.nodes_log.terminated(nr.cluster, spec.proc, return_value=code, signal=sig,
                                      usage=usage)
            if job.log:
                with EventLogWriter(job.log) as user_log:
                    user_log.terminated(nr.cluster, spec.proc, return_value=code, signal=sig,
                                        usage=usage)
            if self._jobstate_log is not None:
                self._jobstate(nr.node.name, "JOB_TERMINATED", f"{nr.cluster}.{spec.proc}", nr)
        if sig is None and code == 0 and not proc.removed:
            self._out(f"Node {nr.node.name} job proc ({nr.cluster}.{spec.proc}.0) "
                      "completed successfully.")
        else:
            value = -sig if sig is not None else code
            self._out(f"Node {nr.node.name} job proc ({nr.cluster}.{spec.proc}.0) failed "
                      f"with status {value}.")
        self._proc_finished(nr, proc)

    def _proc_finished(self, nr: _NodeRun, proc: _Proc) -> None:
        if proc.scratch is not None:
            # (a directory the job filled or changed is removed, not reused)
            if proc.scratch.reusable():
                self._free_scratch.append(proc.scratch)
            else:
                proc.scratch.remove()
                self._all_scratch.discard(proc.scratch)
            proc.scratch = None
        nr.procs_left -= 1
        failed = proc.removed or proc.signal is not None or (proc.exit_code or 0) != 0
        if failed and nr.job_return is None:
            if proc.removed:
                nr.job_return = RETURN_JOB_REMOVED
            elif proc.signal is not None:
                nr.job_return = -proc.signal
            else:
                nr.job_return = proc.exit_code
            nr.details = (f"Job proc ({nr.cluster}.{proc.spec.proc}.0) failed with status "
                          f"{nr.job_return}")
            # DAGMAN_REMOVE_JOB_LIST_ON_FAILURE: the node's other procs are removed.
            for other in nr.procs:
                if other is not proc and other.exit_code is None and other.signal is None:
                    self._remove_proc(nr, other)
        if nr.procs_left > 0:
            return
        self.submitted_nodes -= 1
        if nr.node.category:
            self.category_running[nr.node.category] -= 1
        if nr.job_return is None:
            nr.job_return = 0
            self.jobs_succeeded += 1
        else:
            self.jobs_failed += 1
        self._job_finished(nr)

    def _remove_proc(self, nr: _NodeRun, proc: _Proc) -> None:
        proc.removed = True
        if proc.popen is not None and proc.popen.returncode is None:
            _kill_group(proc.popen.pid)
        elif proc.popen is None:
            # Still idle: it never started.
            try:
                self.idle.remove((nr, proc))
            except ValueError:
                pass
            self.nodes_log.aborted(nr.cluster, proc.spec.proc,
                                   "via gwdag (DAG removed or aborted)")
            proc.exit_code = None
            self._proc_finished(nr, proc)

    def _job_finished(self, nr: _NodeRun) -> None:
        self._out(f"Node {nr.node.name} job completed")
        if self._jobstate_log is not None:
            value = nr.job_return or 0
            self._jobstate(nr.node.name, "JOB_SUCCESS" if value == 0 else "JOB_FAILURE",
                           str(value), nr)
        self._after_job(nr)

    def _after_job(self, nr: _NodeRun) -> None:
        if "POST" in nr.node.scripts and not (self.removed and not self.final_started):
            nr.status = NodeStatus.POSTRUN
            self.post_queue.append((nr.node.name, 0))
            self.changed = True
            return
        value = nr.job_return or 0
        if value == 0:
            nr.retval = 0
            if nr.node.abort_dag_on is not None and self._check_abort(nr, 0):
                nr.status = NodeStatus.DONE
                return
            self._node_succeeded(nr)
        else:
            self._node_failed(nr, value)

    # -- node outcomes -------------------------------------------------------------------
    def _check_abort(self, nr: _NodeRun, value: int) -> bool:
        abort = nr.node.abort_dag_on
        if abort is None or value != abort.status or self.final_started:
            return False
        self._out(f"Aborting DAG because we got the ABORT exit value from a node "
                  f"({nr.node.name} returned {value})")
        self.aborted = True
        self.abort_return = (abort.return_value if abort.return_value is not None
                             else value % 256)
        if self.dag_status is DagStatus.OK:
            self.dag_status = DagStatus.ABORT
        self._remove_everything()
        return True

    def _node_succeeded(self, nr: _NodeRun) -> None:
        nr.status = NodeStatus.DONE
        nr.details = ""
        self.changed = True
        self._parent_finished(nr.node.name, True)

    def _node_failed(self, nr: _NodeRun, value: int, from_pre: bool = False) -> None:
        nr.retval = value
        node = nr.node
        if self._check_abort(nr, value):
            nr.status = NodeStatus.ERROR
            if from_pre:
                self._parent_finished(node.name, False)
            return
        unless = node.retry_unless_exit
        if (nr.retries < node.retry and not (unless is not None and value == unless)
                and not self._stopping()):
            nr.retries += 1
            self._out(f"Retrying node {node.name} (retry #{nr.retries} of {node.retry})...")
            nr.status = NodeStatus.NOT_READY
            self._make_ready(nr)
            return
        nr.status = NodeStatus.ERROR
        self.changed = True
        if node.kind is not NodeKind.SERVICE and self.dag_status is DagStatus.OK:
            self.dag_status = DagStatus.NODE_FAILED
        self._parent_finished(node.name, False)

    def _remove_everything(self) -> None:
        """Remove every running job (whole process groups) and running script."""
        self.ready.clear()
        self.pre_queue.clear()
        for nr in self.runs.values():
            if nr.status is NodeStatus.SUBMITTED:
                for proc in nr.procs:
                    if proc.exit_code is None and proc.signal is None and not proc.removed:
                        self._remove_proc(nr, proc)
            if nr.script is not None and nr.script.returncode is None:
                _kill_group(nr.script.pid)

    def _start_attempt(self, nr: _NodeRun) -> None:
        """Number an attempt when its PRE script or job starts (jobstate.log's
        sequence); the node's first start writes its save-point file."""
        if not nr.seq:
            self.seq += 1
            nr.seq = self.seq
        if not nr.started_once:
            nr.started_once = True
            if nr.node.save_point_file:
                self._write_save_point(nr.node)

    def _write_save_point(self, node: Node) -> None:
        path = node.save_point_file
        if os.sep not in path:
            directory = os.path.join(os.path.dirname(self.dag_file), "save_files")
            os.makedirs(directory, exist_ok=True)
            path = os.path.join(directory, path)
        else:
            path = os.path.join(self.cwd, path)
        if os.path.exists(path):
            os.replace(path, path + ".old")
        done = [n for n, r in self.runs.items()
                if r.status is NodeStatus.DONE and r.node.kind is not NodeKind.FINAL]
        failed = [n for n, r in self.runs.items() if r.status is NodeStatus.ERROR]
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(save_point_text(node.name, len(self.runs), done, failed))

    # -- waiting -------------------------------------------------------------------------
    def _watch(self, pid: int, data: tuple) -> None:
        try:
            fd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            fd = -1
        if fd >= 0:
            self.watcher.register(fd, (pid, data))
        else:  # pragma: no cover - kernels without pidfd: polled in _wait
            self._polled.append((pid, data))

    def _reap(self, pid: int, data: tuple) -> bool:
        """Collect a child that exited (False: it is still running).  A job's
        slot is refilled at once; what its exit means for the DAG is queued in
        ``self._exited`` for :meth:`_wait` to handle after every refill."""
        try:
            wpid, status, rusage = os.wait4(pid, os.WNOHANG)
        except ChildProcessError:
            return True
        if wpid == 0:
            return False
        nr = data[1]
        if data[0] == "proc":
            # Its exit is known from here on, before it is handled: an abort or
            # removal handled first must not take it for a running job.
            proc = data[2]
            code, sig = (0, None) if status == 0 else _signal_exit(status)
            proc.exit_code, proc.signal = code, sig
            proc.popen.returncode = -sig if sig is not None else code
            job = nr.job
            self.cpus_used -= job.request_cpus
            self.memory_used -= job.request_memory_mb
            if (status == 0 and nr.node.abort_dag_on is None and not self.removed
                    and not self.aborted):
                # A successful exit changes nothing for the jobs already waiting.
                self._start_idle()
            self._exited.append((self._proc_exited, (nr, proc, rusage)))
        else:
            code, sig = _signal_exit(status)
            data[3].returncode = -sig if sig is not None else code   # (as for a proc)
            self._exited.append((self._script_exited, (nr, data[2], code, sig)))
        return True

    def _reap_ready(self, ready: list[tuple[int, object]]) -> None:
        for fd, watched in ready:
            if fd == self._wake_r:
                try:
                    os.read(self._wake_r, 512)
                except BlockingIOError:
                    pass
                continue
            pid, data = watched
            if self._reap(pid, data):
                self.watcher.unregister(fd)
                os.close(fd)

    def _wait(self, timeout: float | None) -> None:
        """Wait up to ``timeout`` seconds for children to exit, then handle them.

        Every freed slot is refilled before any exit is handled, and after the
        refills the loop looks again for exits that came meanwhile: a spawn
        returns only once its child has exec'd, and the parent woken from that
        wait often gets a CPU back only when another job exits — whose slot
        would otherwise stay empty through the bookkeeping of the earlier exits.
        """
        self._dagman_out.flush()
        self.nodes_log.flush()
        if self._polled:  # pragma: no cover
            timeout = 0.005 if timeout is None else min(timeout, 0.005)
        ready = self.watcher.select(timeout)
        self._tick()
        while ready:
            self._reap_ready(ready)
            ready = self.watcher.select(0) if self._exited and self.idle else []
        still = []
        for pid, data in self._polled:  # pragma: no cover
            if not self._reap(pid, data):
                still.append((pid, data))
        self._polled[:] = still
        exited, self._exited = self._exited, []
        for handle, args in exited:
            handle(*args)

    def _busy(self) -> bool:
        """Is anything non-service still running or waiting to run?"""
        if self.ready or self.pre_queue or self.post_queue or self.timers or self.idle:
            return True
        if any(self.scripts_running.values()):
            return True
        # (in C: with empty queues this runs on every turn, over every node)
        return any(map(_ACTIVE.__contains__, map(_STATUS_OF, self._non_service())))

    # -- scheduling ---------------------------------------------------------------------
    def _dispatch(self) -> None:
        options = self.options
        now = time.monotonic()
        while self.timers and self.timers[0][0] <= now:
            _, _, name, kind = heapq.heappop(self.timers)
            if kind == "PRE":
                self.pre_queue.appendleft(name)
            else:
                self.post_queue.appendleft((name, 0))
        while self.post_queue and (options.max_post <= 0
                                   or self.scripts_running["POST"] < options.max_post):
            name, _ = self.post_queue.popleft()
            self._start_script(self.runs[name], "POST")
        if self._stopping():
            return
        while self.pre_queue and (options.max_pre <= 0
                                  or self.scripts_running["PRE"] < options.max_pre):
            name = self.pre_queue.popleft()
            nr = self.runs[name]
            self._start_attempt(nr)
            self._start_script(nr, "PRE")
        held_back = []
        while self.ready:
            if options.max_jobs > 0 and self.submitted_nodes >= options.max_jobs:
                break
            if options.max_idle > 0 and len(self.idle) >= options.max_idle:
                break
            entry = heapq.heappop(self.ready)
            nr = self.runs[entry[2]]
            category = nr.node.category
            limit = self.dag.maxjobs.get(category) if category else None
            if limit is not None and limit > 0 and self.category_running.get(category,
                                                                              0) >= limit:
                held_back.append(entry)
                continue
            self._submit(nr)
        for entry in held_back:
            heapq.heappush(self.ready, entry)

    def _start_services(self) -> None:
        for nr in self.runs.values():
            if nr.node.kind is NodeKind.SERVICE and nr.status is NodeStatus.NOT_READY:
                self._make_ready(nr)

    def _check_halt(self) -> None:
        # (access, not exists: no exception raised and caught on every turn)
        if not self.halted and os.access(self._halt_file, os.F_OK):
            self.halted = True
            self._out("DAG is halted because halt file "
                      f"{os.path.basename(self.dag_file)}.halt exists")
            if self.dag_status is DagStatus.OK:
                self.dag_status = DagStatus.HALTED
            self.ready.clear()
            self.pre_queue.clear()

    def _loop(self) -> None:
        self._tick()   # and again after every wait
        while True:
            now = time.monotonic()
            if self.removed and not self._removal_done and not self.final_started:
                self._removal_done = True
                self._out("Received SIGTERM: removing all jobs of the DAG")
                self._remove_everything()
            self._check_halt()
            self._dispatch()
            self._start_idle()
            if self.changed and now - self.last_status_block >= self.options.status_interval:
                self._status_block()
                self._write_status_file()
                self.last_status_block = now
                self.changed = False
            if not self._busy():
                break
            timeout = self.options.halt_poll
            if self.timers:
                timeout = min(timeout, max(0.0, self.timers[0][0] - time.monotonic()))
            if self.idle:
                nr, proc = self.idle[0]
                if proc.scratch is None and nr.job is not None:
                    self._prepare(nr, proc)   # the next to start, while nothing else is to do
            self._wait(timeout)

    def _stop_services(self) -> None:
        for nr in self.runs.values():
            if nr.node.kind is NodeKind.SERVICE and nr.status is NodeStatus.SUBMITTED:
                for proc in nr.procs:
                    if proc.popen is not None and proc.popen.returncode is None:
                        proc.removed = True
                        _kill_group(proc.popen.pid)
        deadline = time.monotonic() + 10
        while any(nr.status is NodeStatus.SUBMITTED for nr in self.runs.values()
                  if nr.node.kind is NodeKind.SERVICE) and time.monotonic() < deadline:
            self._wait(0.05)

    # -- the run -----------------------------------------------------------------------
    def exit_code_guess(self) -> int:
        final = self.dag.final_node if self.dag else None
        if final is not None and self.final_started:
            if self.runs[final.name].status is NodeStatus.DONE:
                return 2 if self.removed else 0
            return 2 if self.removed else (self.abort_return if self.aborted else 1) or 1
        if self.removed:
            return 2
        if self.aborted:
            return self.abort_return or 0
        regular = [nr for nr in self.runs.values()
                   if nr.node.kind not in (NodeKind.SERVICE, NodeKind.FINAL)]
        return 0 if Counter(map(_STATUS_OF, regular))[NodeStatus.DONE] == len(regular) else 1

    def _write_rescue(self) -> None:
        done = [n for n, r in self.runs.items()
                if r.status is NodeStatus.DONE and r.node.kind is not NodeKind.FINAL]
        failed = [n for n, r in self.runs.items() if r.status is NodeStatus.ERROR]
        # A failed node whose children all depend on it weakly is DONE for a rerun:
        # they ran, so running it again would change nothing for them.
        weak_only = [n for n in failed if self.dag.children.get(n)
                     and all(self.dag.children[n].values())]
        done = [n for n in self.runs if n in set(done) | set(weak_only)]
        if self.rescue_file is None:
            _, self.rescue_file = next_rescue_path(self.dag_file)
        self._out(f"Writing Rescue DAG to {self.rescue_file}...")
        with open(self.rescue_file, "w", encoding="utf-8") as handle:
            handle.write(rescue_text(self.dag_file, len(self.runs), done, failed,
                                     weak_only_failed=weak_only))

    def _on_signal(self, signum: int, frame: object) -> None:
        self.removed = True
        if self.dag_status is DagStatus.OK:
            self.dag_status = DagStatus.RM
        if self._wake_w >= 0:
            try:
                os.write(self._wake_w, b"x")
            except OSError:
                pass

    def run(self) -> RunResult:
        """Run the DAG to completion; the result carries DAGMan's exit code."""
        start = time.time()
        pid = running_pid(self.dag_file)
        if pid is not None and pid != os.getpid():
            raise DagAlreadyRunning(f"{os.path.basename(self.dag_file)} is already running "
                                    f"(pid {pid}); stop it with 'gwdag dag rm "
                                    f"{self.dag_file}'")
        with open(lock_path(self.dag_file), "w", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
        previous = {}
        in_main = threading.current_thread() is threading.main_thread()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.watcher.register(self._wake_r, None)
        if in_main:
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, self._on_signal)
        exit_code = 1
        try:
            # The DAG and the run's state (one per node) live as long as the run:
            # no collection while they are built, and none of the collector's
            # passes looks at them while the run goes on (~1 ms per 1,000 nodes
            # of start-up otherwise, and again at every pass over old objects).
            with set_aside_from_gc():
                with paused_gc(keep=True):
                    early = self._setup()
                exit_code = early if early is not None else self._run_loaded()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self._cleanup()
        final_statuses = {name: nr.status for name, nr in self.runs.items()}
        return RunResult(exit_code, self.dag_status, final_statuses, self.rescue_file,
                         time.time() - start)

    def _run_loaded(self) -> int:
        self._status_block()
        self._write_status_file(final=False)
        self._start_services()
        self._initial_readiness()
        jobs = sum(1 for nr in self.runs.values()
                   if nr.node.kind is not NodeKind.FINAL and not nr.node.noop)
        if jobs >= SETTLE_MIN_JOBS:
            _settle_scheduler(self.options.settle, meanwhile=_import_submit_parser)
        self._loop()
        if self.removed:
            self._remove_everything()
            self._loop()
        regular = [nr for nr in self.runs.values()
                   if nr.node.kind not in (NodeKind.SERVICE, NodeKind.FINAL)]
        unfinished = [nr for nr in regular if nr.status is NodeStatus.NOT_READY]
        if (unfinished and not (self.aborted or self.halted or self.removed)
                and self.dag_status is DagStatus.OK):
            self.dag_status = DagStatus.CYCLE
            self._out("ERROR: a cycle in the DAG: nodes never became ready: "
                      + ", ".join(nr.node.name for nr in unfinished[:10]))
        code = self.exit_code_guess()
        if code != 0:
            self._write_rescue()
        final = self.dag.final_node
        if final is not None:
            self.final_started = True
            self._status_block()
            self._out("Starting final node...")
            self.ready.clear()
            self.pre_queue.clear()
            self._make_ready(self.runs[final.name])
            self._loop()
            if self.runs[final.name].status is NodeStatus.DONE and not self.removed:
                self.dag_status = DagStatus.OK  # a successful FINAL node overrides
            code = self.exit_code_guess()
            if code != 0:
                self._write_rescue()
        self._stop_services()
        if code == 0 and not self.aborted:
            self._out("All jobs Completed!")
        failed = [n for n, r in self.runs.items() if r.status is NodeStatus.ERROR]
        if failed:
            self._out("ERROR: the following Node(s) failed:")
            for name in failed:
                self._out(f"  {name}: {self.runs[name].details}")
        self._status_block()
        self._write_status_file(final=True)
        self._write_metrics(code)
        if self._jobstate_log is not None:
            self._jobstate_log.write(f"{int(time.time())} INTERNAL *** DAGMAN_FINISHED {code} "
                                     "***\n")
        self._out(f"**** condor_scheduniv_exec.0.0 (condor_DAGMAN) pid {os.getpid()} "
                  f"EXITING WITH STATUS {code}")
        return code

    def _write_metrics(self, code: int) -> None:
        end = time.time()
        # (two counts made in C instead of a Python pass over every node per figure)
        runs = list(self.runs.values())
        status = Counter(map(_STATUS_OF, runs))
        kind = Counter(map(_KIND_OF, runs))
        document = {
            "client": "condor_dagman", "version": "gwdag local executor", "type": "metrics",
            "metrics_version": 2, "start_time": round(self.start_time, 3),
            "end_time": round(end, 3), "duration": round(end - self.start_time, 3),
            "exitcode": code, "dagman_id": f"{os.getpid()}.0", "parent_dagman_id": "",
            "rescue_dag_number": 0,
            "has_final_node": self.dag.final_node is not None,
            "nodes": len(runs),
            "nodes_failed": status[NodeStatus.ERROR],
            "nodes_succeeded": status[NodeStatus.DONE],
            "nodes_futile": status[NodeStatus.FUTILE],
            "dag_nodes": kind[NodeKind.SUBDAG],
            "service_nodes": kind[NodeKind.SERVICE],
            "provisioner_nodes": 0, "total_nodes": len(runs),
            "total_nodes_run": sum(map(bool, map(_SEQ_OF, runs))),
            "jobs_submitted": self.jobs_submitted, "jobs_succeeded": self.jobs_succeeded,
            "jobs_failed": self.jobs_failed, "DagStatus": int(self.dag_status),
            "graph_num_vertices": len(self.runs),
            "graph_num_edges": self.dag.num_edges(),
        }
        with open(self.dag_file + ".metrics", "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")

    def _cleanup(self) -> None:
        if hasattr(self, "nodes_log"):
            self.nodes_log.close()
        if getattr(self, "_jobstate_log", None) is not None:
            self._jobstate_log.close()
        if hasattr(self, "_dagman_out"):
            self._dagman_out.close()
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                try:
                    self.watcher.unregister(fd)
                except (KeyError, ValueError):
                    pass
                os.close(fd)
        self._wake_r = self._wake_w = -1
        self.watcher.close()
        if self._null_fds[0] >= 0:
            os.close(self._null_fds[0])
            self._null_fds = (-1, -1, -1)
        for scratch in self._all_scratch:
            scratch.close()
        self._free_scratch = []
        self._all_scratch = set()
        if self.scratch_root:
            _rmtree(self.scratch_root)
        try:
            with open(lock_path(self.dag_file), encoding="utf-8") as handle:
                if handle.read().split()[0] == str(os.getpid()):
                    os.unlink(lock_path(self.dag_file))
        except (OSError, IndexError):
            pass


def _evaluates_true(expression: str, ad_path: str) -> bool:
    """Whether a periodic expression is true for a running job (NumShadowStarts 1,
    JobStatus 2) described by the job ad file at ``ad_path``."""
    import classad2

    try:
        with open(ad_path, encoding="utf-8") as handle:
            ad = classad2.parseOne(handle.read())
        ad["NumShadowStarts"] = 1
        ad["JobStatus"] = 2
        ad["JobCurrentStartDate"] = int(time.time())
        return classad2.ExprTree(expression).eval(ad) is True
    except Exception:  # an expression HTCondor could not evaluate is not true
        return False


def _close_on_exec_above_stderr() -> None:
    """Mark every descriptor above 2 close-on-exec.

    Jobs started with posix_spawn inherit what is not, and a job must see only
    its three standard streams (as under HTCondor's starter): a pipe inherited
    from whoever started gwdag would otherwise stay open as long as the job runs.
    Python opens its own descriptors close-on-exec already.
    """
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return
    for name in names:
        fd = int(name)
        if fd > 2:
            try:
                os.set_inheritable(fd, False)
            except OSError:
                pass  # the listing's own descriptor, closed by now


def _settle_scheduler(seconds: float, meanwhile: Callable[[], None] | None = None) -> None:
    """Pause ``seconds`` (then four 1 ms sleeps) before a DAG's first job, so that
    Linux stops counting this process as one that fills its CPU; ``meanwhile``
    runs in a thread during the pause (work the first job needs anyway: the
    scheduler tracks each thread's utilization apart, and the pause hides it).

    Start-up (imports, parsing the DAG) keeps the process on a CPU for 0.1-0.3 s
    and leaves the scheduler's estimate of its utilization (``se.avg.util_est``,
    out of 1024) near the top.  Fork balancing then counts this CPU as full and
    puts each new child on another one, behind a running job, while this process
    waits for the child to exec (``posix_spawn`` is a vfork).  The estimate falls
    only at a sleep not preceded by a wait for a CPU, which a busy dispatcher
    seldom has, so it keeps its start-up value for the whole run.  Measured on a
    2-CPU machine (kernel 6.18), 2,000 empty jobs: without the pause it stayed at
    954-1013 and each spawn waited 0.41-0.55 ms (median); with it, 746-801 and
    0.17-0.20 ms.  Each short sleep lowers the estimate a quarter of the way to
    the decayed utilization.  ``docs/executor.md`` has the measurements.
    """
    # (with one usable CPU there is no other CPU to be placed on)
    if seconds > 0 and sys.platform.startswith("linux") and len(os.sched_getaffinity(0)) > 1:
        helper = None
        if meanwhile is not None:
            helper = threading.Thread(target=meanwhile, name="gwdag-settle", daemon=True)
            helper.start()
        time.sleep(seconds)
        if helper is not None:
            helper.join()
        for _ in range(4):
            time.sleep(0.001)


def _import_submit_parser() -> None:
    """Import HTCondor's bindings, which the first job's submit description
    needs (~25 ms); an import error is left for that read to report.  What the
    import creates lives as long as the process: like the run's own state, it
    is set aside from the garbage collector (see ``LocalExecutor.run``)."""
    try:
        with paused_gc(keep=True):
            import htcondor2  # noqa: F401
    except ImportError:
        pass


def _open_streams(spec: ProcSpec) -> tuple:
    """A proc's (stdin, stdout, stderr) files, ``None`` for a stream it has no
    file for; none left open when one cannot be opened."""
    stdin = stdout = stderr = None
    try:
        if spec.stdin:
            stdin = open(spec.stdin, "rb")
        if spec.stdout:
            stdout = open(spec.stdout, "wb")
        if spec.stderr and spec.stderr == spec.stdout:
            stderr = stdout
        elif spec.stderr:
            stderr = open(spec.stderr, "wb")
    except OSError:
        for handle in (stdin, stdout, stderr):
            if handle is not None:
                handle.close()
        raise
    return stdin, stdout, stderr


def _kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _rmtree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def run_dag(dag_file: str, options: RunOptions | None = None, *,
            log: Callable[[str], None] | None = None) -> RunResult:
    """Run ``dag_file`` with the local executor (see :class:`LocalExecutor`)."""
    return LocalExecutor(dag_file, options, log=log).run()

