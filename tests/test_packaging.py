"""Packaging stays consistent: environment.yml mirrors pyproject.toml; the CLI is installed."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _normalise(requirement: str) -> str:
    """'psycopg[binary]>=3.1' → 'psycopg[binary]>=3.1' with canonical name (lower case, '_' → '-')."""
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]+\])?\s*(.*)$", requirement)
    name, extra, spec = match.groups()
    return f"{name.lower().replace('_', '-')}{extra or ''}{spec.replace(' ', '')}"


def _pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["dev"]
    return {_normalise(r) for r in reqs}


def _environment_requirements() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = [], []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += [d for d in dep["pip"] if not d.startswith("-e")]
        elif re.match(r"[A-Za-z0-9_.\-]+", dep).group() not in {"python", "pip"}:
            conda.append(dep)
    return {_normalise(r) for r in conda + pip}


def test_environment_yml_mirrors_pyproject():
    pyproject, environment = _pyproject_requirements(), _environment_requirements()
    assert pyproject - environment == set(), "in pyproject.toml but not environment.yml"
    assert environment - pyproject == set(), "in environment.yml but not pyproject.toml"


def test_cli_entry_point_is_installed():
    result = subprocess.run(
        [Path(sys.executable).parent / "psychanalytics", "--help"], capture_output=True, text=True, check=True
    )
    assert "demo" in result.stdout and "serve" in result.stdout


def test_voila_is_new_enough():
    """voila >= 0.5.6 carries the fix for GHSA-2q59-h24c-w6fg (static path traversal)."""
    from importlib.metadata import version

    major, minor, patch = (int(part) for part in version("voila").split(".")[:3])
    assert (major, minor, patch) >= (0, 5, 6)
