"""Every log line says where it comes from: the request id, or the job and its task id."""

import json
import logging

import pytest

from marketplace import jobs, logs


@pytest.fixture
def json_logs(app):
    logs.configure(json_lines=True)
    yield
    logs.configure(json_lines=app.config["LOG_FORMAT"] == "json")


def _lines(capsys):
    return [json.loads(line) for line in capsys.readouterr().err.splitlines()
            if line.startswith("{")]


def test_a_request_gets_an_id_on_its_log_lines_and_in_its_header(app, client, json_logs,
                                                                capsys):
    from flask import g

    with app.test_request_context("/"):
        app.preprocess_request()  # what happens before every view
        logging.getLogger("marketplace.test").warning("inside the request")
        request_id = g.request_id
    logging.getLogger("marketplace.test").warning("after the request")

    lines = {entry["event"]: entry for entry in _lines(capsys)}
    inside = lines["inside the request"]
    assert inside["request_id"] == request_id and len(request_id) == 32
    assert inside["level"] == "warning" and inside["logger"] == "marketplace.test"
    assert "timestamp" in inside
    assert "request_id" not in lines["after the request"]
    assert len(client.get("/").headers["X-Request-ID"]) == 32


def test_a_request_id_from_the_proxy_is_kept_and_a_bad_one_replaced(client):
    assert client.get("/", headers={"X-Request-ID": "edge-42.a"}).headers[
        "X-Request-ID"] == "edge-42.a"
    replaced = client.get("/", headers={"X-Request-ID": "<script>"}).headers["X-Request-ID"]
    assert replaced != "<script>" and len(replaced) == 32


def test_a_job_logs_its_start_end_duration_and_outcome_with_its_ids(app, json_logs, capsys):
    jobs.run_in_process(jobs.JOBS["outbox.relay"], ())  # a real job, with nothing to relay
    with pytest.raises(KeyError):  # a real job given a kind of listing that does not exist
        jobs.run_in_process(jobs.JOBS["matching.listing"], ("no-such-kind", 1))

    lines = _lines(capsys)
    started, finished = [e for e in lines if e.get("job") == "outbox.relay"]
    assert (started["event"], finished["event"]) == ("job started", "job finished")
    assert started["task_id"] == finished["task_id"] and len(started["task_id"]) == 32
    assert finished["outcome"] == "ok" and finished["duration_ms"] >= 0
    [failed] = [e for e in lines
                if e.get("job") == "matching.listing" and e["event"] == "job finished"]
    assert failed["outcome"] == "KeyError" and failed["task_id"] != started["task_id"]


def test_embedded_logs_are_readable_text(app, capsys):
    logs.configure(json_lines=False)
    logging.getLogger("marketplace.test").warning("plain words", extra={})
    err = capsys.readouterr().err
    assert "plain words" in err and not err.lstrip().startswith("{")
