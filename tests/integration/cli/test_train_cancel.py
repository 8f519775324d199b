"""Ctrl-C while ``chatdb train`` follows a job: it asks whether to cancel the job, goes on watching
on no, and cancels it on yes. The server here runs no training worker, so the job stays queued for as
long as the test needs it."""

from __future__ import annotations

from collections.abc import Iterator

import pexpect
import pytest

from chatdb.training.v1 import training_pb2
from tests.integration.cli.conftest import SHOP, Chatdb, start_chatdb


@pytest.fixture(scope="module")
def idle_chatdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chatdb]:
    """The command against a server whose jobs are never claimed."""
    with start_chatdb(tmp_path_factory.mktemp("cli-idle"), CHATDB_TRAINING_WORKERS="0") as started:
        yield started


@pytest.mark.slow
def test_ctrl_c_asks_whether_to_cancel_and_yes_cancels_the_job(idle_chatdb: Chatdb) -> None:
    child = idle_chatdb.spawn("train", SHOP)
    child.expect_exact("queued")
    child.sendintr()
    child.expect(r"Cancel training job (trainingJobs/\S+)\?")
    job = child.match.group(1)
    child.sendline("n")
    child.expect_exact("still training")
    child.sendintr()
    child.expect_exact(f"Cancel training job {job}?")
    child.sendline("y")
    child.expect_exact(f"{job} cancelled")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    with idle_chatdb.client() as client:
        assert client.get_training_job(job).state == training_pb2.TRAINING_JOB_STATE_CANCELLED


@pytest.mark.slow
def test_no_wait_returns_the_job_at_once(idle_chatdb: Chatdb) -> None:
    done = idle_chatdb.run("train", SHOP, "--table", "customers", "--no-wait")
    assert done.returncode == 0, done.stderr
    job = done.stdout.strip()
    assert job.startswith("trainingJobs/")
    with idle_chatdb.client() as client:
        queued = client.get_training_job(job)
        assert queued.state == training_pb2.TRAINING_JOB_STATE_QUEUED
        assert list(queued.tables) == ["customers"]
        client.cancel_training_job(job)
