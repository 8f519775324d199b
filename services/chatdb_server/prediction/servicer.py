"""PredictionService over gRPC: request fields in, PredictionEngine calls, messages out."""

from __future__ import annotations

from typing import Any

from chatdb.prediction.v1 import prediction_service_pb2 as pb
from chatdb.prediction.v1 import prediction_service_pb2_grpc
from chatdb_server.errors import InvalidArgument
from chatdb_server.prediction import convert
from chatdb_server.prediction.engine import PredictionEngine
from chatdb_server.rpc import CallInfo, unary


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    """Translates PredictionService requests for the engine, per caller tenant."""

    def __init__(self, engine: PredictionEngine) -> None:
        self._engine = engine

    @unary
    async def GenerateSql(self, request: pb.GenerateSqlRequest, context: Any, call: CallInfo) -> pb.GenerateSqlResponse:
        result = await self._engine.generate(convert.request_from_proto(request), call.tenant)
        return convert.response_to_proto(result)

    @unary
    async def ListModels(self, request: pb.ListModelsRequest, context: Any, call: CallInfo) -> pb.ListModelsResponse:
        entries = await self._engine.list_models(call.tenant)
        return pb.ListModelsResponse(models=[convert.model_to_proto(e) for e in entries])

    @unary
    async def LoadAdapter(self, request: pb.LoadAdapterRequest, context: Any, call: CallInfo) -> pb.LoadAdapterResponse:
        entry = await self._engine.load_adapter(call.tenant, _required_name(request.name), request.require_better)
        return pb.LoadAdapterResponse(model=convert.model_to_proto(entry))

    @unary
    async def UnloadAdapter(self, request: pb.UnloadAdapterRequest, context: Any,
                            call: CallInfo) -> pb.UnloadAdapterResponse:
        entry = await self._engine.unload_adapter(call.tenant, _required_name(request.name))
        return pb.UnloadAdapterResponse(model=convert.model_to_proto(entry))


def _required_name(name: str) -> str:
    if not name:
        raise InvalidArgument("name", "the adapter name is required ('adapters/{adapter}[/versions/{version}]')")
    return name
