"""gwdag's own daemons as HTCondor jobs (``gwdag condor ...``), GWCelery's way.

The listener and the planner run as local-universe jobs of one submit file, one
job per daemon, batch name ``gwdag``, restarted when they exit
(``on_exit_remove = false``), environment inherited (``getenv``) so they find
the same ``gwdag`` and configuration as the person who submitted them.  Every
verb selects the jobs of *this* deployment by
``JobBatchName == "gwdag" && Iwd == "<working directory>"``, so several
deployments can share a schedd.  The verbs run HTCondor's own command-line
tools and print each command before running it.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..planner.render import condor_arguments

__all__ = ["BATCH_NAME", "DAEMONS", "SUBMIT_FILE", "CondorTools", "DeployError",
           "job_constraint", "submit_description"]

BATCH_NAME = "gwdag"
DAEMONS = ("listen", "plan")
SUBMIT_FILE = "gwdag.sub"
RESUBMIT_WAIT_S = 120.0


class DeployError(RuntimeError):
    """A verb that cannot go on (jobs already running, tools missing, ...)."""


def job_constraint(cwd: str) -> str:
    """The ClassAd constraint that selects this deployment's jobs.  JSON string
    literals are ClassAd string literals for every path that matters."""
    return f"JobBatchName == {json.dumps(BATCH_NAME)} && Iwd == {json.dumps(cwd)}"


def submit_description(root: str, *, config: str | None = None,
                       accounting_group: str = "", accounting_group_user: str = "") -> str:
    """The submit description of the daemons of data root ``root`` (absolute)."""
    options = ["--root", root] + (["--config", config] if config else [])
    # $(daemon) must stay a macro, so only the options go through the quoting
    arguments = '"gwdag $(daemon) ' + condor_arguments(options)[1:-1] + '"'
    accounting = ""
    if accounting_group:
        accounting = f"accounting_group = {accounting_group}\n"
        if accounting_group_user:
            accounting += f"accounting_group_user = {accounting_group_user}\n"
    return f"""\
# gwdag's daemons as HTCondor local-universe jobs, one per daemon.
# Written by `gwdag condor submit` (print it with `gwdag condor submit-file`).
universe = local
executable = /usr/bin/env
arguments = {arguments}
getenv = true
batch_name = {BATCH_NAME}
# a daemon that exits (crash, `gwdag ctl shutdown`) is started again
on_exit_remove = false
# condor_rm / condor_hold send SIGTERM: the daemons drain and exit within seconds
kill_sig = SIGTERM
log = gwdag-$(daemon).log
output = gwdag-$(daemon).out
error = gwdag-$(daemon).err
{accounting}queue daemon in ({", ".join(DAEMONS)})
"""


@dataclass
class CondorTools:
    """Runs HTCondor's tools for the deployment in ``cwd``; ``echo`` receives
    each command line (shell-quoted) before it runs; nothing runs with
    ``dry_run``."""

    cwd: str
    echo: Callable[[str], None] = print
    dry_run: bool = False

    @property
    def constraint(self) -> str:
        return job_constraint(self.cwd)

    def run(self, *args: str, capture: bool = False,
            quiet: bool = False) -> subprocess.CompletedProcess:
        if not quiet:
            self.echo(" ".join(shlex.quote(a) for a in args))
        if self.dry_run:
            return subprocess.CompletedProcess(args, 0, "", "")
        if shutil.which(args[0]) is None:
            raise DeployError(f"{args[0]} not found on PATH: gwdag condor needs HTCondor's "
                              "command-line tools (or try --dry-run)")
        return subprocess.run(args, cwd=self.cwd, text=True, check=False,
                              capture_output=capture)

    def jobs(self, quiet: bool = False) -> list[dict]:
        """This deployment's jobs in the queue (ClusterId, ProcId, JobStatus, Args)."""
        result = self.run("condor_q", "-json", "-constraint", self.constraint,
                          "-attributes", "ClusterId,ProcId,JobStatus,Args,Arguments",
                          capture=True, quiet=quiet)
        if result.returncode != 0:
            raise DeployError(f"condor_q failed ({result.returncode}): "
                              f"{(result.stderr or result.stdout).strip()[:300]}")
        text = result.stdout.strip()
        return json.loads(text) if text else []

    def submit(self, description: str, *, check_running: bool = True) -> int:
        path = Path(self.cwd) / SUBMIT_FILE
        if check_running and not self.dry_run:
            running = self.jobs()
            if running:
                raise DeployError(
                    f"gwdag jobs are already running in {self.cwd} "
                    f"({len(running)} job(s)); remove them with `gwdag condor rm` or "
                    "replace them with `gwdag condor resubmit`; see them with "
                    "`gwdag condor q`")
        if self.dry_run:
            self.echo(f"# would write {path}")
        else:
            temporary = path.with_suffix(".sub.tmp")
            temporary.write_text(description)
            os.replace(temporary, path)
        return self.run("condor_submit", str(path)).returncode

    def remove(self) -> int:
        return self.run("condor_rm", "-constraint", self.constraint).returncode

    def hold(self) -> int:
        return self.run("condor_hold", "-constraint", self.constraint).returncode

    def release(self) -> int:
        return self.run("condor_release", "-constraint", self.constraint).returncode

    def queue(self) -> int:
        return self.run("condor_q", "-nobatch", "-constraint", self.constraint).returncode

    def resubmit(self, description: str, wait: float = RESUBMIT_WAIT_S,
                 poll: float = 1.0) -> int:
        """Remove the running jobs, wait (``wait`` seconds at most) for the queue
        to empty, then submit."""
        code = self.remove()
        if self.dry_run:
            return self.submit(description, check_running=False)
        if code != 0 and self.jobs():
            return code
        deadline = time.monotonic() + wait
        while self.jobs(quiet=True):
            if time.monotonic() > deadline:
                raise DeployError(f"gwdag jobs in {self.cwd} still in the queue after "
                                  f"{wait:g} s; check `gwdag condor q`")
            time.sleep(poll)
        return self.submit(description, check_running=False)
