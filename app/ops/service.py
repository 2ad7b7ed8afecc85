"""The per-user service that starts `booking serve` at login and again after a crash.

One template per system (package data in service_templates/), filled in here:

- Linux: a systemd user unit, ~/.config/systemd/user/booking.service (Restart=on-failure;
  WantedBy=default.target starts it when the user's session starts);
- macOS: a launchd agent, ~/Library/LaunchAgents/<LABEL>.plist (RunAtLoad; KeepAlive restarts it
  unless it exited cleanly);
- Windows: a Task Scheduler task started at logon and again every five minutes, with
  IgnoreNew for a run while one is running: Task Scheduler's RestartOnFailure restarts a task
  that failed to start, not always one whose program died later, and the repetition starts a
  crashed server again within five minutes.

The files name the Python that runs this code (sys.executable: pipx's own environment), so the
service runs the installed version without depending on PATH.
"""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template
from xml.sax.saxutils import escape

LABEL = "org.booking-service.booking"  # launchd
UNIT = "booking.service"  # systemd
TASK_NAME = "Booking service"  # Task Scheduler
SYSTEMS = ("linux", "macos", "windows")


class ServiceError(Exception):
    """The service cannot be registered or queried; the message is fit for a person."""


def this_system() -> str:
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform in ("win32", "cygwin"):
        return "windows"
    raise ServiceError(f"`booking service` knows Linux, macOS and Windows, not {sys.platform}.")


@dataclass(frozen=True)
class ServiceFile:
    system: str
    path: Path  # where install writes it
    text: str


def python_for_service(system: str, python: str = sys.executable) -> str:
    """On Windows pythonw.exe, beside python.exe, runs without a console window."""
    if system == "windows":
        quiet = Path(python).with_name("pythonw.exe")
        if Path(python).name.lower() == "python.exe" and quiet.exists():
            return str(quiet)
    return python


def serve_command(system: str, python: str = sys.executable) -> list[str]:
    return [python_for_service(system, python), "-m", "app", "serve", "--service"]


def _template(name: str) -> Template:
    return Template(files("app.ops").joinpath("service_templates", name).read_text("utf-8"))


def systemd_quote(argument: str) -> str:
    """One ExecStart word: double-quoted, with systemd's escapes and specifiers (% and $)."""
    text = argument.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("%", "%%").replace("$", "$$") + '"'


def render(system: str, *, home: Path, log_dir: Path, python: str = sys.executable) -> ServiceFile:
    """The service file for `system`, for a user whose home folder is `home`."""
    command = serve_command(system, python)
    if system == "linux":
        config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
        text = _template("booking.service").substitute(
            exec_start=" ".join(systemd_quote(word) for word in command),
            working_directory=systemd_quote(str(home)).strip('"'),
        )
        return ServiceFile(system, config / "systemd" / "user" / UNIT, text)
    if system == "macos":
        arguments = "\n".join(f"    <string>{escape(word)}</string>" for word in command)
        text = _template("booking.plist").substitute(
            label=LABEL,
            program_arguments=arguments,
            working_directory=escape(str(home)),
            stdout_path=escape(str(log_dir / "service-output.log")),
            stderr_path=escape(str(log_dir / "service-errors.log")),
        )
        return ServiceFile(system, home / "Library" / "LaunchAgents" / f"{LABEL}.plist", text)
    if system == "windows":
        text = _template("booking-task.xml").substitute(
            task_name=escape(TASK_NAME),
            user_id=escape(_windows_user()),
            command=escape(command[0]),
            arguments=escape(subprocess.list2cmdline(command[1:])),
            working_directory=escape(str(home)),
        )
        return ServiceFile(system, log_dir.parent / "booking-task.xml", text)
    raise ServiceError(f"No service template for {system}.")


def _windows_user() -> str:
    domain = os.environ.get("USERDOMAIN")
    user = getpass.getuser()
    return f"{domain}\\{user}" if domain else user


# --- registering with the system --------------------------------------------------------------


def _run(command: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise ServiceError(
            f"`{command[0]}` is not installed here, so the service cannot be registered; "
            "run `booking serve` in a terminal instead."
        ) from None
    except subprocess.TimeoutExpired:
        raise ServiceError(f"`{' '.join(command)}` did not finish within a minute.") from None
    if check and result.returncode != 0:
        said = (result.stderr or result.stdout).strip().splitlines()
        raise ServiceError(
            f"`{' '.join(command)}` failed ({said[0] if said else f'status {result.returncode}'})"
            "; the service is not installed."
        )
    return result


def _uid() -> str:
    return str(os.getuid()) if hasattr(os, "getuid") else ""


def install(service_file: ServiceFile) -> None:
    """Write the file and register it, started now and at every login. On failure nothing
    stays registered and the file is removed."""
    path = service_file.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        service_file.text, encoding="utf-16" if service_file.system == "windows" else "utf-8"
    )
    try:
        for command in _install_commands(service_file):
            _run(command)
    except ServiceError:
        path.unlink(missing_ok=True)
        raise


def _install_commands(service_file: ServiceFile) -> list[list[str]]:
    if service_file.system == "linux":
        return [
            ["systemctl", "--user", "daemon-reload"],
            ["systemctl", "--user", "enable", "--now", UNIT],
        ]
    if service_file.system == "macos":
        return [["launchctl", "bootstrap", f"gui/{_uid()}", str(service_file.path)]]
    return [
        ["schtasks", "/Create", "/TN", TASK_NAME, "/XML", str(service_file.path), "/F"],
        ["schtasks", "/Run", "/TN", TASK_NAME],
    ]


def uninstall(service_file: ServiceFile) -> None:
    """Stop the service and remove it (a service that was never installed is no error)."""
    system = service_file.system
    if system == "linux":
        _run(["systemctl", "--user", "disable", "--now", UNIT], check=False)
        service_file.path.unlink(missing_ok=True)
        _run(["systemctl", "--user", "daemon-reload"])
    elif system == "macos":
        _run(["launchctl", "bootout", f"gui/{_uid()}/{LABEL}"], check=False)
        service_file.path.unlink(missing_ok=True)
    else:
        _run(["schtasks", "/End", "/TN", TASK_NAME], check=False)
        _run(["schtasks", "/Delete", "/TN", TASK_NAME, "/F"], check=False)
        service_file.path.unlink(missing_ok=True)


def status(service_file: ServiceFile) -> tuple[bool, str]:
    """(running, what the system says), for `booking service status`."""
    system = service_file.system
    if system == "linux":
        result = _run(["systemctl", "--user", "is-active", UNIT], check=False)
        state = result.stdout.strip() or result.stderr.strip()
        return result.returncode == 0, f"systemd says the service is {state}"
    if system == "macos":
        result = _run(["launchctl", "print", f"gui/{_uid()}/{LABEL}"], check=False)
        running = result.returncode == 0 and "state = running" in result.stdout
        return running, "launchd runs it" if running else "launchd does not run it"
    result = _run(["schtasks", "/Query", "/TN", TASK_NAME, "/FO", "LIST"], check=False)
    running = result.returncode == 0 and "Running" in result.stdout
    return running, "Task Scheduler runs it" if running else "Task Scheduler does not run it"


def stop(service_file: ServiceFile) -> None:
    system = service_file.system
    if system == "linux":
        _run(["systemctl", "--user", "stop", UNIT])
    elif system == "macos":
        _run(["launchctl", "kill", "SIGTERM", f"gui/{_uid()}/{LABEL}"])
    else:
        _run(["schtasks", "/End", "/TN", TASK_NAME])
