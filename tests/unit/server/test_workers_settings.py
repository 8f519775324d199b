"""What each worker of ``chatdb serve --workers`` is given: the shared port, the console in the first worker
only, a metrics port of its own; and the refusal of a worker count below one."""

from __future__ import annotations

import socket

import pytest

from chatdb_server.cli import main
from chatdb_server.server.runtime import server_options
from chatdb_server.server.workers import free_port, worker_settings
from chatdb_server.settings import Settings


def test_workers_share_the_port_and_a_single_server_refuses_to() -> None:
    settings = Settings.from_env({})
    assert dict(server_options(settings))["grpc.so_reuseport"] == 0
    assert dict(server_options(settings, share_port=True))["grpc.so_reuseport"] == 1


def test_the_console_runs_in_the_first_worker_and_each_worker_has_its_metrics_port() -> None:
    settings = Settings.from_env({"CHATDB_WORKERS": "3", "CHATDB_METRICS_PORT": "9100", "CHATDB_CONSOLE_PORT": "8080"})
    given = [worker_settings(settings, index) for index in range(3)]
    assert [s.console_port for s in given] == [8080, 0, 0]
    assert [s.metrics_port for s in given] == [9100, 9101, 9102]
    assert {s.workers for s in given} == {1}  # a worker does not start workers of its own


def test_metrics_stay_off_in_every_worker_when_off() -> None:
    settings = Settings.from_env({"CHATDB_WORKERS": "2", "CHATDB_METRICS_PORT": "0"})
    assert [worker_settings(settings, index).metrics_port for index in range(2)] == [0, 0]


def test_a_free_port_is_one_nothing_listens_on() -> None:
    with socket.create_server(("127.0.0.1", free_port("127.0.0.1"))) as server:
        assert server.getsockname()[1] > 0


@pytest.mark.parametrize("workers", ["0", "-2"])
def test_fewer_than_one_worker_is_refused(workers: str, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATDB_LOG_LEVEL", "error")
    assert main(["serve", "--workers", workers, "--data-dir", "unused"]) == 2
    assert f"--workers must be at least 1, not {workers}" in capsys.readouterr().err
