#!/usr/bin/env python3
"""Run a corpus of DAGMan cases with gwdag's local executor and check each outcome.

CORPUS_DIR has the layout of ``shared/fixtures/htcondor-dags``: a ``manifest.json``
whose ``cases`` each give a directory, the top DAG file(s), the programs the case
needs but does not ship (``missing_programs``), what each node's PRE script, job and
POST script return (``node_behavior``) and the ``expected`` outcome.

Each case runs in a temporary copy.  Every missing program becomes a stub that
works out which node called it (the job ad's DAGNodeName for jobs; for scripts, the
node whose SCRIPT line names the program, or whose name is among the arguments) and
exits as ``node_behavior`` says; without a behaviour a stub follows its name
(``python*`` runs the real interpreter, ``exit*`` exits with its integer argument,
``*sleep*`` sleeps (at most 3 s), ``*echo*`` prints its arguments, ``*cat*`` copies
its files) and otherwise exits 0.  Stubs append what they saw to a trace file.

Checked when the case states them: exit code, final node states, state counts, node
status file fields, rescue DAG presence and lines, what the FINAL node's scripts
saw, dagman.out and jobstate.log patterns (in the top DAG's file or a SUBDAG
EXTERNAL's, each of which has its own), nodes.log contents, job start order, retries
performed, whether a job was submitted or a POST script ran. A case passes when
every stated expectation that can be checked holds; cases that cannot run here (no
run outcome given, several top DAGs, a condor_rm from outside, options this executor
lacks) are skipped with the reason and never counted as passed.

Usage: python scripts/dagman_conformance.py CORPUS_DIR [--json] [--case ID] [--timeout S]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SUPPORTED_ARGS = {"-usedagdir": 0, "-maxpre": 1, "-maxpost": 1, "-maxjobs": 1, "-maxidle": 1,
                  "-AlwaysRunPost": 0}
STATUS_NAMES = {f"STATUS_{n}": n for n in
                ("NOT_READY", "READY", "PRERUN", "SUBMITTED", "POSTRUN", "DONE", "ERROR",
                 "FUTILE")}
TRACE = ".gwdag-trace.jsonl"

STUB = r'''#!{python}
import json, os, re, sys, time
CONFIG = json.loads({config!r})
args = sys.argv[1:]
name = os.path.basename(CONFIG["program"]).lower()
node, role = None, "job"
ad = os.environ.get("_CONDOR_JOB_AD")
if ad:
    try:
        match = re.search(r'^DAGNodeName = "(.*)"$', open(ad).read(), re.M)
        node = match.group(1) if match else None
    except OSError:
        pass
else:
    users = CONFIG["script_users"]
    def fits(user):
        tokens = user[2]
        return len(tokens) == len(args) and all(
            t.startswith("$") or t == a for t, a in zip(tokens, args))
    named = [u for u in users if fits(u)] or [u for u in users if u[0] in args]
    pick = named[0] if named else (users[0] if users else None)
    if pick:
        node, role = pick[0], pick[1].lower()
    else:
        role = "script"
with open(CONFIG["trace"], "a") as trace:
    trace.write(json.dumps({{"program": CONFIG["program"], "node": node, "role": role,
                            "argv": args}}) + "\n")
behavior = CONFIG["behavior"].get(node or "", {{}})
value = behavior.get(role + "_exit")
if isinstance(value, int):
    sys.exit(value)
if isinstance(value, str):
    fixed = re.search(r"\(=\s*(-?\d+)\)", value)
    if fixed:
        sys.exit(int(fixed.group(1)))
    if value.strip().lstrip("-").isdigit():
        sys.exit(int(value))
if name.startswith("python"):
    os.execv(sys.executable, [sys.executable] + args)
if name.startswith("exit") and args and args[-1].lstrip("-").isdigit():
    sys.exit(int(args[-1]))
if "sleep" in name and args and args[0].isdigit():
    time.sleep(min(int(args[0]), 3))
elif "echo" in name:
    print(" ".join(args))
elif "cat" in name:
    for path in args:
        try:
            sys.stdout.write(open(path).read())
        except OSError:
            pass
sys.exit(0)
'''


def _script_users(case_dir: Path, dag_file: str, usedagdir: bool) -> dict[str, list[list[str]]]:
    """program path (relative to the case dir) -> [[node, PRE|POST|HOLD], ...]."""
    from gwdag.dagman import load_dag

    cwd = (case_dir / dag_file).parent if usedagdir else case_dir
    users: dict[str, list[list[str]]] = {}
    try:
        dag = load_dag(str(case_dir / dag_file), cwd=str(cwd)).dag
    except Exception:  # a broken DAG: no script users to name
        return users
    for node in dag.nodes.values():
        for script in node.scripts.values():
            program = script.command.split()[0]
            base = cwd / node.dir if node.dir else cwd
            path = os.path.normpath(os.path.relpath(base / program, case_dir))
            users.setdefault(path, []).append([node.name, script.type,
                                               script.command.split()[1:]])
    return users


def write_stubs(case: dict, case_dir: Path, usedagdir: bool) -> None:
    users: dict[str, list[list[str]]] = {}
    for dag_file in case["top_dags"]:
        for key, value in _script_users(case_dir, dag_file, usedagdir).items():
            users.setdefault(key, []).extend(value)
    for program in case.get("missing_programs", []):
        path = (case_dir / program).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = os.path.normpath(program)
        config = json.dumps({"program": program, "behavior": case.get("node_behavior") or {},
                             "script_users": users.get(key, []),
                             "trace": str(case_dir / TRACE)})
        path.write_text(STUB.format(python=sys.executable, config=config))
        path.chmod(0o755)


def skip_reason(case: dict) -> str | None:
    expected = case.get("expected", {})
    if "dagman_exit_code" not in expected:
        return f"no run outcome given (a {expected.get('dag_result')} case for the checker)"
    if len(case["top_dags"]) != 1:
        return "multi-DAG submission (several top DAG files) is not supported"
    if expected.get("dag_result") == "removed":
        return "expects a condor_rm from outside at a moment the case does not state"
    args = case.get("condor_submit_dag_args", [])
    i = 0
    while i < len(args):
        if args[i] not in SUPPORTED_ARGS:
            return f"condor_submit_dag option {args[i]} is not supported by the local executor"
        i += 1 + SUPPORTED_ARGS[args[i]]
    return None


def run_options(case: dict) -> list[str]:
    args = case.get("condor_submit_dag_args", [])
    out: list[str] = []
    i = 0
    while i < len(args):
        flag = args[i]
        if flag == "-usedagdir":
            out.append("--usedagdir")
        elif flag == "-AlwaysRunPost":
            out.append("--always-run-post")
        elif flag in ("-maxpre", "-maxpost"):
            out += [f"--{flag[1:]}", args[i + 1]]
        elif flag in ("-maxjobs", "-maxidle"):
            out += [f"--max-{flag[4:]}", args[i + 1]]
        i += 1 + SUPPORTED_ARGS[flag]
    return out


def _sub_dags(dag, base: Path, depth: int = 0) -> list[tuple[object, Path, Path]]:
    """``(model, working directory, file)`` of every SUBDAG EXTERNAL DAG of ``dag``,
    recursively: each ran as a DAGMan of its own, with its own artifacts."""
    from gwdag.dagman import load_dag
    from gwdag.dagman.model import NodeKind

    found: list[tuple[object, Path, Path]] = []
    if depth > 5:
        return found
    for node in dag.nodes.values():
        if node.kind is NodeKind.SUBDAG:
            folder = base / node.dir if node.dir else base
            sub = folder / node.submit
            if sub.exists():
                model = load_dag(str(sub), cwd=str(folder)).dag
                found.append((model, folder, sub))
                found += _sub_dags(model, folder, depth + 1)
    return found


def _jobstate_logs(dag, base: Path) -> list[Path]:
    """The jobstate.log of ``dag`` and of its SUBDAG EXTERNAL DAGs."""
    found = [base / dag.jobstate_log] if dag.jobstate_log else []
    return found + [folder / sub.jobstate_log for sub, folder, _ in _sub_dags(dag, base)
                    if sub.jobstate_log]


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def check_case(case: dict, work: Path, result: dict, dag_path: Path) -> tuple[list[str], list[str]]:
    """Failures and unchecked expectation keys."""
    from gwdag.dagman import load_dag
    from gwdag.dagman.status_file import read_status_file

    expected = case["expected"]
    failures: list[str] = []
    unchecked: list[str] = []
    nodes = result.get("nodes", {})
    dagman_out = _read(Path(str(dag_path) + ".dagman.out"))
    nodes_log = _read(Path(str(dag_path) + ".nodes.log"))
    rescues = sorted(dag_path.parent.glob(dag_path.name + ".rescue[0-9][0-9][0-9]"))
    trace = [json.loads(line) for line in _read(work / TRACE).splitlines() if line.strip()]
    usedagdir = "-usedagdir" in case.get("condor_submit_dag_args", [])
    dag = load_dag(str(dag_path), cwd=str(dag_path.parent if usedagdir else work)).dag
    for key, value in expected.items():
        if key in ("dag_result", "notes", "min_htcondor_version"):
            continue
        if key == "dagman_exit_code":
            if result.get("exit_code") != value:
                failures.append(f"exit code {result.get('exit_code')}, expected {value}")
        elif key == "nodes" and isinstance(value, dict):
            for name, state in value.items():
                want = STATUS_NAMES.get(state, state)
                if nodes.get(name) != want:
                    failures.append(f"node {name} {nodes.get(name)}, expected {want}")
        elif key == "node_status_counts":
            counts = result.get("counts", {})
            for state, number in value.items():
                if counts.get(state.upper(), 0) != number:
                    failures.append(f"{counts.get(state.upper(), 0)} {state} nodes, "
                                    f"expected {number}")
        elif key == "node_status_file" and isinstance(value, dict):
            spec = dag.node_status_file
            if spec is None:
                failures.append("no NODE_STATUS_FILE in the DAG")
                continue
            base = dag_path.parent if usedagdir else work
            path = base / spec.file
            if not path.exists():
                failures.append(f"node status file {spec.file} not written")
                continue
            ads = read_status_file(str(path))
            text = _read(path)
            fields = value.get("final", value)
            if "final" in value:
                unchecked.extend(f"node_status_file.{k}" for k in value if k != "final")
            dag_ad = ads[0]
            for field, want in fields.items():
                if field == "all_nodes":
                    unchecked.append("node_status_file.all_nodes")
                    continue
                if field == "DagStatus":
                    number = int(str(want).split()[0])
                    if dag_ad.get("DagStatus") != number:
                        failures.append(f"status file DagStatus {dag_ad.get('DagStatus')}, "
                                        f"expected {want}")
                    note = str(want)[len(str(number)):].strip()
                    if note and f'"{note[1:-1]}"' not in text:
                        failures.append(f"status file DagStatus comment is not {note}")
                elif dag_ad.get(field) != want:
                    failures.append(f"status file {field} {dag_ad.get(field)}, expected {want}")
        elif key == "rescue_dag":
            if value is None:
                if rescues:
                    failures.append(f"rescue DAG {rescues[-1].name} written, expected none")
            elif isinstance(value, dict) and "lines_regex" in value:
                path = dag_path.parent / value["file"]
                lines = _read(path).splitlines()
                if not path.exists():
                    failures.append(f"no rescue DAG {value['file']}")
                for i, pattern in enumerate(value["lines_regex"]):
                    line = lines[i] if i < len(lines) else None
                    if line is None or not re.match(pattern, line):
                        failures.append(f"rescue line {i + 1} {line!r} !~ {pattern!r}")
                        break
            elif isinstance(value, dict) and "contains" in value:
                text = _read(rescues[-1]) if rescues else ""
                for piece in value["contains"]:
                    if piece not in text:
                        failures.append(f"rescue DAG lacks {piece!r}")
            elif isinstance(value, str) and re.search(r"\.rescue\d{3}$", value):
                if not (dag_path.parent / value).exists():
                    failures.append(f"no rescue DAG {value}")
            else:
                unchecked.append(key)
        elif key == "rescue_dags":
            for name in value:
                if not (dag_path.parent / name).exists():
                    failures.append(f"no rescue DAG {name}")
        elif key == "final_node_saw":
            final = dag.final_node
            seen = False
            if final is not None:
                for script in final.scripts.values():
                    tokens = script.command.split()[1:]
                    for record in trace:
                        if record["node"] != final.name or record["role"] != script.type.lower():
                            continue
                        for macro, want in value.items():
                            if f"${macro}" in tokens:
                                index = tokens.index(f"${macro}")
                                got = record["argv"][index] if index < len(record["argv"]) else None
                                seen = True
                                if got != str(want):
                                    failures.append(f"FINAL {script.type} saw {macro}={got}, "
                                                    f"expected {want}")
            if not seen:
                unchecked.append(key)
        elif key == "dagman_out_regex":
            # a line may be a sub-DAG's: HTCondor's own tests read those files too
            text = dagman_out + "".join(
                _read(Path(str(path) + ".dagman.out"))
                for _, _, path in _sub_dags(dag, dag_path.parent if usedagdir else work))
            for pattern in value:
                if not re.search(pattern, text, re.S):
                    failures.append(f"dagman.out !~ {pattern!r}")
        elif key == "jobstate_log_regex":
            # the JOBSTATE_LOG may be a sub-DAG's (SUBDAG EXTERNAL runs it there)
            text = "".join(_read(path) for path in _jobstate_logs(
                dag, dag_path.parent if usedagdir else work))
            for pattern in value:
                if not re.search(pattern, text, re.M):
                    failures.append(f"jobstate.log has no line ~ {pattern!r}")
        elif key == "nodes_log_contains":
            for piece in value:
                if piece not in nodes_log:
                    failures.append(f"nodes.log lacks {piece!r}")
        elif key == "job_start_order":
            order = re.findall(r"^000 \((?!0+\.2147483647)[^)]*\).*\n    DAG Node: (\S+)",
                               nodes_log, re.M)
            if " ".join(order) != value:
                failures.append(f"job start order {' '.join(order)!r}, expected {value!r}")
        elif key == "retries_performed":
            retries = len(re.findall(r"Retrying node ", dagman_out))
            if retries != value:
                failures.append(f"{retries} retries, expected {value}")
        elif key == "job_submitted":
            submitted = bool(re.search(r"^000 \((?!0+\.2147483647)", nodes_log, re.M))
            if submitted != value:
                failures.append(f"job submitted: {submitted}, expected {value}")
        elif key == "post_script_runs":
            ran = "POST Script terminated" in nodes_log
            if ran != value:
                failures.append(f"POST script ran: {ran}, expected {value}")
        else:
            unchecked.append(key)
    return failures, unchecked


def run_case(case: dict, corpus: Path, timeout: float) -> dict:
    reason = skip_reason(case)
    if reason:
        return {"case": case["id"], "status": "skipped", "reason": reason}
    tmp = Path(tempfile.mkdtemp(prefix="gwdag-conf-"))
    try:
        work = tmp / case["dir"]
        shutil.copytree(corpus / case["dir"], work, symlinks=True)
        usedagdir = "-usedagdir" in case.get("condor_submit_dag_args", [])
        write_stubs(case, work, usedagdir)
        dag_file = case["top_dags"][0]
        env = dict(os.environ)
        for line in case.get("pool_config", []):
            knob, sep, value = line.partition("=")
            if sep:
                env[f"_CONDOR_{knob.strip()}"] = value.strip()
        command = [sys.executable, "-m", "gwdag", "dag", "run", dag_file, "--json",
                   *run_options(case)]
        try:
            done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"case": case["id"], "status": "failed",
                    "failures": [f"did not finish within {timeout:.0f} s"]}
        try:
            result = json.loads(done.stdout)
        except json.JSONDecodeError:
            result = {"exit_code": done.returncode}
        result["exit_code"] = done.returncode
        failures, unchecked = check_case(case, work, result, work / dag_file)
        return {"case": case["id"], "status": "failed" if failures else "passed",
                "failures": failures, "unchecked": unchecked,
                "stderr": done.stderr[-400:] if failures else ""}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--json", action="store_true", help="one JSON document at the end")
    parser.add_argument("--case", action="append", help="run only this case (repeatable)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per case")
    args = parser.parse_args()
    manifest = json.loads((args.corpus / "manifest.json").read_text())
    cases = [c for c in manifest["cases"] if not args.case or c["id"] in args.case]
    results = []
    for case in cases:
        outcome = run_case(case, args.corpus, args.timeout)
        results.append(outcome)
        if not args.json:
            line = f"{outcome['status'].upper():7s} {outcome['case']}"
            if outcome["status"] == "skipped":
                line += f" ({outcome['reason']})"
            elif outcome["status"] == "failed":
                line += ": " + "; ".join(outcome["failures"][:3])
            print(line, flush=True)
    passed = sum(r["status"] == "passed" for r in results)
    failed = sum(r["status"] == "failed" for r in results)
    skipped = sum(r["status"] == "skipped" for r in results)
    if args.json:
        print(json.dumps({"passed": passed, "failed": failed, "skipped": skipped,
                          "results": results}, indent=2))
    else:
        print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
