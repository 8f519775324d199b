"""Roles, the permissions they grant, and the permission every RPC needs.

Every RPC names one permission; a caller's roles must grant it. Four roles, each a superset of
the one below it in what it may read: ``viewer`` sees status and schemas; ``asker`` also asks,
executes SQL and reads its history; ``editor`` also manages data sources, training and
examples, and the tenant's webhooks (whose events are about those); ``admin`` also manages keys and
policies. ``operator`` is separate: it may act for several tenants (the only role whose tenant header
is honoured), with admin's permissions.
"""

from __future__ import annotations

from enum import StrEnum

from chatdb_server.errors import InvalidArgument


class Permission(StrEnum):
    """What an RPC needs."""

    READ_STATUS = "status.read"
    READ_SCHEMA = "schema.read"
    ASK = "query.ask"
    READ_HISTORY = "query.history.read"
    GIVE_FEEDBACK = "query.feedback"
    GENERATE = "prediction.generate"
    READ_MODELS = "prediction.models.read"
    MANAGE_MODELS = "prediction.models.manage"
    MANAGE_SOURCES = "schema.sources.manage"
    READ_TRAINING = "training.read"
    MANAGE_TRAINING = "training.manage"
    MANAGE_ACCESS = "access.manage"
    MANAGE_WEBHOOKS = "webhooks.manage"


class Role(StrEnum):
    """A named bundle of permissions."""

    VIEWER = "viewer"
    ASKER = "asker"
    EDITOR = "editor"
    ADMIN = "admin"
    OPERATOR = "operator"


_VIEWER = frozenset({Permission.READ_STATUS, Permission.READ_SCHEMA, Permission.READ_MODELS})
_ASKER = _VIEWER | {Permission.ASK, Permission.READ_HISTORY, Permission.GIVE_FEEDBACK, Permission.GENERATE}
_EDITOR = _ASKER | {Permission.MANAGE_SOURCES, Permission.READ_TRAINING, Permission.MANAGE_TRAINING,
                    Permission.MANAGE_MODELS, Permission.MANAGE_WEBHOOKS}
_ADMIN = _EDITOR | {Permission.MANAGE_ACCESS}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.ASKER: _ASKER,
    Role.EDITOR: _EDITOR,
    Role.ADMIN: _ADMIN,
    Role.OPERATOR: _ADMIN,
}

RPC_PERMISSIONS: dict[str, Permission] = {
    "/chatdb.schema.v1.SchemaService/CreateDataSource": Permission.MANAGE_SOURCES,
    "/chatdb.schema.v1.SchemaService/GetDataSource": Permission.READ_SCHEMA,
    "/chatdb.schema.v1.SchemaService/ListDataSources": Permission.READ_SCHEMA,
    "/chatdb.schema.v1.SchemaService/UpdateDataSource": Permission.MANAGE_SOURCES,
    "/chatdb.schema.v1.SchemaService/DeleteDataSource": Permission.MANAGE_SOURCES,
    "/chatdb.schema.v1.SchemaService/TestConnection": Permission.MANAGE_SOURCES,
    "/chatdb.schema.v1.SchemaService/ListTables": Permission.READ_SCHEMA,
    "/chatdb.schema.v1.SchemaService/GetTable": Permission.READ_SCHEMA,
    "/chatdb.schema.v1.SchemaService/RefreshSchema": Permission.MANAGE_SOURCES,
    "/chatdb.schema.v1.SchemaService/GetSchemaGraph": Permission.READ_SCHEMA,
    "/chatdb.training.v1.TrainingService/CreateTrainingJob": Permission.MANAGE_TRAINING,
    "/chatdb.training.v1.TrainingService/GetTrainingJob": Permission.READ_TRAINING,
    "/chatdb.training.v1.TrainingService/ListTrainingJobs": Permission.READ_TRAINING,
    "/chatdb.training.v1.TrainingService/CancelTrainingJob": Permission.MANAGE_TRAINING,
    "/chatdb.training.v1.TrainingService/WatchTrainingJob": Permission.READ_TRAINING,
    "/chatdb.training.v1.TrainingService/CreateExample": Permission.MANAGE_TRAINING,
    "/chatdb.training.v1.TrainingService/ListExamples": Permission.READ_TRAINING,
    "/chatdb.training.v1.TrainingService/DeleteExample": Permission.MANAGE_TRAINING,
    "/chatdb.query.v1.QueryService/Ask": Permission.ASK,
    "/chatdb.query.v1.QueryService/StreamAsk": Permission.ASK,
    "/chatdb.query.v1.QueryService/ExecuteSql": Permission.ASK,
    "/chatdb.query.v1.QueryService/BatchAsk": Permission.ASK,
    "/chatdb.query.v1.QueryService/ExportQueryResult": Permission.ASK,
    "/chatdb.query.v1.QueryService/ValidateSql": Permission.ASK,
    "/chatdb.query.v1.QueryService/SearchTables": Permission.READ_SCHEMA,
    "/chatdb.query.v1.QueryService/ListQueries": Permission.READ_HISTORY,
    "/chatdb.query.v1.QueryService/GetQuery": Permission.READ_HISTORY,
    "/chatdb.query.v1.QueryService/SubmitFeedback": Permission.GIVE_FEEDBACK,
    "/chatdb.query.v1.QueryService/GetSystemStatus": Permission.READ_STATUS,
    "/chatdb.prediction.v1.PredictionService/GenerateSql": Permission.GENERATE,
    "/chatdb.prediction.v1.PredictionService/ListModels": Permission.READ_MODELS,
    "/chatdb.prediction.v1.PredictionService/LoadAdapter": Permission.MANAGE_MODELS,
    "/chatdb.prediction.v1.PredictionService/UnloadAdapter": Permission.MANAGE_MODELS,
    "/chatdb.access.v1.AccessService/CreateApiKey": Permission.MANAGE_ACCESS,
    "/chatdb.access.v1.AccessService/ListApiKeys": Permission.MANAGE_ACCESS,
    "/chatdb.access.v1.AccessService/RevokeApiKey": Permission.MANAGE_ACCESS,
    "/chatdb.access.v1.AccessService/CreateColumnPolicy": Permission.MANAGE_ACCESS,
    "/chatdb.access.v1.AccessService/ListColumnPolicies": Permission.MANAGE_ACCESS,
    "/chatdb.access.v1.AccessService/DeleteColumnPolicy": Permission.MANAGE_ACCESS,
    "/chatdb.access.v1.AccessService/CreateRowPolicy": Permission.MANAGE_ACCESS,
    "/chatdb.access.v1.AccessService/ListRowPolicies": Permission.MANAGE_ACCESS,
    "/chatdb.access.v1.AccessService/DeleteRowPolicy": Permission.MANAGE_ACCESS,
    "/chatdb.access.v1.AccessService/ListAuditEvents": Permission.MANAGE_ACCESS,
    "/chatdb.webhook.v1.WebhookService/CreateWebhook": Permission.MANAGE_WEBHOOKS,
    "/chatdb.webhook.v1.WebhookService/ListWebhooks": Permission.MANAGE_WEBHOOKS,
    "/chatdb.webhook.v1.WebhookService/GetWebhook": Permission.MANAGE_WEBHOOKS,
    "/chatdb.webhook.v1.WebhookService/DeleteWebhook": Permission.MANAGE_WEBHOOKS,
    "/chatdb.webhook.v1.WebhookService/ListWebhookDeliveries": Permission.MANAGE_WEBHOOKS,
}
"""The permission each RPC needs, by full method name (``/package.Service/Method``)."""

AUDITED_PERMISSIONS = frozenset({
    Permission.ASK, Permission.READ_HISTORY, Permission.GIVE_FEEDBACK, Permission.GENERATE,
    Permission.MANAGE_SOURCES, Permission.MANAGE_TRAINING, Permission.MANAGE_MODELS, Permission.MANAGE_ACCESS,
    Permission.MANAGE_WEBHOOKS})
"""Calls needing these read data or change configuration: each leaves one audit event."""

AUDITED_METHODS = frozenset({"/chatdb.schema.v1.SchemaService/GetTable", "/chatdb.query.v1.QueryService/SearchTables"})
"""Audited although their permission is not: GetTable returns sample values; SearchTables, like an ask, carries
the caller's own text (recorded as the event's question)."""

METERED_METHODS = frozenset({"/chatdb.query.v1.QueryService/Ask", "/chatdb.query.v1.QueryService/StreamAsk",
                             "/chatdb.query.v1.QueryService/ExecuteSql", "/chatdb.query.v1.QueryService/BatchAsk",
                             "/chatdb.query.v1.QueryService/ExportQueryResult"})
"""The asks that quotas count."""

BATCH_METHODS = frozenset({"/chatdb.query.v1.QueryService/BatchAsk"})
"""Metered methods whose request carries several asks (``questions``): each counts against the quotas."""


def asks_in(method: str, request: object) -> int:
    """How many asks a metered call of ``method`` counts: one per question of a batch (at least one), else one."""
    if method not in BATCH_METHODS:
        return 1
    return max(1, len(getattr(request, "questions", ())))

OPEN_SERVICES = frozenset({"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection",
                           "grpc.reflection.v1.ServerReflection"})
"""Services that answer without a credential: probes and tools need them."""


def parse_roles(names: list[str] | tuple[str, ...], field: str = "roles") -> frozenset[Role]:
    """Roles from their names; ValueError naming the unknown ones."""
    unknown = sorted({n for n in names if n not in Role.__members__.values()})
    if unknown:
        raise ValueError(f"{field}: unknown role(s) {', '.join(unknown)}; choose from {', '.join(Role)}")
    return frozenset(Role(n) for n in names)


def roles_argument(names: list[str] | tuple[str, ...], field: str) -> frozenset[Role]:
    """:func:`parse_roles` for request fields: InvalidArgument naming ``field`` for an unknown role."""
    try:
        return parse_roles(names, field)
    except ValueError as exc:
        raise InvalidArgument(field, str(exc)) from None


def granted(roles: frozenset[Role]) -> frozenset[Permission]:
    """Everything ``roles`` together may do."""
    return frozenset().union(*(ROLE_PERMISSIONS[r] for r in roles))


def is_audited(method: str, permission: Permission) -> bool:
    """Whether a call of ``method`` leaves an audit event."""
    return permission in AUDITED_PERMISSIONS or method in AUDITED_METHODS


def required_permission(method: str) -> Permission | None:
    """The permission ``method`` needs; None for an open service. KeyError for an unknown method."""
    service = method.lstrip("/").split("/", 1)[0]
    if service in OPEN_SERVICES:
        return None
    return RPC_PERMISSIONS[method]
