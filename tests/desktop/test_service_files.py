"""The per-user service's files, one template per system, filled in and checked: the systemd
unit with `systemd-analyze verify` (required on Linux: a missing tool fails the test loudly,
never skips it), the launchd agent with plistlib, the Task Scheduler task with an XML parser;
and `booking service install` failing cleanly where the system's tool is missing."""

from __future__ import annotations

import os
import plistlib
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from app.ops import service, settings_file

# A home folder and an interpreter path with everything the formats must escape.
ODD_HOME = Path("/home/o'brien & co/<shop> 100% $HOME")
ODD_PYTHON = "/opt/my python/100% $x/bin/python3"
TASK = "{http://schemas.microsoft.com/windows/2004/02/mit/task}"


def render(system: str, *, home: Path = ODD_HOME, python: str = ODD_PYTHON) -> service.ServiceFile:
    return service.render(system, home=home, log_dir=home / "logs", python=python)


def unit_lines(text: str) -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    current = ""
    for line in text.splitlines():
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections[current] = {}
        elif line and not line.startswith("#"):
            name, _, value = line.partition("=")
            sections[current][name] = value
    return sections


def systemd_words(exec_start: str) -> list[str]:
    """ExecStart as systemd reads it: shell-like quoting, then %% → % and $$ → $."""
    return [word.replace("%%", "%").replace("$$", "$") for word in shlex.split(exec_start)]


def test_the_systemd_unit_starts_at_login_restarts_after_a_crash_and_runs_serve():
    made = render("linux")
    assert made.path.parts[-3:] == ("systemd", "user", "booking.service")
    unit = unit_lines(made.text)
    assert systemd_words(unit["Service"]["ExecStart"]) == [
        ODD_PYTHON,
        "-m",
        "app",
        "serve",
        "--service",
    ]
    assert unit["Service"]["Restart"] == "on-failure"
    assert int(unit["Service"]["RestartSec"]) > 0
    assert unit["Install"]["WantedBy"] == "default.target"  # the user's session: at login
    assert "Description" in unit["Unit"]


def test_systemd_analyze_verify_accepts_the_unit(tmp_path):
    if shutil.which("systemd-analyze") is None:
        if sys.platform.startswith("linux"):
            pytest.fail(
                "systemd-analyze is missing, so the systemd unit cannot be verified: install "
                "it (apt-get install systemd); .ci/run does."
            )
        return  # not Linux: the content test above is the check there
    python = tmp_path / "bin" / "python3"
    python.parent.mkdir()
    python.symlink_to(sys.executable)  # verify checks that the program exists
    made = render("linux", home=tmp_path, python=str(python))
    unit = tmp_path / "booking.service"
    unit.write_text(made.text)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    result = subprocess.run(
        ["systemd-analyze", "verify", "--user", str(unit)],
        capture_output=True,
        text=True,
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
        timeout=60,
    )
    # verify only warns (status 0) about a bad value, so any output at all is a failure.
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stderr


def test_the_launchd_agent_runs_at_load_and_keeps_a_crashed_server_alive():
    made = render("macos")
    assert made.path == ODD_HOME / "Library" / "LaunchAgents" / f"{service.LABEL}.plist"
    agent = plistlib.loads(made.text.encode())
    assert agent["Label"] == service.LABEL
    assert agent["ProgramArguments"] == [ODD_PYTHON, "-m", "app", "serve", "--service"]
    assert agent["RunAtLoad"] is True
    assert agent["KeepAlive"] == {"SuccessfulExit": False}  # restart unless it stopped cleanly
    assert agent["WorkingDirectory"] == str(ODD_HOME)
    assert Path(agent["StandardErrorPath"]).parent == ODD_HOME / "logs"


def test_the_windows_task_starts_at_logon_repeats_and_restarts_on_failure(monkeypatch):
    monkeypatch.setenv("USERDOMAIN", "SHOP-LAPTOP")
    made = render("windows", python=r"C:\Users\O'Brien & Co\pipx\venvs\booking\Scripts\python.exe")
    root = ET.fromstring(made.text.encode("utf-16"))
    trigger = root.find(f"{TASK}Triggers/{TASK}LogonTrigger")
    assert trigger is not None and trigger.findtext(f"{TASK}Enabled") == "true"
    assert trigger.findtext(f"{TASK}UserId").startswith("SHOP-LAPTOP\\")
    assert trigger.findtext(f"{TASK}Repetition/{TASK}Interval") == "PT5M"
    settings = root.find(f"{TASK}Settings")
    assert settings.findtext(f"{TASK}MultipleInstancesPolicy") == "IgnoreNew"
    assert settings.findtext(f"{TASK}ExecutionTimeLimit") == "PT0S"  # never stopped for time
    assert settings.findtext(f"{TASK}DisallowStartIfOnBatteries") == "false"
    assert settings.findtext(f"{TASK}StopIfGoingOnBatteries") == "false"
    assert settings.findtext(f"{TASK}RestartOnFailure/{TASK}Interval") == "PT1M"
    action = root.find(f"{TASK}Actions/{TASK}Exec")
    assert action.findtext(f"{TASK}Command") == (
        r"C:\Users\O'Brien & Co\pipx\venvs\booking\Scripts\python.exe"
    )
    assert action.findtext(f"{TASK}Arguments") == "-m app serve --service"
    assert root.findtext(f"{TASK}Principals/{TASK}Principal/{TASK}RunLevel") == "LeastPrivilege"


def test_service_show_prints_each_systems_file(booking):
    for system, marker in (
        ("linux", "WantedBy=default.target"),
        ("macos", "<key>RunAtLoad</key>"),
        ("windows", "<LogonTrigger>"),
    ):
        result = booking("service", "show", "--system", system)
        assert marker in result.stdout
        assert result.stdout.startswith("# ")


def test_install_without_the_systems_tool_is_one_sentence_and_leaves_nothing(
    booking, db_path, tmp_path, monkeypatch
):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no systemctl, launchctl, schtasks
    config = tmp_path / "settings.toml"
    result = booking(
        "service", "install", "--port", "8181", ok=False, env={"BOOKING_CONFIG": str(config)}
    )
    assert result.exit_code == 1
    [sentence] = result.stderr.strip().splitlines()
    assert "is not installed here, so the service cannot be registered" in sentence
    assert not config.exists()
    assert not service.render(
        service.this_system(), home=Path.home(), log_dir=tmp_path
    ).path.exists()


def test_a_failed_install_puts_the_earlier_settings_file_back(booking, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    config = tmp_path / "settings.toml"
    settings_file.write({"PORT": 9000}, config)
    before = config.read_text()
    booking("service", "install", "--port", "8181", ok=False, env={"BOOKING_CONFIG": str(config)})
    assert config.read_text() == before


def test_the_settings_file_is_owner_only_and_reads_back(tmp_path):
    path = settings_file.write(
        {"DB": '/data/shop "one".db', "PORT": 8181, "HUB_KEY": "sk_x", "HUB_URL": None},
        tmp_path / "c" / "settings.toml",
    )
    assert path.stat().st_mode & 0o777 == 0o600
    assert settings_file.read(path) == {
        "DB": '/data/shop "one".db',
        "PORT": 8181,
        "HUB_KEY": "sk_x",
    }


def test_the_settings_file_fills_in_what_the_environment_does_not_say(tmp_path, monkeypatch):
    path = settings_file.write({"PORT": 8181, "HOST": "127.0.0.2"}, tmp_path / "settings.toml")
    monkeypatch.setenv("BOOKING_HOST", "127.0.0.3")
    monkeypatch.delenv("BOOKING_PORT", raising=False)
    settings_file.apply_to_environment(path)
    assert os.environ["BOOKING_PORT"] == "8181"
    assert os.environ["BOOKING_HOST"] == "127.0.0.3"  # the environment wins


@pytest.mark.parametrize(
    ("text", "says"),
    [("port = ", "is not valid TOML"), ('colour = "blue"\n', "unknown settings (colour)")],
)
def test_a_broken_settings_file_is_one_sentence(tmp_path, text, says):
    from tests.cli.test_cli import booking as run_booking

    path = tmp_path / "settings.toml"
    path.write_text(text)
    result = run_booking(
        "status", "--db", str(tmp_path / "x.db"), env={"BOOKING_CONFIG": str(path)}
    )
    assert result.returncode == 1
    [sentence] = result.stderr.strip().splitlines()
    assert sentence.startswith(f"Error: The settings file {path}") and says in sentence
    assert not (tmp_path / "x.db").exists()
