"""``chatdb demo`` (what ``make run`` runs): the newcomer's tour on embedded defaults.

Starts every service in this process, registers the sample shop database that
ships with ChatDB, prints what SchemaService discovered (tables, keys, joins), trains
it while following WatchTrainingJob, asks a handful of questions and prints the SQL,
the rows, the degradation level and which backend answered. Everything goes through
the public gRPC API, exactly as a caller would use it.
"""

from __future__ import annotations

import sys
from typing import Any

import grpc

from chatdb.common.v1 import degradation_pb2, value_pb2
from chatdb.prediction.v1 import prediction_service_pb2, prediction_service_pb2_grpc
from chatdb.query.v1 import query_pb2, query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_pb2, training_service_pb2, training_service_pb2_grpc
from chatdb_server import log
from chatdb_server.access.bootstrap import ADMIN_KEY_FILE, read_admin_key
from chatdb_server.samples.shop import build_shop_database
from chatdb_server.server.runtime import start_server
from chatdb_server.server.tls import bearer_interceptors
from chatdb_server.settings import Settings

SAMPLE_SOURCE_ID = "sample-shop"
QUESTIONS = (
    "How many customers are there?",
    "List the names of products in the Books category",
    "What is the average price of products?",
    "Which 3 customers placed the most orders?",
    "How many orders were placed in each city?",
    "Show the total amount of orders per status",
)


def _out(text: str = "") -> None:
    print(text, flush=True)


def _cell(value: value_pb2.Value) -> str:
    kind = value.WhichOneof("kind")
    if kind in (None, "null_value"):
        return "NULL"
    if kind == "date_value":
        d = value.date_value
        return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
    if kind == "timestamp_value":
        return value.timestamp_value.ToDatetime().isoformat(sep=" ")
    if kind == "double_value":
        return f"{value.double_value:.2f}"
    return str(getattr(value, kind))


async def _register(schema: Any, path: str) -> Any:
    name = f"dataSources/{SAMPLE_SOURCE_ID}"
    try:
        await schema.DeleteDataSource(schema_service_pb2.DeleteDataSourceRequest(name=name))
    except grpc.aio.AioRpcError as err:
        if err.code() != grpc.StatusCode.NOT_FOUND:
            raise
    request = schema_service_pb2.CreateDataSourceRequest(
        data_source_id=SAMPLE_SOURCE_ID,
        data_source={"display_name": "Sample shop", "dsn": f"sqlite:///{path}"})
    return (await schema.CreateDataSource(request)).data_source


async def _show_schema(schema: Any, source: Any) -> None:
    _out(f"\n== SchemaService discovered {source.table_count} tables and views in {source.redacted_dsn}")
    tables = await schema.ListTables(schema_service_pb2.ListTablesRequest(parent=source.name))
    for table in tables.tables:
        kind = "view " if table.kind == 2 else "table"
        pk = ", ".join(table.primary_key) or "none"
        rows = f"~{table.row_estimate}" if table.row_estimate >= 0 else "?"
        _out(f"  {kind} {table.table:<14} {len(table.columns):>2} columns  {rows:>5} rows  "
             f"primary key: {pk}")
    graph = await schema.GetSchemaGraph(schema_service_pb2.GetSchemaGraphRequest(parent=source.name))
    _out("\n== Joins (declared foreign keys and inferred joins)")
    for edge in graph.edges:
        how = "declared" if edge.kind == 1 else f"inferred, confidence {edge.confidence:.2f}"
        _out(f"  {edge.from_table}({', '.join(edge.from_columns)}) -> "
             f"{edge.to_table}({', '.join(edge.to_columns)})  [{how}]")


async def _train(training: Any, source: Any) -> None:
    _out("\n== Training (TrainingService, following WatchTrainingJob)")
    job = (await training.CreateTrainingJob(training_service_pb2.CreateTrainingJobRequest(
        parent=source.name))).training_job
    async for update in training.WatchTrainingJob(training_service_pb2.WatchTrainingJobRequest(name=job.name)):
        job = update.training_job
        bar = "#" * (job.progress_percent // 5)
        stage = training_pb2.TrainingStage.Name(job.stage).removeprefix("TRAINING_STAGE_")
        _out(f"  [{bar:<20}] {job.progress_percent:>3}%  {stage:<10} "
             f"{job.trained_table_count}/{job.total_table_count} tables")
    state = training_pb2.TrainingJobState.Name(job.state).removeprefix("TRAINING_JOB_STATE_")
    _out(f"  {job.name}: {state} {job.error_message}")


async def _ask(query: Any, source: Any) -> None:
    for question in QUESTIONS:
        _out(f"\n== Q: {question}")
        try:
            reply = await query.Ask(query_service_pb2.AskRequest(parent=source.name, question=question,
                                                                 options={"max_rows": 5}))
        except grpc.aio.AioRpcError as err:
            _out(f"  refused: {err.code().name}: {err.details()}")
            continue
        level = degradation_pb2.DegradationLevel.Name(reply.degradation_level).removeprefix("DEGRADATION_LEVEL_")
        served = query_pb2.ServedBy.Name(reply.served_by).removeprefix("SERVED_BY_")
        _out(f"  SQL: {reply.sql}")
        _out(f"  served by {served} ({reply.model}), confidence {reply.confidence:.2f}, level {level}, "
             f"{reply.timings.total.ToMilliseconds()} ms")
        _out("  " + " | ".join(c.name for c in reply.columns))
        for row in reply.rows:
            _out("  " + " | ".join(_cell(v) for v in row.values))
        if reply.truncated:
            _out("  ...")


async def run_demo(settings: Settings) -> int:
    """Run the tour; 0 when every step worked."""
    log.configure("warning", settings.log_format)  # the tour's own output is the point; keep logs to problems
    path = build_shop_database(settings.data_dir / "samples" / "shop.db")
    running = await start_server(settings)
    _out(f"ChatDB is serving every service on {settings.host}:{running.port} "
         f"(data in {settings.data_dir}/)")
    key = settings.bootstrap_admin_key or read_admin_key(settings.data_dir)
    if key:
        where = "CHATDB_BOOTSTRAP_ADMIN_KEY" if settings.bootstrap_admin_key else settings.data_dir / ADMIN_KEY_FILE
        _out(f"Calls below send the admin key from {where} (authorization: Bearer ...)")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}",
                                        interceptors=bearer_interceptors(key) or None)
    try:
        schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
        source = await _register(schema, str(path.resolve()))
        await _show_schema(schema, source)
        await _train(training_service_pb2_grpc.TrainingServiceStub(channel), source)
        await _ask(query_service_pb2_grpc.QueryServiceStub(channel), source)
        models = await prediction_service_pb2_grpc.PredictionServiceStub(channel).ListModels(
            prediction_service_pb2.ListModelsRequest())
        loaded = [m.name for m in models.models if m.state == 1]
        _out(f"\n== PredictionService models loaded: {', '.join(loaded) or 'none'}")
        status = await query_service_pb2_grpc.QueryServiceStub(channel).GetSystemStatus(
            query_service_pb2.GetSystemStatusRequest())
        _out("== System status: " + degradation_pb2.DegradationLevel.Name(status.degradation_level)
             + "; " + ", ".join(f"{d.name}={'ok' if d.healthy else 'down'}" for d in status.dependencies))
        _out("\nTry it yourself: `make serve` keeps the suite running on 127.0.0.1:50051; README.md shows how to "
             "point it at your own database.")
        if settings.console_port > 0:
            secret = ("CHATDB_BOOTSTRAP_ADMIN_KEY" if settings.bootstrap_admin_key
                      else f"`cat {settings.data_dir / ADMIN_KEY_FILE}`")
            _out(f"The browser console comes with it: open http://127.0.0.1:{settings.console_port}/ and sign in "
                 f"with the admin key ({secret}).")
        return 0
    except grpc.aio.AioRpcError as err:
        print(f"demo failed: {err.code().name}: {err.details()}", file=sys.stderr)
        return 1
    finally:
        await channel.close()
        await running.stop(grace=1.0)
