"""scripts/_system.sh: a failed pip install stops the script; cleanup stops only its own."""

import os
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_SH = ROOT / "scripts" / "_system.sh"


def _bash(script, cwd, **env):
    return subprocess.run(
        ["bash", "-c", f"set -euo pipefail; source {SYSTEM_SH}; {script}"],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def fake_venv(tmp_path):
    # A stand-in .venv whose `pip install` prints like pip and exits with $FAKE_PIP_STATUS.
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    python = bin_dir / "python"
    python.write_text(
        textwrap.dedent(
            """\
            #!/bin/sh
            if [ "$3" = install ]; then
              echo "WARNING: Location noise"
              echo "ERROR: No matching distribution found for nosuchpkg==9"
              exit "${FAKE_PIP_STATUS:-0}"
            fi
            exit 0
            """
        )
    )
    python.chmod(0o755)
    (tmp_path / "requirements.txt").write_text("nosuchpkg==9\n")
    return tmp_path


def test_a_failed_pip_install_stops_the_script_with_a_message(fake_venv):
    result = _bash("ensure_venv requirements.txt; echo CARRIED-ON", fake_venv, FAKE_PIP_STATUS="1")
    assert result.returncode != 0
    assert "CARRIED-ON" not in result.stdout
    assert "pip could not install the packages from requirements.txt" in result.stderr
    assert "No matching distribution" in result.stdout  # pip's own output is still shown


def test_a_successful_pip_install_carries_on_and_hides_location_warnings(fake_venv):
    result = _bash("ensure_venv requirements.txt; echo CARRIED-ON", fake_venv)
    assert result.returncode == 0, result.stderr
    assert "CARRIED-ON" in result.stdout
    assert "WARNING: Location" not in result.stdout


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) counts as stopped.
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split(") ")[1][0] != "Z"


def test_stop_process_groups_stops_its_groups_and_nothing_else(tmp_path):
    # A "neighbour" with the same command line, as another checkout's worker would have.
    neighbour = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        script = """
            setsid sleep 300 & a=$!
            setsid bash -c 'trap "" TERM; sleep 300 & wait' & b=$!
            sleep 0.5
            ps -o pid= --ppid "$b" > children
            echo "$a $b" > pids
            stop_process_groups "$a" "$b"
        """
        started = time.monotonic()
        result = _bash(script, tmp_path)
        assert result.returncode == 0, result.stderr
        pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
        pids += [int(p) for p in (tmp_path / "children").read_text().split()]
        assert len(pids) >= 3
        assert not any(_alive(pid) for pid in pids)
        assert time.monotonic() - started < 30  # the TERM-ignoring group was KILLed
        assert neighbour.poll() is None, "a process the script did not start was stopped"
    finally:
        neighbour.send_signal(signal.SIGKILL)
        neighbour.wait()


def test_scripts_run_does_not_kill_by_name():
    code = [
        line
        for line in (ROOT / "scripts" / "run").read_text().splitlines()
        if not line.lstrip().startswith("#")
    ]
    assert not any("pkill" in line or "killall" in line for line in code)
    assert any('stop_process_groups "${pids[@]}"' in line for line in code)
