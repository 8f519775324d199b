"""Measuring a new adapter before anyone trusts it: some golden examples are held out of its training,
and the adapter, loaded on its base model, writes SQL for their questions (greedy, the serving prompt
over the source's schema). Its accuracy is the share it writes as the example does, compared as
normalised SQL (sqlglot's canonical form: case, spacing, quoting and aliases' spelling do not count).

Runs with the training extras (torch, transformers, peft) in a worker thread, like training itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot

from chatdb_server.generation.prompts import extract_sql, training_messages
from chatdb_server.retrieval.context import SchemaContext
from chatdb_server.sql.dsn import Dialect
from chatdb_server.training.finetune.dataset import TrainingPair
from chatdb_server.training.finetune.lora import prompt_ids

HELD_OUT_EVERY = 5
"""One golden example in this many is held out of training..."""
MIN_GOLDEN_TO_HOLD_OUT = 5
"""...when the source has at least this many; fewer are all needed for training."""
MAX_SQL_TOKENS = 160


@dataclass(frozen=True)
class HeldOutScore:
    """How a new adapter did on the held-out examples."""

    correct: int
    total: int

    @property
    def accuracy(self) -> float | None:
        """The share answered right; None when nothing was held out."""
        return self.correct / self.total if self.total else None


def split_golden(golden: Sequence[TrainingPair]) -> tuple[list[TrainingPair], list[TrainingPair]]:
    """(to train on, to hold out): every :data:`HELD_OUT_EVERY`-th example held out, the same ones on
    every run of the same examples, so versions are measured alike."""
    if len(golden) < MIN_GOLDEN_TO_HOLD_OUT:
        return list(golden), []
    held = [pair for index, pair in enumerate(golden) if index % HELD_OUT_EVERY == HELD_OUT_EVERY - 1]
    return [pair for index, pair in enumerate(golden) if index % HELD_OUT_EVERY != HELD_OUT_EVERY - 1], held


def same_sql(predicted: str, gold: str, dialect: Dialect) -> bool:
    """Whether two statements are the same query once normalised; unparsable SQL matches nothing."""
    try:
        first, second = (sqlglot.parse_one(sql, read=dialect.value) for sql in (predicted, gold))
    except sqlglot.errors.ParseError:
        return False
    if first is None or second is None:
        return False
    return _canonical(first, dialect) == _canonical(second, dialect)


def _canonical(tree: Any, dialect: Dialect) -> str:
    return tree.sql(dialect=dialect.value, normalize=True, normalize_functions="upper", comments=False)


def score_adapter(base_model: str, adapter_dir: Path, held_out: Sequence[TrainingPair], schema: SchemaContext,
                  dialect: Dialect, device: str | None = None) -> HeldOutScore:
    """The adapter's score on ``held_out``: its greedy SQL for each question against the example's."""
    if not held_out:
        return HeldOutScore(0, 0)
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    tokenizer = AutoTokenizer.from_pretrained(base_model)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    base: Any = AutoModelForCausalLM.from_pretrained(base_model, dtype=dtype)
    model: Any = PeftModel.from_pretrained(base, str(adapter_dir)).to(device)
    model.eval()
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    correct = 0
    with torch.no_grad():
        for pair in held_out:
            ids = prompt_ids(tokenizer, training_messages(pair.question, "", schema, dialect)[:-1])
            inputs = torch.tensor([ids], device=device)
            output = model.generate(input_ids=inputs, attention_mask=torch.ones_like(inputs), do_sample=False,
                                    max_new_tokens=MAX_SQL_TOKENS, pad_token_id=pad_id)
            text = str(tokenizer.decode(output[0][len(ids):], skip_special_tokens=True))
            correct += same_sql(extract_sql(text), pair.sql, dialect)
    return HeldOutScore(correct, len(held_out))
