"""The spans of one training job's run: the job's own, and one per stage it enters.

The job span is the current span while the worker runs the job, so its log lines carry the job's
trace id; each stage span (``training.fetch``, ``training.analyze``, ``training.vectorize``,
``training.train``, …) is its child and ends when the next stage starts or the job finishes.
"""

from __future__ import annotations

from contextlib import ExitStack

from chatdb_server import tracing
from chatdb_server.training.job_model import JobState, Stage, TrainingJob


class JobSpans:
    """Opens and ends the spans of one job run (not thread-safe: call from the worker's loop)."""

    def __init__(self, job: TrainingJob) -> None:
        self._job = tracing.start_span("training.job", attributes={
            "chatdb.job": job.name, "chatdb.job.type": job.job_type.value, "chatdb.tenant": job.tenant})
        self._stage: tracing.Span | None = None
        self._stage_name: Stage | None = None
        self._scope = ExitStack()

    def __enter__(self) -> JobSpans:
        self._scope.enter_context(tracing.current(self._job))
        return self

    def __exit__(self, *_: object) -> None:
        self._scope.close()
        self.finish(None)

    def enter(self, stage: Stage) -> None:
        """The job entered ``stage``: end the previous stage's span, start this one's."""
        if stage == self._stage_name or stage in (Stage.UNSPECIFIED, Stage.DONE):
            return
        self._end_stage()
        self._stage = tracing.start_span(f"training.{stage.value.lower()}", parent=self._job)
        self._stage_name = stage

    def finish(self, state: JobState | None, reason: str = "") -> None:
        """End the stage's and the job's spans (once), recording how the job ended."""
        self._end_stage()
        if not self._job.is_recording():
            return
        if state is not None:
            self._job.set_attribute("chatdb.job.state", state.value)
            if state is JobState.FAILED:
                tracing.mark_failed(self._job, reason or "failed")
        self._job.end()

    def _end_stage(self) -> None:
        if self._stage is not None:
            self._stage.end()
            self._stage, self._stage_name = None, None
