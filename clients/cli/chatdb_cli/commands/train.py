"""``chatdb train``: start a training job and follow it with a progress bar; Ctrl-C offers to cancel it."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn

from chatdb.training.v1 import training_pb2
from chatdb_cli.errors import ExitCode
from chatdb_cli.invocation import Invocation, current
from chatdb_cli.options import SourceArgument
from chatdb_cli.prompts import confirm
from chatdb_cli.render import job_line, stage_word
from chatdb_client import operations as ops


def train(ctx: typer.Context, name: SourceArgument,
          table: Annotated[list[str] | None, typer.Option("--table", "-t",
                                                          help="Train only this table (repeatable); default all.")]
          = None,
          no_wait: Annotated[bool, typer.Option("--no-wait", help="Print the job's name and return.")] = False,
          ) -> None:
    """Train a source's tables, following the job's progress (Ctrl-C asks whether to cancel it)."""
    run = current(ctx)
    job = run.client.create_training_job(name, table or None)
    if no_wait:
        run.console.print(job.name)
        return
    final = follow(run, job)
    run.console.print(job_line(final))


def follow(run: Invocation, job: training_pb2.TrainingJob) -> training_pb2.TrainingJob:
    """Show the job's progress until it ends; the succeeded job. Ctrl-C pauses the bar and asks whether
    to cancel the job: yes cancels it and waits for it to stop (exit status 130), no goes on watching.
    A job that fails, or is cancelled elsewhere, raises TrainingJobFailed."""
    progress = Progress(TextColumn("[bold]{task.fields[stage]:<10}"), BarColumn(), TaskProgressColumn(),
                        TextColumn("{task.fields[tables]}"), TimeElapsedColumn(), console=run.notes,
                        transient=False)
    task = progress.add_task(job.name, total=100, stage=stage_word(job), tables=_tables(job))
    try:
        while True:
            try:
                progress.start()
                return run.client.wait_for_training_job(job.name, lambda update: _show(progress, task, update))
            except KeyboardInterrupt:
                run.stream_interrupted = True
                progress.stop()
            if _cancel_on_request(run, job):
                # Polled, not watched again: a stream interrupted by Ctrl-C can leave the next one on the
                # same channel waiting (seen now and then on a job cancelled at once).
                final = _until_finished(run, run.client.cancel_training_job(job.name))
                _show(progress, task, final)
                if final.state == training_pb2.TRAINING_JOB_STATE_CANCELLED:
                    run.notes.print(job_line(final))
                    raise typer.Exit(ExitCode.INTERRUPTED)
                return ops.succeeded(final)  # it ended otherwise before the cancel reached it
    finally:
        progress.stop()


def _cancel_on_request(run: Invocation, job: training_pb2.TrainingJob) -> bool:
    """Ask whether to cancel the job; True for yes. A Ctrl-C while asking, or while saying that the job goes
    on, asks again (it would otherwise end the command without an answer)."""
    while True:
        try:
            if confirm(f"Cancel training job {job.name}?"):
                return True
            run.notes.print("still training")
            return False
        except KeyboardInterrupt:
            continue


STOP_POLL_S = 0.5
"""How often a cancelled job is looked at until it has stopped."""


def _until_finished(run: Invocation, job: training_pb2.TrainingJob) -> training_pb2.TrainingJob:
    """The job once it reached a terminal state (a running job stops at its next safe point)."""
    while not ops.is_finished(job):
        time.sleep(STOP_POLL_S)
        job = run.client.get_training_job(job.name)
    return job


def _show(progress: Progress, task: TaskID, job: training_pb2.TrainingJob) -> None:
    progress.update(task, completed=job.progress_percent, stage=stage_word(job), tables=_tables(job))


def _tables(job: training_pb2.TrainingJob) -> str:
    return f"{job.trained_table_count}/{job.total_table_count} tables" if job.total_table_count else ""
