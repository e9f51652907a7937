#!/usr/bin/env python3
"""Benchmark gwdag's DAG language against HTCondor's and other Python DAG writers.

1. Validate a generated DAG of N nodes (VARS on every node, RETRY on every tenth,
   ~1.33 edges per node) with ``gwdag dag validate`` (which proves such a plain
   file valid in bulk) and with ``gwdag dag validate --full`` (the full model and
   lint, what a file with other commands takes), next to
   ``htcondor2.Submit.from_dag`` (HTCondor's C++ keyword scan, stub
   ``condor_dagman`` on PATH) on the same file: whole processes, best of R runs.
2. Build and write the same layered DAG (layers of 1000 nodes sharing one submit
   description; node i depends on nodes i and i+1 of the layer above when i % 3 == 0,
   else on node i) with gwdag's builder, ``htcondor2.dags``, ``ezdag`` and
   ``pycondor`` in this process, each best of R runs, and print each time and
   gwdag's speed-up over the fastest other writer.  htcondor2.dags and pycondor
   cannot say "i and i+1": they get one-to-one edges (htcondor2.dags) or all-to-all
   layer edges (pycondor), the nearest graph each can express; ezdag gets the exact
   graph through file inputs.

Usage: python scripts/bench_dag.py [--nodes 100000] [--repeat 3] [--skip-others]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from precompile import compile_gwdag

WIDTH = 1000


def parents_of(i: int) -> tuple[int, ...]:
    return (i, (i + 1) % WIDTH) if i % 3 == 0 else (i,)


def generate_dag(path: Path, nodes: int) -> int:
    """Write the validation DAG by plain string formatting; returns its edge count."""
    depth = nodes // WIDTH
    lines = []
    edges = 0
    for k in range(depth):
        for i in range(WIDTH):
            name = f"L{k}_{i}"
            lines.append(f"JOB {name} work.sub")
            lines.append(f'VARS {name} layer="{k}" index="{i}" seed="{k * WIDTH + i}"')
            if i % 10 == 0:
                lines.append(f"RETRY {name} 2")
    for k in range(1, depth):
        for i in range(WIDTH):
            parents = " ".join(f"L{k - 1}_{p}" for p in parents_of(i))
            lines.append(f"PARENT {parents} CHILD L{k}_{i}")
            edges += len(parents_of(i))
    path.write_text("\n".join(lines) + "\n")
    (path.parent / "work.sub").write_text(
        "universe = vanilla\nexecutable = /bin/true\narguments = $(layer) $(index)\nqueue\n")
    return edges


def best_of(repeat: int, command: list[str], cwd: Path, env: dict[str, str]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"{' '.join(command[:3])}... failed: {done.stderr.strip()[-500:]}")
    return min(times)


def bench_validate(nodes: int, repeat: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="gwdag-bench-"))
    try:
        stub = work / "bin"
        stub.mkdir()
        (stub / "condor_dagman").write_text("#!/bin/sh\nexit 0\n")
        (stub / "condor_dagman").chmod(0o755)
        env = dict(os.environ, PATH=f"{stub}{os.pathsep}{os.environ['PATH']}")
        edges = generate_dag(work / "big.dag", nodes)
        size = (work / "big.dag").stat().st_size
        print(f"[validate] {nodes} nodes, {edges} edges, {size / 1e6:.1f} MB DAG file")
        scan = "import htcondor2; htcondor2.Submit.from_dag('big.dag', {'force': True})"
        condor = best_of(repeat, [sys.executable, "-c", scan], work, env)
        validate = [sys.executable, "-m", "gwdag", "dag", "validate", "big.dag"]
        ours = best_of(repeat, validate, work, env)
        full = best_of(repeat, validate + ["--full"], work, env)
        print(f"  htcondor2.Submit.from_dag (keyword scan)  {condor:7.2f} s")
        print(f"  gwdag dag validate (bulk check)           {ours:7.2f} s")
        print(f"  gwdag dag validate --full (model + lint)  {full:7.2f} s")
        print(f"  ratio gwdag / HTCondor                    {ours / condor:7.2f}x  (goal <= 5x)")
        print(f"  ratio --full / HTCondor                   {full / condor:7.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build_gwdag(out: Path, depth: int) -> None:
    from gwdag.dagman import DagBuilder

    dag = DagBuilder("layered.dag")
    dag.submit_description("work", {"executable": "/bin/true", "arguments": "$(layer) $(index)"})
    previous = None
    for k in range(depth):
        previous = dag.layer(
            f"L{k}", "work", vars=[{"layer": str(k), "index": str(i)} for i in range(WIDTH)],
            parents=previous, edges=parents_of, retry=2)
    dag.write(str(out / "layered.dag"))


def build_htcondor_dags(out: Path, depth: int) -> None:
    import htcondor2
    from htcondor2 import dags

    dag = dags.DAG()
    description = htcondor2.Submit({"executable": "/bin/true",
                                    "arguments": "$(layer) $(index)"})
    layer = dag.layer(name="L0", submit_description=description, retries=2,
                      vars=[{"layer": "0", "index": str(i)} for i in range(WIDTH)])
    for k in range(1, depth):
        layer = layer.child_layer(name=f"L{k}", submit_description=description, retries=2,
                                  vars=[{"layer": str(k), "index": str(i)} for i in range(WIDTH)],
                                  edge=dags.OneToOne())
    dags.write_dag(dag, out, dag_file_name="layered.dag")


def build_ezdag(out: Path, depth: int) -> None:
    from ezdag import DAG, Argument, Layer, Node, Option

    dag = DAG("layered")
    for k in range(depth):
        layer = Layer("/bin/true", name=f"L{k}", retries=2, transfer_files=False)
        for i in range(WIDTH):
            inputs = [Option("input", [f"f{k - 1}_{p}" for p in parents_of(i)])] if k else []
            layer += Node(arguments=[Argument("index", i)], inputs=inputs,
                          outputs=[Option("output", f"f{k}_{i}")])
        dag.attach(layer)
    dag.write(out, write_script=False)


def build_pycondor(out: Path, depth: int) -> None:
    import pycondor

    dagman = pycondor.Dagman("layered", submit=str(out))
    previous = None
    for k in range(depth):
        job = pycondor.Job(f"L{k}", "/bin/true", submit=str(out), dag=dagman, retry=2)
        for i in range(WIDTH):
            job.add_arg(f"{k} {i}")
        if previous is not None:
            job.add_parent(previous)
        previous = job
    dagman.build(makedirs=True, fancyname=False)


def bench_build(nodes: int, repeat: int, others: bool) -> None:
    depth = nodes // WIDTH
    writers = [("gwdag DagBuilder", build_gwdag)]
    if others:
        writers += [("htcondor2.dags", build_htcondor_dags), ("ezdag", build_ezdag),
                    ("pycondor", build_pycondor)]
    print(f"[build+write] {depth} layers x {WIDTH} nodes")
    results: dict[str, float] = {}
    for label, builder in writers:
        times = []
        for _ in range(repeat):
            out = Path(tempfile.mkdtemp(prefix="gwdag-bench-"))
            try:
                start = time.perf_counter()
                builder(out, depth)
                times.append(time.perf_counter() - start)
            except ImportError as exc:
                print(f"  {label:28s} not installed ({exc.name}); pip install .[bench]")
                break
            finally:
                shutil.rmtree(out, ignore_errors=True)
        if times:
            results[label] = min(times)
            print(f"  {label:28s} {results[label]:7.2f} s")
    ours = results["gwdag DagBuilder"]
    rivals = {k: v for k, v in results.items() if not k.startswith("gwdag")}
    if rivals:
        fastest = min(rivals, key=rivals.get)
        print(f"  speed-up over the fastest ({fastest}): {rivals[fastest] / ours:.1f}x "
              "(goal >= 3x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-others", action="store_true",
                        help="only time gwdag's builder in part 2")
    args = parser.parse_args()
    compile_gwdag()
    bench_validate(args.nodes, args.repeat)
    bench_build(args.nodes, args.repeat, not args.skip_others)


if __name__ == "__main__":
    main()
