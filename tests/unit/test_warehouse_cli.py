"""`orders-warehouse`'s formatting and `make run`'s PARAM_ overrides, without a stack."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from infra.local.cli import main, parameter_overrides
from infra.ops.warehouse import _problem_text, due_text, duration, queue_table

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "0s"), (59, "59s"), (60, "1m"), (3599, "59m"), (3600, "1h 00m"), (7325, "2h 02m"), (90061, "1d 01h")],
)
def test_durations_read_at_a_glance(seconds, text):
    assert duration(seconds) == text == duration(-seconds)


def test_due_says_in_or_overdue():
    assert due_text("2026-12-01T12:30:00.000000Z", NOW) == "in 30m"
    assert due_text("2026-12-01T11:00:00.000000Z", NOW) == "overdue 1h 00m"
    assert due_text(None, NOW) == "-"


def test_an_empty_queue_says_so():
    assert queue_table([], NOW) == "No pending cancellation requests."


def test_a_problem_reads_as_its_title_and_detail_and_anything_else_as_what_came():
    problem = b'{"title": "Invalid request", "detail": "1 field", "errors": [{"field": "note", "message": "too long"}]}'
    assert _problem_text(400, problem) == "Invalid request (HTTP 400): 1 field\n  note: too long"
    assert (
        _problem_text(403, b'{"message": "Missing Authentication Token"}') == "HTTP 403: Missing Authentication Token"
    )
    assert _problem_text(502, b"<html>bad gateway</html>") == "HTTP 502: <html>bad gateway</html>"


def test_param_variables_override_template_parameters_and_a_wrong_one_is_refused():
    overrides, refused = parameter_overrides(
        {"PARAM_CancellationRequestSlaSeconds": "5", "PARAM_Nope": "1", "PARAM_LogRetentionDays": "3", "PATH": "/bin"}
    )
    assert overrides == {"CancellationRequestSlaSeconds": "5"}
    assert [line.split(":")[0] for line in refused] == ["PARAM_LogRetentionDays", "PARAM_Nope"]


def test_make_run_stops_before_starting_on_a_refused_override(monkeypatch, capsys):
    monkeypatch.setenv("PARAM_CancellationRequestSlaSeconds", "soon")
    assert main() == 2
    assert "PARAM_CancellationRequestSlaSeconds: CancellationRequestSlaSeconds must match" in capsys.readouterr().err
