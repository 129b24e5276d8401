"""Settings read from the environment, with documented defaults.

=================================  ======================================  ==========================
variable                           meaning                                 default
=================================  ======================================  ==========================
``PSYCHANALYTICS_DB``              database path or SQLAlchemy URL         ``data/demo.sqlite``
``PSYCHANALYTICS_KEY_FILE``        HMAC key for pseudonyms (outside the    ``~/.config/psychanalytics/
                                   repository and the database)            pseudonym.key``
``PSYCHANALYTICS_MIN_CELL``        smallest group a leader view shows      ``10``
``PSYCHANALYTICS_WARNING_SCALE``   how crisis severities are labelled      ``colours``
                                   (``crisis/conventions.yaml``)
``PSYCHANALYTICS_ANCHOR_FILE``     audit-chain anchors (outside the        ``~/.config/psychanalytics/
                                   database, beside the key)               audit-anchors.jsonl``
``PSYCHANALYTICS_PROJECT_KEYS``    research projects' pseudonym keys       ``~/.config/psychanalytics/
                                   (a folder, one file per project)        projects``
=================================  ======================================  ==========================

Examples
--------
>>> from psychanalytics.config import Settings
>>> Settings.from_env({"PSYCHANALYTICS_MIN_CELL": "5"}).min_cell
5
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DB = Path("data") / "demo.sqlite"
DEFAULT_KEY_FILE = Path.home() / ".config" / "psychanalytics" / "pseudonym.key"
DEFAULT_MIN_CELL = 10
DEFAULT_WARNING_SCALE = "colours"
DEFAULT_ANCHOR_FILE = DEFAULT_KEY_FILE.with_name("audit-anchors.jsonl")
DEFAULT_PROJECT_KEYS = DEFAULT_KEY_FILE.with_name("projects")


@dataclass(frozen=True)
class Settings:
    """Process-wide settings (immutable once read)."""

    db: str
    key_file: Path
    min_cell: int
    warning_scale: str = DEFAULT_WARNING_SCALE
    anchor_file: Path = DEFAULT_ANCHOR_FILE
    project_keys: Path = DEFAULT_PROJECT_KEYS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``environ`` (``os.environ`` by default)."""
        env = os.environ if environ is None else environ
        min_cell_text = env.get("PSYCHANALYTICS_MIN_CELL", str(DEFAULT_MIN_CELL))
        try:
            min_cell = int(min_cell_text)
        except ValueError:
            raise ValueError(
                f"PSYCHANALYTICS_MIN_CELL must be a whole number, got {min_cell_text!r}"
            ) from None
        if min_cell < 1:
            raise ValueError(f"PSYCHANALYTICS_MIN_CELL must be >= 1, got {min_cell}")
        return cls(
            db=env.get("PSYCHANALYTICS_DB", str(DEFAULT_DB)),
            key_file=Path(env.get("PSYCHANALYTICS_KEY_FILE", str(DEFAULT_KEY_FILE))),
            min_cell=min_cell,
            warning_scale=env.get("PSYCHANALYTICS_WARNING_SCALE", DEFAULT_WARNING_SCALE),
            anchor_file=Path(env.get("PSYCHANALYTICS_ANCHOR_FILE", str(DEFAULT_ANCHOR_FILE))),
            project_keys=Path(env.get("PSYCHANALYTICS_PROJECT_KEYS", str(DEFAULT_PROJECT_KEYS))),
        )
