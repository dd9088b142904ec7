# SPDX-License-Identifier: MIT
"""examples/python_supervisor.py runs and says what it should."""

import os
import pathlib
import subprocess

from conftest import PY, needs_lifecycle

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / 'examples' / 'python_supervisor.py'


@needs_lifecycle
def test_supervisor_example():
    r = subprocess.run([PY, str(EXAMPLE)], capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "run: ['sleep', '10'] killed after 0.5 s" in out
    assert 'NoNewPrivs 1' in out
    assert 'job quick    exit 0' in out
    assert 'job fails    exit 3' in out
    assert 'job crashes  signal SIGSEGV' in out
    assert 'job slow     signal SIGKILL' in out
