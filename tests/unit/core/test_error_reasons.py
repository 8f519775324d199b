"""Every reason the server puts in an error's ErrorInfo is a value of the contract's ErrorReason enum, so
callers can switch on the enum without meeting a reason it does not name. The reasons are read from the
server's source: literal (or named-constant) ``reason`` arguments of the error constructors, and the
defaults of ``reason`` parameters."""

from __future__ import annotations

import ast
from pathlib import Path

import chatdb_server
from chatdb.common.v1 import errors_pb2

SOURCE = Path(chatdb_server.__file__).parent
ERROR_CLASSES = {"ChatDBError": 1, "FailedPrecondition": 1, "Unavailable": 1, "DeadlineExceeded": 1,
                 "Unauthenticated": 1, "PermissionDenied": 1}
"""Error constructors whose reason may be given by position, and its index."""


def _constants(trees: list[ast.Module]) -> dict[str, str]:
    """Module-level ``NAME = "VALUE"`` string constants of the package."""
    found: dict[str, str] = {}
    for tree in trees:
        for node in tree.body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
                found[node.targets[0].id] = node.value.value
    return found


def _value(node: ast.expr | None, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def _chosen_values(expression: ast.expr) -> list[ast.expr]:
    """What ``reason = …`` may take: the values of a mapping it looks up, the default of ``.get``, or the
    expression itself."""
    chosen: list[ast.expr] = [expression]
    for node in ast.walk(expression):
        if isinstance(node, ast.Dict):
            chosen += node.values
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "get":
            chosen += node.args[1:]
    return chosen


def reasons_raised() -> dict[str, str]:
    """Reason → a file that gives it."""
    files = sorted(SOURCE.rglob("*.py"))
    trees = [ast.parse(path.read_text()) for path in files]
    constants = _constants(trees)
    found: dict[str, str] = {}
    for path, tree in zip(files, trees, strict=True):
        for node in ast.walk(tree):
            candidates: list[ast.expr | None] = []
            if isinstance(node, ast.Call):
                candidates += [kw.value for kw in node.keywords if kw.arg == "reason"]
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                position = ERROR_CLASSES.get(name)
                if position is not None and len(node.args) > position:
                    candidates.append(node.args[position])
            elif (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id == "reason"):
                candidates += _chosen_values(node.value)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                arguments = node.args
                positional = arguments.args[len(arguments.args) - len(arguments.defaults):]
                candidates += [default for arg, default in zip(positional, arguments.defaults, strict=True)
                               if arg.arg == "reason"]
                candidates += [default for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults,
                                                               strict=True) if arg.arg == "reason"]
            for candidate in candidates:
                value = _value(candidate, constants)
                if value:  # "" is "no reason" (a job that ended well)
                    found.setdefault(value, str(path.relative_to(SOURCE)))
    return found


def test_every_reason_the_server_gives_is_in_the_error_reason_enum() -> None:
    named = {name.removeprefix("ERROR_REASON_") for name in errors_pb2.ErrorReason.DESCRIPTOR.values_by_name}
    raised = reasons_raised()
    assert {"UNSAFE_SQL", "NOT_TRAINED", "TENANT_MISMATCH"} <= set(raised)  # the scan finds reasons at all
    assert {reason: where for reason, where in raised.items() if reason not in named} == {}
