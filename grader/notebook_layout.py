"""The cell layout of the course's nbgrader notebooks, shared by rendering, checking,
extraction and the trusted batch path: grade ids, nbgrader's metadata schema, the
notebook's own metadata key.
"""

from __future__ import annotations

import re

SCHEMA_VERSION = 3
"""nbgrader's cell metadata schema written here."""
LAYOUT_FORMAT = 1
"""Version of the notebook layout, recorded in the notebook's metadata."""
METADATA_KEY = "course_grader"
CONFIG_FILE = "nbgrader_config.py"
INTRO_ID = "intro"
SETUP_ID = "setup"
NOTEBOOK_RULE = "notebook"
"""Rule name in the feedback of a task whose cells could not be read."""


def about_id(task: str) -> str:
    return f"about_{task}"


def solution_id(task: str) -> str:
    return f"solution_{task}"


def test_id(task: str) -> str:
    return f"test_{task}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "course"
