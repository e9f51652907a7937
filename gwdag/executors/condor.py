"""The condor executor: DAGs submitted to an HTCondor schedd with the bindings.

``htcondor2.Submit.from_dag`` writes the DAGMan job's submit description (as
``condor_submit_dag`` does), ``Schedd.submit`` queues it, and the DAG's own
artifacts (``<dag>.metrics``, ``dagman.out``, the node status file) say how it
ends, exactly as for the local executor.  ``rm``, ``halt`` and ``resume`` act on
the DAGMan job (remove; hold, which pauses the whole DAG; release).  Without a
schedd that answers, every call fails with one line that says how to use the
local executor instead.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CondorExecutor", "CondorUnavailable", "SubmittedDag"]

NO_SCHEDD_HINT = ('set [executor] kind = "local" (or GWDAG_EXECUTOR__KIND=local) to run '
                  "DAGs on this machine")


class CondorUnavailable(RuntimeError):
    """No HTCondor schedd answers (or the bindings cannot submit)."""


@dataclass(frozen=True)
class SubmittedDag:
    """A DAG queued on a schedd: its DAGMan job's cluster and the DAG file."""

    cluster: int
    dag: str
    batch_name: str


class CondorExecutor:
    """Submits DAGs to the schedd ``schedd_name`` (default: the local one)."""

    def __init__(self, schedd_name: str | None = None) -> None:
        self.schedd_name = schedd_name

    def _schedd(self):
        import htcondor2

        try:
            if self.schedd_name:
                ad = htcondor2.Collector().locate(htcondor2.DaemonType.Schedd,
                                                  self.schedd_name)
                return htcondor2.Schedd(ad)
            return htcondor2.Schedd()
        except Exception as exc:  # the bindings raise HTCondorException and others
            where = self.schedd_name or "local"
            raise CondorUnavailable(f"no HTCondor schedd answers ({where}: "
                                    f"{str(exc).strip() or type(exc).__name__}); "
                                    f"{NO_SCHEDD_HINT}") from None

    @staticmethod
    def submit_description(dag: str | Path, batch_name: str = "gwdag",
                           force: bool = False):
        """The DAGMan job's ``htcondor2.Submit``, written from the DAG as
        ``condor_submit_dag`` would (needs ``condor_dagman`` on ``PATH``)."""
        import htcondor2

        dag = Path(dag).resolve()
        previous = os.getcwd()
        os.chdir(dag.parent)   # DAGMan runs in the DAG's directory, as -usedagdir
        try:
            return htcondor2.Submit.from_dag(dag.name, {"batch-name": batch_name,
                                                        "force": force})
        except Exception as exc:
            raise CondorUnavailable(f"cannot write the DAGMan submit description for "
                                    f"{dag}: {str(exc).strip()}; {NO_SCHEDD_HINT}") from None
        finally:
            os.chdir(previous)

    def submit(self, dag: str | Path, batch_name: str = "gwdag") -> SubmittedDag:
        description = self.submit_description(dag, batch_name)
        schedd = self._schedd()
        previous = os.getcwd()
        os.chdir(Path(dag).resolve().parent)
        try:
            result = schedd.submit(description)
        except Exception as exc:
            raise CondorUnavailable(f"the schedd refused {dag}: {str(exc).strip()}") from None
        finally:
            os.chdir(previous)
        return SubmittedDag(int(result.cluster()), str(Path(dag).resolve()), batch_name)

    def _act(self, action_name: str, cluster: int) -> None:
        import htcondor2

        action = getattr(htcondor2.JobAction, action_name)
        try:
            self._schedd().act(action, f"ClusterId == {int(cluster)}")
        except CondorUnavailable:
            raise
        except Exception as exc:
            raise CondorUnavailable(f"{action_name} of DAGMan job {cluster} failed: "
                                    f"{str(exc).strip()}") from None

    def remove(self, cluster: int) -> None:
        """Remove the DAGMan job; DAGMan removes its node jobs and writes a rescue DAG."""
        self._act("Remove", cluster)

    def halt(self, cluster: int) -> None:
        """Pause the DAG: hold the DAGMan job (its running nodes finish)."""
        self._act("Hold", cluster)

    def resume(self, cluster: int) -> None:
        self._act("Release", cluster)

    def queue(self, cluster: int) -> list[dict[str, Any]]:
        """The schedd's ads for the DAGMan job and its nodes."""
        schedd = self._schedd()
        constraint = f"ClusterId == {int(cluster)} || DAGManJobId == {int(cluster)}"
        ads = schedd.query(constraint=constraint,
                           projection=["ClusterId", "ProcId", "JobStatus", "DAGNodeName",
                                       "HoldReason", "JobBatchName", "Iwd"])
        return [{key: ad.get(key) for key in ad.keys()} for ad in ads]

    @staticmethod
    def finished(dag: str | Path) -> int | None:
        """DAGMan's exit code once ``<dag>.metrics`` exists, else None."""
        metrics = Path(f"{dag}.metrics")
        try:
            return int(json.loads(metrics.read_text())["exitcode"])
        except (FileNotFoundError, ValueError, KeyError):
            return None

    def wait(self, dag: str | Path, poll: float = 2.0, timeout: float | None = None) -> int:
        """Block until the DAG's metrics file says it ended; its exit code."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            code = self.finished(dag)
            if code is not None:
                return code
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"{dag} did not finish within {timeout:.0f} s")
            time.sleep(poll)
