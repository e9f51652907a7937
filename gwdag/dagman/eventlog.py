"""HTCondor user job event logs (``<dag>.nodes.log``): writing the events the local
executor produces, in the text format ``htcondor2.JobEventLog`` reads.

Format (``shared/reference/dagman.md`` §9): a header line ``NNN (C.P.S) date time
text``, tab-indented body lines, a ``...`` line.  Ids are ``%03d``; times are local
``YYYY-MM-DD HH:MM:SS`` (HTCondor's default ``DEFAULT_USERLOG_FORMAT_OPTIONS``).
Each event is written with one ``write`` on an ``O_APPEND`` descriptor, so readers
tailing the file never see half an event followed by another writer's bytes.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass

__all__ = ["EventLogWriter", "Usage", "NOOP_PROC"]

#: Proc id of the fake events DAGMan writes for NOOP nodes (INT_MAX).
NOOP_PROC = 2147483647
_SUBMIT_HOST = "<127.0.0.1:0?addrs=127.0.0.1-0&alias=localhost>"


@functools.lru_cache(maxsize=4)
def _event_second(second: int) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in local time for a Unix time (whole seconds);
    events come in bursts within one second: each second is formatted once."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))


def _cpu(seconds: float) -> str:
    whole = int(seconds)
    if whole < 60:     # nearly every job of a busy DAG
        return _CPU_UNDER_A_MINUTE[max(whole, 0)]
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{days} {hours:02d}:{minutes:02d}:{secs:02d}"


_CPU_UNDER_A_MINUTE = [f"0 00:00:{second:02d}" for second in range(60)]


@dataclass(frozen=True)
class Usage:
    """CPU time of a finished process (seconds), as reported in a terminate event."""

    user: float = 0.0
    system: float = 0.0

    def line(self, label: str) -> str:
        return f"\t\tUsr {_cpu(self.user)}, Sys {_cpu(self.system)}  -  {label}\n"

    def lines(self) -> tuple[str, str]:
        """The "Run Remote Usage" and "Total Remote Usage" lines (one job run: equal)."""
        times = f"\t\tUsr {_cpu(self.user)}, Sys {_cpu(self.system)}  -  "
        return times + "Run Remote Usage\n", times + "Total Remote Usage\n"


_ZERO_LOCAL = {kind: Usage().line(f"{kind} Local Usage") for kind in ("Run", "Total")}
#: Terminate-event bodies by (return value, signal, whole user s, whole system s).
_TERMINATED_BODIES: dict[tuple[int, int | None, int, int], str] = {}


class EventLogWriter:
    """Appends events to one user event log file."""

    def __init__(self, path: str, *, truncate: bool = False, buffered: bool = False) -> None:
        """``buffered``: events are kept until :meth:`flush` (or :meth:`close`) and
        then written at once — for a writer that flushes before every wait."""
        self.path = path
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        if truncate:
            flags |= os.O_TRUNC
        self._fd = os.open(path, flags, 0o644)
        self._pending: list[str] | None = [] if buffered else None

    def flush(self) -> None:
        """Write the buffered events (a no-op when unbuffered)."""
        if self._pending:
            data = "".join(self._pending).encode("utf-8", "surrogateescape")
            self._pending.clear()
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view):]

    def close(self) -> None:
        if self._fd >= 0:
            self.flush()
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> EventLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- events --------------------------------------------------------------------
    def _write(self, code: int, cluster: int, proc: int, subproc: int, when: float | None,
               text: str, body: str = "") -> None:
        stamp = _event_second(int(time.time() if when is None else when))
        event = (f"{code:03d} ({cluster:03d}.{proc:03d}.{subproc:03d}) {stamp} {text}\n"
                 f"{body}...\n")
        if self._pending is not None:
            self._pending.append(event)
        else:
            os.write(self._fd, event.encode("utf-8", "surrogateescape"))

    @staticmethod
    def _node_note(node: str | None) -> str:
        return f"    DAG Node: {node}\n" if node else ""

    def submit(self, cluster: int, proc: int, node: str | None, when: float | None = None,
               host: str = _SUBMIT_HOST) -> None:
        """000: the job was submitted (with the ``DAG Node:`` note DAGMan reads)."""
        self._write(0, cluster, proc, 0, when, f"Job submitted from host: {host}",
                    self._node_note(node))

    def execute(self, cluster: int, proc: int, when: float | None = None,
                host: str = "<127.0.0.1:0>") -> None:
        """001: the job started running."""
        self._write(1, cluster, proc, 0, when, "Job executing on host: " + host)

    def terminated(self, cluster: int, proc: int, *, return_value: int | None = None,
                   signal: int | None = None, usage: Usage = Usage(),
                   when: float | None = None) -> None:
        """005: the job exited with ``return_value`` or was killed by ``signal``."""
        # The body depends on whole seconds only: most jobs of a DAG share one.
        key = (return_value or 0, signal, int(usage.user), int(usage.system))
        body = _TERMINATED_BODIES.get(key)
        if body is None:
            if signal is not None:
                status = f"\t(0) Abnormal termination (signal {signal})\n\t(0) No core file\n"
            else:
                status = f"\t(1) Normal termination (return value {return_value or 0})\n"
            run, total = usage.lines()
            body = (status + run + _ZERO_LOCAL["Run"] + total + _ZERO_LOCAL["Total"]
                    + "\t0  -  Run Bytes Sent By Job\n\t0  -  Run Bytes Received By Job\n"
                    + "\t0  -  Total Bytes Sent By Job\n\t0  -  Total Bytes Received By Job\n")
            if len(_TERMINATED_BODIES) < 4096:
                _TERMINATED_BODIES[key] = body
        self._write(5, cluster, proc, 0, when, "Job terminated.", body)

    def aborted(self, cluster: int, proc: int, reason: str = "", when: float | None = None
                ) -> None:
        """009: the job was removed."""
        self._write(9, cluster, proc, 0, when, "Job was aborted.",
                    f"\t{reason}\n" if reason else "")

    def held(self, cluster: int, proc: int, reason: str, code: int = 0, subcode: int = 0,
             when: float | None = None) -> None:
        """012: the job was put on hold."""
        self._write(12, cluster, proc, 0, when, "Job was held.",
                    f"\t{reason or 'Reason unspecified'}\n\tCode {code} Subcode {subcode}\n")

    def released(self, cluster: int, proc: int, reason: str = "", when: float | None = None
                 ) -> None:
        """013: a held job was released."""
        self._write(13, cluster, proc, 0, when, "Job was released.",
                    f"\t{reason}\n" if reason else "")

    def post_script_terminated(self, cluster: int, node: str, *, return_value: int | None = None,
                               signal: int | None = None, when: float | None = None) -> None:
        """016: a POST script finished (DAGMan writes this itself)."""
        if signal is not None:
            status = f"\t(0) Abnormal termination (signal {signal})\n"
        else:
            status = f"\t(1) Normal termination (return value {return_value or 0})\n"
        self._write(16, cluster, 0, 0, when, "POST Script terminated.",
                    status + self._node_note(node))

    def preskip(self, subproc: int, node: str, when: float | None = None) -> None:
        """034: the PRE script returned the node's PRE_SKIP value."""
        self._write(34, 0, NOOP_PROC, subproc, when,
                    "PRE script return value is PRE_SKIP value", self._node_note(node))

    def noop(self, subproc: int, node: str, when: float | None = None) -> None:
        """The fake submit/terminate pair DAGMan writes for a NOOP node."""
        self._write(0, 0, NOOP_PROC, subproc, when,
                    "Job submitted from host: <dummy-submit-for-noop-job>",
                    self._node_note(node))
        zero = Usage()
        body = ("\t(1) Normal termination (return value 0)\n" + zero.line("Run Remote Usage")
                + zero.line("Run Local Usage") + zero.line("Total Remote Usage")
                + zero.line("Total Local Usage"))
        self._write(5, 0, NOOP_PROC, subproc, when, "Job terminated.", body)
