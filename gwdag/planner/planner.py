"""The planner: alerts out of the spool, one DAG per alert, run to completion.

For each ``incoming/`` entry: claim it, route it by kind to its handler, render
the plan into ``runs/<run-id>/`` (the alert's raw bytes next to the DAG as the
nodes' input file), validate, run it on the executor, and finish the entry in
``done/`` or ``failed/`` with the reason.  The run is recorded in the state
store under the alert's key, so an alert never gets a second run; after a crash
the stale claims go back to ``incoming/`` and an unfinished run's DAG runs again
(its rescue DAG skips what was done; every step is idempotent).

While serving, the control socket ``<root>/state/plan.sock`` answers ``gwdag ctl``
(ping, status, stats, active, reserved, result, purge, shutdown, reload);
``shutdown`` lets the alert in hand finish, then the planner exits.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..control import CONTROL_SOCKETS, ControlServer, VerbError
from ..dagman.progress import dag_progress
from ..dagman.states import NodeStatus
from ..executors.condor import CondorExecutor
from ..executors.local import LocalExecutor, RunOptions
from ..intake.notify import watch_incoming
from ..intake.spool import Spool, SpoolError
from .registry import AlertInput, SkipAlert, handler_for
from .render import RenderError, RenderSettings, render_plan
from .store import StateStore

__all__ = ["Planner", "PlannerBusy", "ProcessResult"]

log = logging.getLogger("gwdag.planner")
_SUFFIX = {"voevent": ".xml", "coinc_xml": ".xml", "psd_xml": ".xml"}


class PlannerBusy(RuntimeError):
    """Another planner holds this root's lock."""


@dataclass(frozen=True)
class ProcessResult:
    """What happened to one alert: ``state`` is done, failed or skipped."""

    key: str
    kind: str | None
    state: str
    reason: str
    run_dir: str | None
    seconds: float


class Planner:
    """Plans and runs the alerts of one data root."""

    def __init__(self, root: str | Path, settings: RenderSettings | None = None,
                 executor: str = "local", cpus: int | None = None) -> None:
        self.root = Path(root).resolve()
        self.settings = settings or RenderSettings()
        if executor not in ("local", "condor"):
            raise ValueError(f"unknown executor {executor!r}: [executor] kind is "
                             "\"local\" or \"condor\"")
        self.condor = CondorExecutor() if executor == "condor" else None
        self.cpus = cpus
        self.spool = Spool(str(self.root))
        self.runs = self.root / "runs"
        self._lock_handle = None
        self.started_at = time.time()
        self.current: dict[str, Any] | None = None     # the alert in hand
        self.processed: dict[str, int] = {}            # results by state since start
        self._stop = threading.Event()
        self._wake = threading.Event()

    def request_stop(self) -> None:
        """Finish the alert in hand, then stop (``serve`` and ``run_until_idle``)."""
        self._stop.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def __enter__(self) -> Planner:
        if self.condor is not None:
            self.condor._schedd()   # fail now, in one line, when no schedd answers
        self.runs.mkdir(parents=True, exist_ok=True)
        path = self.root / "state" / "plan.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise PlannerBusy(f"another planner (pid {holder}) is running on "
                              f"{self.root}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_handle = handle
        # After a power cut an alert file may be torn until its journal is
        # replayed: replay before reading any (the listener does it too).
        replayed = self.spool.recover_journal()
        if replayed:
            log.info("replayed %d journalled messages a crashed listener left", replayed)
        for key in self.spool.requeue_claims():
            log.info("requeued %s (claimed by a planner that stopped)", key)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock_handle is not None:
            self._lock_handle.close()
            self._lock_handle = None

    def pending(self) -> list[str]:
        return [entry.key for entry in self.spool.entries("incoming")]

    def process(self, key: str) -> ProcessResult | None:
        """Plan and run one incoming alert; None when another claimer took it."""
        started = time.perf_counter()
        if self.spool.claim(key) is None:
            return None
        self.current = {"key": key, "since": time.time(), "dag": None}
        try:
            result = self._process_claimed(key, started)
        finally:
            self.current = None
        self.processed[result.state] = self.processed.get(result.state, 0) + 1
        return result

    def _process_claimed(self, key: str, started: float) -> ProcessResult:
        meta, raw = self.spool.read(key)
        kind = meta.get("kind")
        store = StateStore(self.root)
        try:
            previous = store.run_for_alert(key)
            if previous is not None and previous["state"] in ("done", "skipped"):
                self.spool.finish(key, True)
                return ProcessResult(key, kind, previous["state"], "already planned",
                                     None, time.perf_counter() - started)
            # where the alert came from, kept by every later state (metrics by role,
            # end-to-end latency from the listener's receipt)
            store.put_run(key, key, kind or "", "planning", None,
                          role=meta.get("role") or "observation",
                          received_at=meta.get("received_at"))
            handler = handler_for(kind or "")
            run_dir = self.runs / key
            if handler is None:
                reason = f"no handler for alert kind {kind!r}"
                log.info("%s: %s; marked done", key, reason)
                store.put_run(key, key, kind or "", "skipped", None, reason, finished=True)
                self.spool.finish(key, True)
                return ProcessResult(key, kind, "skipped", reason, None,
                                     time.perf_counter() - started)
            run_dir.mkdir(parents=True, exist_ok=True)
            input_path = run_dir / ("input" + _SUFFIX.get(kind, ".json"))
            input_path.write_bytes(raw)
            alert = AlertInput(key, kind, dict(meta.get("fields") or {}), input_path,
                               self.root, {"second_alert_delay":
                                           self.settings.second_alert_delay,
                                           "alert_stream": self.settings.alert_stream},
                               meta.get("trigger_gps"), meta.get("role") or "observation")
            try:
                plan = handler(alert)
                reason = f"nothing to do for this {kind} alert"
            except SkipAlert as exc:
                plan, reason = None, str(exc)
            if plan is None:
                store.put_run(key, key, kind, "skipped", None, reason, finished=True)
                self.spool.finish(key, True)
                return ProcessResult(key, kind, "skipped", reason, str(run_dir),
                                     time.perf_counter() - started)
            try:
                dag = render_plan(plan, run_dir, self.settings)
            except RenderError as exc:
                return self._failed(store, key, kind, str(exc), run_dir, started)
            store.put_run(key, key, kind, "running", str(dag))
            self.current = {**(self.current or {}), "kind": kind, "dag": str(dag)}
        finally:
            store.close()
        exit_code, failed, rescue = self._execute(dag)
        store = StateStore(self.root)
        try:
            if exit_code == 0:
                store.put_run(key, key, kind, "done", str(dag), "", finished=True)
                self.spool.finish(key, True)
                return ProcessResult(key, kind, "done", "", str(run_dir),
                                     time.perf_counter() - started)
            reason = (f"DAG exited {exit_code}; failed nodes: "
                      f"{', '.join(failed) or 'unknown'}; rescue DAG {rescue or 'none'}")
            return self._failed(store, key, kind, reason, run_dir, started, str(dag))
        finally:
            store.close()

    def _execute(self, dag: Path) -> tuple[int, list[str], str | None]:
        """Run ``dag`` to its end: (exit code, failed nodes, rescue DAG)."""
        if self.condor is not None:
            submitted = self.condor.submit(dag)
            log.info("%s: DAGMan job %d on the schedd", dag, submitted.cluster)
            code = self.condor.wait(dag)
            rescues = sorted(dag.parent.glob(dag.name + ".rescue*"))
            progress = dag_progress(str(dag), cwd=str(dag.parent))
            failed = [n.name for n in progress.nodes if n.status is NodeStatus.ERROR]
            return code, failed, str(rescues[-1]) if rescues else None
        # nodes find their submit files next to the DAG, as with -usedagdir
        options = RunOptions(use_dag_dir=True, **({"cpus": self.cpus} if self.cpus else {}))
        result = LocalExecutor(str(dag), options).run()
        failed = sorted(name for name, status in result.nodes.items()
                        if status is NodeStatus.ERROR)
        return result.exit_code, failed, result.rescue_file

    def _failed(self, store: StateStore, key: str, kind: Any, reason: str, run_dir: Path,
                started: float, dag: str | None = None) -> ProcessResult:
        log.error("%s: %s", key, reason)
        store.put_run(key, key, kind or "", "failed", dag, reason, finished=True)
        self.spool.finish(key, False, reason)
        return ProcessResult(key, kind, "failed", reason, str(run_dir),
                             time.perf_counter() - started)

    def run_until_idle(self, on_result=None) -> list[ProcessResult]:
        """Process incoming alerts, oldest first, until none is left."""
        results = []
        while not self.stopping:
            keys = self.pending()
            if not keys:
                return results
            for key in keys:
                if self.stopping:
                    break
                result = self.process(key)
                if result is not None:
                    results.append(result)
                    if on_result:
                        on_result(result)
        return results

    def retry(self, key: str) -> ProcessResult | None:
        """Move a failed alert back to incoming/ and process it again (its run
        directory keeps the rescue DAG, which skips the nodes that succeeded)."""
        try:
            self.spool.retry(key)
        except SpoolError as exc:
            raise FileNotFoundError(str(exc)) from None
        store = StateStore(self.root)
        try:
            store.put_run(key, key, "", "retrying", None)
        finally:
            store.close()
        return self.process(key)

    def serve(self, poll: float = 0.5, stop: Callable[[], bool] = lambda: False,
              reload: Callable[[], RenderSettings] | None = None,
              control: bool = True) -> None:
        """Process alerts as they arrive until ``stop()`` says so or
        :meth:`request_stop` is called: woken by inotify when an alert lands in
        ``incoming/``, scanning every ``poll`` seconds as the fallback.
        ``reload`` returns fresh settings (``gwdag ctl reload``, SIGHUP)."""
        wake = self._wake
        observer = watch_incoming(self.spool.dirs["incoming"], wake)
        server = self._control_server(reload).start_or_warn() if control else None
        try:
            while not stop() and not self.stopping:
                wake.clear()
                if not self.run_until_idle():
                    wake.wait(poll)
        finally:
            if server is not None:
                server.stop()
            if observer is not None:
                observer.stop()
                observer.join(5)

    def reload(self, load: Callable[[], RenderSettings]) -> dict[str, Any]:
        """Replace the render settings (the alert in hand keeps the old ones)."""
        self.settings = load()
        log.info("settings reloaded")
        return asdict(self.settings)

    # -- control verbs -------------------------------------------------------------------
    def _control_server(self, reload: Callable[[], RenderSettings] | None) -> ControlServer:
        def status(_args: dict) -> dict:
            return {"daemon": "plan", "pid": os.getpid(), "version": __version__,
                    "root": str(self.root), "executor": "condor" if self.condor else "local",
                    "started_at": self.started_at,
                    "uptime_s": round(time.time() - self.started_at, 3),
                    "current": self.current, "stopping": self.stopping}

        def stats(_args: dict) -> dict:
            store = StateStore(self.root)
            try:
                runs = store.run_counts()
            finally:
                store.close()
            return {**status(_args), "processed": dict(self.processed),
                    "settings": asdict(self.settings), "spool": self.spool.stats(),
                    "runs": runs}

        def active(_args: dict) -> list:
            current = self.current
            if current is None:
                return []
            entry = {**current, "running_s": round(time.time() - current["since"], 3)}
            if current.get("dag"):
                try:
                    progress = dag_progress(current["dag"], cwd=str(Path(current["dag"]).parent))
                    entry["nodes"] = {name.lower(): count for name, count
                                      in progress.counts().items() if count}
                except (OSError, ValueError) as exc:
                    entry["nodes"] = f"unreadable: {exc}"
            return [entry]

        def reserved(args: dict) -> dict:
            limit = int(args.get("limit") or 1000)
            entries = []
            for entry in self.spool.entries("incoming"):
                if len(entries) >= limit:
                    break
                entries.append({"key": entry.key, "kind": entry.kind,
                                "received_at": entry.received_at})
            return {"count": self.spool.stats()["counts"]["incoming"], "entries": entries}

        def result(args: dict) -> dict:
            key = str(args.get("key", ""))
            store = StateStore(self.root)
            try:
                run = store.run_for_alert(key)
            finally:
                store.close()
            state = self.spool.state_of(key)
            if run is None and state is None:
                raise VerbError(f"no alert or run {key!r} under {self.root}")
            return {"key": key, "spool_state": state, "run": run}

        def purge(args: dict) -> dict:
            return self.spool.purge(dry_run=bool(args.get("dry_run")))

        def shutdown(_args: dict) -> dict:
            log.info("shutdown requested over the control socket")
            draining = (self.current or {}).get("key")
            self.request_stop()
            return {"stopping": True, "draining": draining}

        def reload_verb(_args: dict) -> dict:
            if reload is None:
                return {"reloaded": False, "note": "no configuration to reload"}
            return {"reloaded": True, "settings": self.reload(reload)}

        return ControlServer(str(self.root / CONTROL_SOCKETS["plan"]), "plan",
                             {"status": status, "stats": stats, "active": active,
                              "reserved": reserved, "result": result, "purge": purge,
                              "shutdown": shutdown, "reload": reload_verb})
