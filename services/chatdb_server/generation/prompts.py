"""The text-to-SQL prompt shared by every model backend, and SQL extraction from model output.

The fine-tune runner trains on exactly these messages, so a fine-tuned adapter sees
at serving time the prompt shape it learned on.
"""

from __future__ import annotations

import re

from chatdb_server.generation.interface import GenerationRequest
from chatdb_server.retrieval.context import SchemaContext, TableInfo
from chatdb_server.sql.dsn import Dialect

DIALECT_NAMES = {Dialect.POSTGRESQL: "PostgreSQL", Dialect.MYSQL: "MySQL", Dialect.SQLITE: "SQLite"}
MAX_SAMPLE_VALUES = 3
MAX_EXAMPLES = 5

Message = dict[str, str]


def system_message(dialect: Dialect) -> str:
    """The instruction every prompt starts with."""
    return (f"You translate questions into one {DIALECT_NAMES[dialect]} SELECT statement over the "
            "tables below. Use only the tables and columns shown. Answer with the SQL only.")


def render_table(table: TableInfo) -> str:
    """A table as CREATE TABLE-like text: types, keys, comments and a few sample values."""
    lines = []
    for column in table.columns:
        parts = [f"  {column.name}"]
        if column.data_type:
            parts.append(column.data_type)
        if column.primary_key:
            parts.append("PRIMARY KEY")
        notes = []
        if column.comment:
            notes.append(column.comment)
        if column.sample_values:
            notes.append("e.g. " + ", ".join(repr(v) for v in column.sample_values[:MAX_SAMPLE_VALUES]))
        line = " ".join(parts)
        lines.append(f"{line} -- {'; '.join(notes)}" if notes else line)
    header = f"CREATE TABLE {table.name} ("
    if table.description:
        header = f"-- {table.description}\n{header}"
    return header + "\n" + ",\n".join(lines) + "\n);"


def render_schema(schema: SchemaContext) -> str:
    """All tables, then the joins between them as foreign-key lines."""
    parts = [render_table(table) for table in schema.tables]
    for join in schema.joins:
        kind = "inferred join" if join.inferred else "foreign key"
        left = ", ".join(f"{join.from_table}.{c}" for c in join.from_columns)
        right = ", ".join(f"{join.to_table}.{c}" for c in join.to_columns)
        parts.append(f"-- {kind}: {left} = {right}")
    return "\n".join(parts)


MAX_REPAIR_CHARS = 2000
"""Longest failed SQL or database error shown back to the model in a repair round."""


def user_message(question: str, schema: SchemaContext, dialect: Dialect) -> str:
    """The question with its schema, as one user turn."""
    return f"Database schema:\n{render_schema(schema)}\n\nDialect: {DIALECT_NAMES[dialect]}\nQuestion: {question}"


def build_messages(request: GenerationRequest) -> list[Message]:
    """Chat messages: instruction, golden examples as earlier turns (few-shot), the conversation the question
    follows up (its questions and SQL as earlier turns), the question."""
    messages: list[Message] = [{"role": "system", "content": system_message(request.dialect)}]
    for example in request.examples[:MAX_EXAMPLES]:
        messages.append({"role": "user", "content": f"Question: {example.question}"})
        messages.append({"role": "assistant", "content": example.sql.strip()})
    for turn in request.previous_turns:
        messages.append({"role": "user", "content": f"Question: {turn.question}"})
        messages.append({"role": "assistant", "content": turn.sql.strip()[:MAX_REPAIR_CHARS]})
    question = request.question
    if request.previous_turns:
        question = (f"{question}\n(This may follow up the previous question: if it builds on it, refine the "
                    "previous SQL; otherwise answer it on its own.)")
    messages.append({"role": "user", "content": user_message(question, request.schema, request.dialect)})
    if request.repair is not None:
        messages.append({"role": "assistant", "content": request.repair.failed_sql[:MAX_REPAIR_CHARS]})
        messages.append({"role": "user", "content": "The database rejected that query: "
                         f"{request.repair.error[:MAX_REPAIR_CHARS]}\nWrite a corrected query."})
    return messages


def training_messages(question: str, sql: str, schema: SchemaContext, dialect: Dialect) -> list[Message]:
    """The messages of one fine-tune pair: the serving prompt (no examples) and the answer."""
    request = GenerationRequest(question=question, dialect=dialect, schema=schema)
    return [*build_messages(request), {"role": "assistant", "content": sql.strip()}]


def plain_prompt(messages: list[Message]) -> str:
    """A prompt for models without a chat template."""
    lines = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
    return "\n\n".join(lines) + "\n\nAssistant:"


_FENCE = re.compile(r"```(?:sql)?\s*(.*?)```", re.IGNORECASE | re.DOTALL)
_LEAD = re.compile(r"^\s*(?:sql|answer|assistant)\s*:\s*", re.IGNORECASE)
_START = re.compile(r"\b(SELECT|WITH)\b", re.IGNORECASE)


def extract_sql(text: str) -> str:
    """The first SQL statement in model output: code fences, labels and trailing prose removed."""
    fenced = _FENCE.search(text)
    body = fenced.group(1) if fenced else text
    body = _LEAD.sub("", body.strip())
    start = _START.search(body)
    if start:
        body = body[start.start():]
    return _first_statement(body).strip()


def _first_statement(sql: str) -> str:
    """Text up to the first semicolon that is not inside a quoted string or identifier."""
    quote = ""
    for index, char in enumerate(sql):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char == ";":
            return sql[:index]
    return sql
