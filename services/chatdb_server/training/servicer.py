"""TrainingService over gRPC: translation between messages and :class:`TrainingService` calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from chatdb.training.v1 import training_service_pb2 as pb
from chatdb.training.v1 import training_service_pb2_grpc
from chatdb_server.rpc import CallInfo, streaming, unary
from chatdb_server.training.convert import example_to_proto, fine_tune_config_to_dict, job_to_proto, job_type_from_proto
from chatdb_server.training.service import TrainingService


class TrainingServicer(training_service_pb2_grpc.TrainingServiceServicer):
    """The eight TrainingService RPCs; the tenant comes from the call's metadata."""

    def __init__(self, service: TrainingService) -> None:
        self._service = service

    @unary
    async def CreateTrainingJob(self, request: pb.CreateTrainingJobRequest, context: Any,
                                call: CallInfo) -> pb.CreateTrainingJobResponse:
        config = fine_tune_config_to_dict(request.fine_tune_config) if request.HasField("fine_tune_config") else {}
        job = await self._service.create_job(call.tenant, request.parent, list(request.tables),
                                             job_type_from_proto(request.type), config)
        return pb.CreateTrainingJobResponse(training_job=job_to_proto(job))

    @unary
    async def GetTrainingJob(self, request: pb.GetTrainingJobRequest, context: Any,
                             call: CallInfo) -> pb.GetTrainingJobResponse:
        job = await self._service.get_job(call.tenant, request.name)
        return pb.GetTrainingJobResponse(training_job=job_to_proto(job))

    @unary
    async def ListTrainingJobs(self, request: pb.ListTrainingJobsRequest, context: Any,
                               call: CallInfo) -> pb.ListTrainingJobsResponse:
        jobs, token = await self._service.list_jobs(call.tenant, request.page_size, request.page_token,
                                                    request.filter)
        return pb.ListTrainingJobsResponse(training_jobs=[job_to_proto(j) for j in jobs], next_page_token=token)

    @unary
    async def CancelTrainingJob(self, request: pb.CancelTrainingJobRequest, context: Any,
                                call: CallInfo) -> pb.CancelTrainingJobResponse:
        job = await self._service.cancel_job(call.tenant, request.name)
        return pb.CancelTrainingJobResponse(training_job=job_to_proto(job))

    @streaming
    async def WatchTrainingJob(self, request: pb.WatchTrainingJobRequest, context: Any,
                               call: CallInfo) -> AsyncIterator[pb.WatchTrainingJobResponse]:
        async for job in self._service.watch(call.tenant, request.name):
            yield pb.WatchTrainingJobResponse(training_job=job_to_proto(job))

    @unary
    async def CreateExample(self, request: pb.CreateExampleRequest, context: Any,
                            call: CallInfo) -> pb.CreateExampleResponse:
        example = await self._service.create_example(call.tenant, request.parent, request.example.question,
                                                     request.example.sql)
        return pb.CreateExampleResponse(example=example_to_proto(example))

    @unary
    async def ListExamples(self, request: pb.ListExamplesRequest, context: Any,
                           call: CallInfo) -> pb.ListExamplesResponse:
        examples, token = await self._service.list_examples(call.tenant, request.parent, request.page_size,
                                                            request.page_token)
        return pb.ListExamplesResponse(examples=[example_to_proto(e) for e in examples], next_page_token=token)

    @unary
    async def DeleteExample(self, request: pb.DeleteExampleRequest, context: Any,
                            call: CallInfo) -> pb.DeleteExampleResponse:
        await self._service.delete_example(call.tenant, request.name)
        return pb.DeleteExampleResponse()
