#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image. The
# autograder zip holds this course (pyproject.toml, grader/, course.yaml,
# exercises/, solutions/) with setup.sh and run_autograder at its top; Gradescope
# unpacks it into /autograder/source.
set -euo pipefail
apt-get update -qq
apt-get install -y -qq python3 python3-pip python3-venv bubblewrap >/dev/null
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q torch --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install -q /autograder/source
