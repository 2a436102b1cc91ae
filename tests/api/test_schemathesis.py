"""Schemathesis 4 against the live hub: every operation of /api/schema/, through the examples,
coverage and fuzzing phases, with every check, plus `rejected_request_changes_nothing`
(tests/api/st_hooks.py). The hub is gunicorn in production mode on the test database
(tests/api/conftest.py); the token holds every scope.

Bounded for CI: HUB_FUZZ_MAX_EXAMPLES (default 25) cases per operation in the fuzzing phase;
the examples and coverage phases are deterministic. HUB_FUZZ_SEED repeats a run (the seed is
printed either way). The run's output is the failure message.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.worker import ROOT, child_env

from .conftest import LiveHub, World

HERE = Path(__file__).resolve().parent
MAX_EXAMPLES = os.environ.get("HUB_FUZZ_MAX_EXAMPLES", "25")


@pytest.mark.timeout(900)
def test_the_live_api_holds_to_its_document(
    live_hub: LiveHub, api_world: World, tmp_path: Path
) -> None:
    cmd = [
        str(Path(sys.executable).with_name("st")),
        "--config-file", str(HERE / "schemathesis.toml"),
        "run", f"{live_hub.url}/api/schema/",
        "--checks", "all",
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", MAX_EXAMPLES,
        "--no-color",
        "--report", "junit",
        "--report-dir", str(tmp_path / "report"),
    ]  # fmt: skip
    if os.environ.get("HUB_FUZZ_SEED"):
        cmd += ["--seed", os.environ["HUB_FUZZ_SEED"]]
    env = child_env(
        **api_world.as_env(),
        HUB_FUZZ_DATABASE_URL=child_env()["DATABASE_URL"],
        PYTHONPATH=str(ROOT),
    )
    started = time.monotonic()
    run = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    took = time.monotonic() - started
    output = run.stdout + run.stderr
    print(f"Schemathesis took {took:.0f} s\n{output[-20000:]}")  # noqa: T201 (shown with -s)
    assert run.returncode == 0, (
        f"Schemathesis found contract violations ({took:.0f} s):\n{output[-30000:]}\n"
        f"--- hub log ---\n{live_hub.log_tail()}"
    )
    assert "API Operations:" in output and "Tested: " in output, output[-3000:]
