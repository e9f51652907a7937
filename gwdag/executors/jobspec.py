"""What a node's job runs, read from its submit description with ``htcondor2.Submit``.

The local executor runs the same submit files a pool would: HTCondor's own submit
parser reads them (macros, ``$(Cluster)``/``$(Process)``, VARS), and this module
turns the expanded commands into processes to start: argv (both ``arguments``
syntaxes), environment (both syntaxes, ``getenv``), ``initialdir``, files, resource
requests and the ``queue`` statement.  Universes vanilla, local and scheduler run
here; any other gives a :class:`JobSpecError` naming it.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["JobSpecCache", "JobSpecError", "ProcSpec", "JobSpec", "read_job_spec",
           "split_arguments", "parse_environment", "LOCAL_UNIVERSES"]

LOCAL_UNIVERSES = ("vanilla", "local", "scheduler")
_UNIVERSE_NUMBERS = {"vanilla": 5, "scheduler": 7, "local": 12}
_MEMORY_UNITS = {"": 1.0, "K": 1 / 1024, "M": 1.0, "G": 1024.0, "T": 1024.0 ** 2}
_MEMORY = re.compile(r"\s*(\d+(?:\.\d*)?)\s*([KMGT]?)B?\s*$", re.IGNORECASE)


class JobSpecError(Exception):
    """A submit description the local executor cannot run (the node's submit fails)."""


@dataclass(eq=False)
class ProcSpec:
    """One process of a job (one ``queue`` item).  Specs from a
    :class:`JobSpecCache` are shared by every job they describe: read only.
    Compared (and hashed) by identity: the executor keys what it derives from a
    spec, such as the static part of its job ad, on the spec itself."""

    proc: int
    argv: list[str]
    env: dict[str, str]
    iwd: str
    stdin: str | None
    stdout: str | None
    stderr: str | None
    attributes: dict[str, str] = field(default_factory=dict)  # +Attr / My.Attr


@dataclass
class JobSpec:
    """A node's job: one cluster of ``procs`` (shared when cached: read only)."""

    universe: str
    executable: str
    request_cpus: int
    request_memory_mb: int
    log: str | None
    procs: list[ProcSpec]
    periodic_remove: str = ""  # a ClassAd expression, evaluated against the job ad


def split_arguments(value: str) -> list[str]:
    """Split an ``arguments`` value into argv.

    New syntax (the value is in double quotes): blanks separate, single quotes group
    (``''`` is a literal single quote inside them), ``""`` is a literal double quote.
    Old syntax: blanks separate, ``\\"`` is a literal double quote.
    """
    text = value.strip()
    if not text:
        return []
    if not (len(text) >= 2 and text[0] == '"' and text[-1] == '"'):
        return [token.replace('\\"', '"') for token in text.split()]
    # As HTCondor does: quoted V2 to raw V2 first ("" is a literal " anywhere,
    # inside single quotes too), then split the raw text.
    text = text[1:-1].replace('""', '"')
    args: list[str] = []
    current: list[str] = []
    in_token = False
    i = 0
    while i < len(text):
        char = text[i]
        if char == "'":
            in_token = True
            i += 1
            while i < len(text):
                if text[i] == "'":
                    if text[i + 1:i + 2] == "'":
                        current.append("'")
                        i += 2
                        continue
                    break
                current.append(text[i])
                i += 1
            else:
                raise JobSpecError(f"unbalanced single quote in arguments: {value}")
            i += 1
            continue
        if char in " \t":
            if in_token:
                args.append("".join(current))
                current, in_token = [], False
        else:
            current.append(char)
            in_token = True
        i += 1
    if in_token:
        args.append("".join(current))
    return args


def parse_environment(value: str) -> dict[str, str]:
    """``environment`` in either syntax: ``"A=1 B='x y'"`` or ``A=1;B=2``."""
    text = value.strip()
    if not text:
        return {}
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        entries = split_arguments(text)
    else:
        entries = [e for e in text.split(";") if e.strip()]
    env: dict[str, str] = {}
    for entry in entries:
        name, sep, val = entry.strip().partition("=")
        if not sep or not name:
            raise JobSpecError(f"environment entry {entry!r} is not NAME=VALUE")
        env[name] = val
    return env


def _getenv(value: str, base: Mapping[str, str]) -> dict[str, str]:
    text = value.strip()
    if text.lower() in ("true", "yes", "1"):
        return dict(base)
    if text.lower() in ("", "false", "no", "0"):
        return {}
    patterns = [p.strip() for p in re.split(r"[,\s]+", text) if p.strip()]
    picked = {}
    for name, val in base.items():
        if any(fnmatch.fnmatchcase(name, p) for p in patterns if not p.startswith("!")):
            picked[name] = val
    return picked


def _memory_mb(value: str) -> int:
    if not value:
        return 0
    match = _MEMORY.match(value)
    if match is None:
        return 0  # an expression: nothing to pack by
    return int(float(match.group(1)) * _MEMORY_UNITS[match.group(2).upper()])


def _path(base: str, value: str) -> str:
    return value if os.path.isabs(value) else os.path.normpath(os.path.join(base, value))


#: ``queue`` arguments that name items (``in``, ``from``, ``matching``).
_ITEM_QUEUE = re.compile(r"\b(?:in|from|matching)\b", re.IGNORECASE)


def read_job_spec(text: str, submit_dir: str, macros: Mapping[str, str],
                  append_macros: Mapping[str, str], *, cluster: int,
                  base_env: Mapping[str, str] | None = None) -> JobSpec:
    """Read a submit description.

    ``submit_dir`` is where condor_submit would run (the DAG working directory,
    or the node's DIR); ``macros`` are set before the description's own commands
    (VARS, and JOB/RETRY/DAG_STATUS/...), ``append_macros`` after them (VARS APPEND).
    """
    import htcondor2

    try:
        submit = htcondor2.Submit(text)
    except Exception as exc:
        raise JobSpecError(f"HTCondor's submit parser rejects the description: {exc}") from exc
    for key, value in macros.items():
        if key not in submit:
            submit[key] = value
    for key, value in append_macros.items():
        submit[key] = value

    names = {key.lower(): key for key in submit.keys()}

    def get(key: str, default: str = "") -> str:
        # Submit commands are case-insensitive; expand() wants the spelling used.
        name = names.get(key.lower())
        if name is None:
            return default
        try:
            return submit.expand(name).strip()
        except KeyError:
            return str(submit[name]).strip()

    universe = get("universe", "vanilla").lower()
    if universe not in LOCAL_UNIVERSES:
        raise JobSpecError(f"universe {universe} cannot run on the local executor "
                           f"(only {', '.join(LOCAL_UNIVERSES)}); use the condor executor")
    queue_args = (submit.getQArgs() or "").strip()
    items: list[dict[str, str]] = [{}]
    count_text = queue_args
    # condor_submit runs in the submit directory: "queue ... from FILE" is
    # relative to it (HTCondor's parser reads the file from the process's cwd)
    previous = os.getcwd()
    try:
        os.chdir(submit_dir)
        item_data = submit.itemdata()
    except (OSError, ValueError) as exc:
        raise JobSpecError(f"queue {queue_args}: {exc}") from exc
    finally:
        os.chdir(previous)
    if item_data is not None:
        items = [dict(item) for item in item_data] or [{}]
        count_text = queue_args.split()[0] if queue_args.split()[0].isdigit() else "1"
    elif _ITEM_QUEUE.search(queue_args):
        # HTCondor's parser read the statement but found no item: no file
        # matches, or the list is empty.  condor_submit would queue no job.
        raise JobSpecError(f"'queue {queue_args}' gives no items (no file matches in "
                           f"{submit_dir}, or the list is empty): no job to run")
    if not count_text:
        count = 1
    elif count_text.isdigit():
        count = int(count_text)
    else:
        raise JobSpecError(f"queue statement 'queue {queue_args}' is not supported by the "
                           "local executor (use queue N or queue ... in/from)")
    base = os.environ if base_env is None else base_env
    procs: list[ProcSpec] = []
    log = None
    request_cpus = 1
    request_memory = 0
    executable = ""
    proc_id = 0
    for item in items:
        for _ in range(count):
            for key, value in item.items():
                submit[key] = value
            submit["Cluster"] = submit["ClusterId"] = str(cluster)
            submit["Process"] = submit["ProcId"] = str(proc_id)
            submit["Step"] = str(proc_id)
            iwd = _path(submit_dir, get("initialdir", get("initial_dir", "")) or ".")
            executable = get("executable")
            if not executable:
                raise JobSpecError("the submit description has no executable")
            arguments = get("arguments", get("args", ""))
            env = _getenv(get("getenv", "false"), base)
            env.update(parse_environment(get("environment", get("env", ""))))
            files = {}
            for key in ("input", "output", "error"):
                value = get(key)
                files[key] = _path(iwd, value) if value and value != "/dev/null" else None
            attributes = {}
            for key in submit.keys():
                if key.startswith("+"):
                    attributes[key[1:]] = submit.expand(key)
                elif key.lower().startswith("my."):
                    attributes[key[3:]] = submit.expand(key)
            procs.append(ProcSpec(
                proc=proc_id, argv=[_path(iwd, executable), *split_arguments(arguments)],
                env=env, iwd=iwd, stdin=files["input"], stdout=files["output"],
                stderr=files["error"], attributes=attributes))
            log_value = get("log")
            log = _path(iwd, log_value) if log_value else None
            cpus = get("request_cpus", "1")
            request_cpus = int(cpus) if cpus.isdigit() and int(cpus) > 0 else 1
            request_memory = _memory_mb(get("request_memory", ""))
            proc_id += 1
    return JobSpec(universe=universe, executable=executable, request_cpus=request_cpus,
                   request_memory_mb=request_memory, log=log, procs=procs,
                   periodic_remove=get("periodic_remove"))


_MACRO_REFERENCE = re.compile(r"\$(\$)?\(([A-Za-z0-9_.+-]+)(?::[^)]*)?\)")
_MACRO_FUNCTION = re.compile(r"\$[A-Za-z_]+\(")
# Descriptions that read other files (queue ... from / matching, include) may
# differ between two nodes while their text does not: never cached.
_READS_FILES = re.compile(r"^[ \t]*(?:queue\b[^\n]*\b(?:from|matching)\b|include\b)",
                          re.IGNORECASE | re.MULTILINE)
#: The macros the local executor defines for every job (lower-cased): they change
#: a job only where its description refers to them.
_DAGMAN_MACROS = frozenset({"job", "retry", "dag_status", "dagmanjobid", "failed_count",
                            "dag_parent_names"})
_PER_PROC = {"cluster", "clusterid", "process", "procid", "step", "item", "itemindex",
             "row", "node"}


class JobSpecCache:
    """:func:`read_job_spec` once per distinct description and the macro values
    it actually uses.

    Many nodes of a DAG share one submit file and differ only in macros the
    file never mentions (``$(JOB)``, ``$(RETRY)``, a cluster number).  The key is
    the text, the directory and the values of every macro the text references
    (following references inside macro values) and of every macro that is not
    one of DAGMan's own (``_DAGMAN_MACROS``): a node's VARS may be submit
    commands or attributes themselves (``request_memory``, ``+Foo``), which
    change the job without being referenced; a text that uses a macro
    function (``$ENV(...)``, ``$RANDOM_INTEGER(...)``), ``$$(...)``, a per-proc
    macro such as ``$(Cluster)``, or that reads other files (``queue ... from``,
    ``queue ... matching``, ``include``: a PRE script may rewrite them) is read
    afresh every time.  The specs it returns are shared between the jobs they
    describe, not copied per job: callers must not change them.
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._cache: dict[tuple, JobSpec] = {}
        self._names: dict[str, frozenset[str] | None] = {}
        self._static: dict[tuple[str, str], JobSpec] = {}  # (text, dir) -> spec
        self.hits = 0

    def read(self, text: str, submit_dir: str, macros: Mapping[str, str],
             append_macros: Mapping[str, str], cluster: int) -> JobSpec:
        key = self._key(text, submit_dir, macros, append_macros)
        if key is None:
            return read_job_spec(text, submit_dir, macros, append_macros, cluster=cluster)
        return self._cached(key, text, submit_dir, macros, append_macros, cluster)

    def read_static(self, text: str, submit_dir: str, cluster: int) -> JobSpec | None:
        """:meth:`read` for a node without VARS, or ``None`` when ``text`` refers
        to a macro: a text that uses none gives every such node the same spec,
        so no macros need to be built to look it up."""
        spec = self._static.get((text, submit_dir))
        if spec is None:
            if self._text_names(text) != frozenset():
                return None
            spec = self._cached((text, submit_dir, ()), text, submit_dir, {}, {}, cluster)
            if len(self._static) >= self.size:
                self._static.pop(next(iter(self._static)))
            self._static[(text, submit_dir)] = spec
        else:
            self.hits += 1
        return spec

    def _cached(self, key: tuple, text: str, submit_dir: str, macros: Mapping[str, str],
                append_macros: Mapping[str, str], cluster: int) -> JobSpec:
        cached = self._cache.get(key)
        if cached is None:
            cached = read_job_spec(text, submit_dir, macros, append_macros, cluster=cluster)
            if len(self._cache) >= self.size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = cached
        else:
            self.hits += 1
        return cached

    def _text_names(self, text: str) -> frozenset[str] | None:
        """The macro names a description references, ``None`` if it is never
        cached; scanned once per distinct text (every job of a layer shares it)."""
        if text in self._names:
            return self._names[text]
        names = None
        if not (_MACRO_FUNCTION.search(text) or _READS_FILES.search(text)):
            names = _referenced_names(text)
        if len(self._names) >= self.size:
            self._names.pop(next(iter(self._names)))
        self._names[text] = names
        return names

    def _key(self, text: str, submit_dir: str, macros: Mapping[str, str],
             append_macros: Mapping[str, str]) -> tuple | None:
        names = self._text_names(text)
        if names is None:
            return None
        given = {k.lower(): v for k, v in macros.items()}
        given.update({k.lower(): v for k, v in append_macros.items()})
        used: set[str] = set()
        pending = list(names)
        pending.extend(name for name in given if name not in _DAGMAN_MACROS)
        while pending:
            name = pending.pop()
            if name in used:
                continue
            used.add(name)
            value = given.get(name)
            if value is None:
                continue
            # Follow references inside macro values ($(a) = "$(b)/x").
            if _MACRO_FUNCTION.search(value):
                return None
            inner = _referenced_names(value)
            if inner is None:
                return None
            pending.extend(inner)
        values = tuple(sorted((name, given[name]) for name in used if name in given))
        return text, submit_dir, values


def _referenced_names(text: str) -> frozenset[str] | None:
    """Lower-cased names of the ``$(name)`` references in ``text``; ``None`` when
    one is ``$$(...)`` (filled in at match time) or a per-proc macro."""
    names = set()
    for match in _MACRO_REFERENCE.finditer(text):
        name = match.group(2).lower()
        if match.group(1) or name in _PER_PROC:
            return None
        names.add(name)
    return frozenset(names)


def universe_number(universe: str) -> int:
    """``JobUniverse`` of a job ad."""
    return _UNIVERSE_NUMBERS.get(universe, 5)
