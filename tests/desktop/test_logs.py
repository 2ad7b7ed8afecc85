"""The log file: lines gathered off the request path, and nothing dropped at a normal stop."""

from __future__ import annotations

import logging
import time

import pytest

from app.ops import logs


@pytest.fixture
def log_folder(tmp_path):
    yield tmp_path / "logs"
    logs.stop()


def test_a_line_reaches_the_file_within_a_moment(log_folder):
    path = logs.configure(log_folder)
    logging.getLogger("booking.requests").info("GET %s %d", "/healthz", 200)
    deadline = time.monotonic() + 5
    while "GET /healthz 200" not in path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "INFO booking.requests: GET /healthz 200" in path.read_text()


def test_a_normal_stop_writes_out_every_gathered_line(log_folder):
    path = logs.configure(log_folder)
    for number in range(500):
        logging.getLogger("booking.requests").info("line %d", number)
    logs.stop()  # at once: no line has had its fraction of a second yet
    lines = path.read_text().splitlines()
    assert len(lines) == 500
    assert lines[-1].endswith("line 499")


def test_the_message_is_taken_when_logged_not_when_written(log_folder):
    path = logs.configure(log_folder)
    changing = ["before"]
    logging.getLogger("booking").info("state %s", changing)
    changing[0] = "after"
    logs.stop()
    assert "state ['before']" in path.read_text()


def test_warnings_reach_the_terminal_too(log_folder, capsys):
    logs.configure(log_folder)
    logging.getLogger("booking").warning("the disk is nearly full")
    logging.getLogger("booking").info("a quiet line")
    logs.stop()
    assert capsys.readouterr().err == "the disk is nearly full\n"
