"""Processing: training jobs, their live progress pushed as server-sent events, cancel, and what to do
after a failure."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from chatdb.training.v1 import training_pb2
from chatdb_client import AsyncChatDBClient, ChatDBError
from chatdb_console.labels import label
from chatdb_console.messages import ADVICE, describe
from chatdb_console.web import action, console_of, page, render, render_part, session_of

RECENT_JOBS = 25
NEXT_STEP = {
    training_pb2.TRAINING_JOB_STATE_SUCCEEDED: "Done: ask the source questions on the Ask screen.",
    training_pb2.TRAINING_JOB_STATE_CANCELLED: "Cancelled: pick the tables again on the Tables screen to restart.",
}
FINISHED = {training_pb2.TRAINING_JOB_STATE_SUCCEEDED, training_pb2.TRAINING_JOB_STATE_FAILED,
            training_pb2.TRAINING_JOB_STATE_CANCELLED}


def advice(job: Any) -> str:
    """What to do next about a job, given how it stands."""
    if job.state == training_pb2.TRAINING_JOB_STATE_FAILED:
        hint = ADVICE.get(job.error_reason, "fix the cause, then start the job again from the Tables screen")
        return f"Failed ({job.error_reason or 'no reason given'}): {job.error_message} — {hint}."
    return NEXT_STEP.get(job.state, "")


def job_view(job: Any) -> dict[str, Any]:
    """The fields the progress panel shows."""
    return {"name": job.name, "progress": job.progress_percent, "stage": label("stage", job.stage) or "waiting",
            "state": label("job_state", job.state), "tables_done": job.trained_table_count,
            "tables_total": job.total_table_count, "advice": advice(job), "finished": job.state in FINISHED}


def job_name(request: Request) -> str:
    """``trainingJobs/{job}`` of the path."""
    return f"trainingJobs/{request.path_params['job']}"


@page
async def jobs(request: Request, client: AsyncChatDBClient) -> Response:
    """The most recent jobs."""
    recent = []
    async for job in client.iter_training_jobs(page_size=RECENT_JOBS):
        recent.append(job_view(job))
        if len(recent) >= RECENT_JOBS:
            break
    return render(request, "processing.html", screen="processing", jobs=recent)


@page
async def job_page(request: Request, client: AsyncChatDBClient) -> Response:
    """One job, its progress panel following the job's events."""
    job = await client.get_training_job(job_name(request))
    return render(request, "job.html", screen="processing", job=job_view(job), job_id=request.path_params["job"],
                  source=job.data_source.removeprefix("dataSources/"), tables=list(job.tables))


async def job_events(request: Request) -> Response:
    """WatchTrainingJob as server-sent events: ``job`` per update, then ``end`` (or ``failure``)."""
    session = session_of(request)
    if session is None or not session.signed_in:
        return Response(status_code=401)
    client = console_of(request).client(session.api_key)
    name = job_name(request)

    async def events() -> AsyncIterator[str]:
        try:
            async for job in client.watch_training_job(name):
                yield f"event: job\ndata: {json.dumps(job_view(job))}\n\n"
                if job.state in FINISHED:
                    break
            yield "event: end\ndata: {}\n\n"
        except ChatDBError as error:
            yield f"event: failure\ndata: {json.dumps({'message': describe(error)})}\n\n"
        finally:
            await client.close()

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@action
async def cancel(request: Request, client: AsyncChatDBClient) -> Response:
    """CancelTrainingJob."""
    job = await client.cancel_training_job(job_name(request))
    return render_part(request, "_message.html", ok=f"Cancel requested: the job is {label('job_state', job.state)}.")
