"""The guard's verdict under a caller's column and row policies, as one pure function.

Pure (plain values in, plain values out, nothing raised) so that a guard worker process can run it
for large SQL (:mod:`chatdb_server.sql.guard_pool`): the guard's parse and checks and the policies'
rewrite, which parses the SQL again, both stay off the server's event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from chatdb_server.access.enforce import enforce
from chatdb_server.access.policies import EffectivePolicies
from chatdb_server.errors import PermissionDenied
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.guard import GuardVerdict, SqlGuard, Violation, with_row_count
from chatdb_server.sql.guard_limits import SQL_TOO_COMPLEX, too_deep_message


@dataclass
class PolicedVerdict(GuardVerdict):
    """The guard's verdict with the caller's policies applied: ``sql`` and ``executable_sql`` rewritten,
    the result positions to mask, and the policy scope results are cached under."""

    checked_sql: str = ""
    """The guard's ``sql``, before policies: what the history records and generators are shown again."""
    masked: tuple[int, ...] = ()
    policy_key: str = ""
    policed: bool = False
    """Whether the query reads a table the caller's policies act on: the database's messages about it are
    withheld (they may quote a filtered row's or a masked column's value)."""


@dataclass(frozen=True)
class Denied:
    """A refusal that is the caller's, not the SQL's (a row policy needs an attribute the caller lacks)."""

    message: str
    reason: str
    metadata: dict[str, str]

    def error(self) -> PermissionDenied:
        """The PermissionDenied to raise."""
        return PermissionDenied(self.message, self.reason, dict(self.metadata))


@dataclass(frozen=True)
class CheckRequest:
    """Everything one check needs, as plain values."""

    sql: str
    dialect: Dialect
    known_columns: dict[str, set[str]]
    stored_columns: dict[str, tuple[str, ...]]
    policies: EffectivePolicies
    max_rows: int


def policed_check(guard: SqlGuard, request: CheckRequest) -> PolicedVerdict | Denied:
    """The guard's verdict on the request's SQL, rewritten under its policies.

    A query the policies refuse is an invalid verdict (EXCLUDED_COLUMN, POLICY_UNENFORCEABLE); Denied
    (POLICY_ATTRIBUTE_MISSING) when a row policy needs an attribute the caller lacks."""
    try:
        return _policed(guard, request)
    except PermissionDenied as denied:
        return Denied(denied.message, denied.reason, dict(denied.metadata))
    except RecursionError:
        return PolicedVerdict(valid=False, sql="", violations=[Violation(SQL_TOO_COMPLEX,
                                                                         too_deep_message(guard.limits))])


def _policed(guard: SqlGuard, request: CheckRequest) -> PolicedVerdict:
    dialect, max_rows = request.dialect, request.max_rows
    verdict = guard.check(request.sql, dialect, request.known_columns, max_rows)
    policed = PolicedVerdict(**{f.name: getattr(verdict, f.name) for f in fields(GuardVerdict)},
                             checked_sql=verdict.sql)
    policies = request.policies
    if not verdict.valid or policies.empty:
        return policed
    # One rewrite serves both forms: the guard's shown and executable SQL differ only in the count of the
    # outermost LIMIT, which the rewrite leaves where it is.
    enforced = enforce(verdict.executable_sql, dialect, request.stored_columns, policies)
    if enforced.refused:
        return PolicedVerdict(valid=False, sql="", violations=list(enforced.violations), tables=verdict.tables)
    shown = enforced.sql
    if verdict.executable_sql != verdict.sql:
        shown = verdict.sql if enforced.tree is None else with_row_count(enforced.tree, dialect, max_rows)
    policed.sql, policed.executable_sql = shown, enforced.sql
    policed.masked, policed.policy_key, policed.policed = enforced.masked, policies.cache_key(), enforced.applied
    return policed
