"""The ``gwdag.dagman`` package's public names, imported on first use."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import gwdag.dagman as dagman


def test_every_public_name_resolves_to_its_module():
    assert sorted(dagman.__all__) == sorted(dagman._MODULE_OF)
    for name, module in dagman._MODULE_OF.items():
        expected = getattr(importlib.import_module(f"gwdag.dagman.{module}"), name)
        assert getattr(dagman, name) is expected
    assert set(dagman.__all__) <= set(dir(dagman))


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'no_such_thing'"):
        dagman.no_such_thing  # noqa: B018
    with pytest.raises(ImportError):
        exec("from gwdag.dagman import no_such_thing", {})


def test_star_import_gives_every_public_name():
    namespace: dict = {}
    exec("from gwdag.dagman import *", namespace)
    assert set(dagman.__all__) <= set(namespace)


def test_dag_run_does_not_import_the_tools_it_does_not_use():
    # `gwdag dag run` is started by scripts and sub-DAGs; the builder, lint,
    # flattening and drawing modules are for the other commands.
    code = ("import sys, gwdag.cli.dag; "
            "print(' '.join(m for m in sys.modules if m.startswith('gwdag.')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.split()
    assert "gwdag.executors.local" in loaded
    for module in ("builder", "describe", "flatten", "lint", "quickcheck", "writer"):
        assert f"gwdag.dagman.{module}" not in loaded
