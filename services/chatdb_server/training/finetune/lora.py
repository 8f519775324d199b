"""LoRA training with peft: a plain torch loop over chat-formatted question/SQL pairs.

Runs on CUDA when torch sees a GPU, else on the CPU. Only the answer's tokens carry the
loss; the prompt is the exact serving prompt (see :mod:`chatdb_server.generation.prompts`), so
the adapter learns what it will be asked. Synchronous and slow by nature: callers run it
in a worker thread and pass callbacks for progress and cancellation.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatdb_server.generation.prompts import Message, plain_prompt, training_messages
from chatdb_server.retrieval.context import SchemaContext
from chatdb_server.sql.dsn import Dialect
from chatdb_server.training.finetune.dataset import TrainingPair, schema_for_sql

IGNORE_INDEX = -100


class TrainingStopped(Exception):  # named for what happened
    """Raised between steps when the caller asked to stop."""


@dataclass(frozen=True)
class LoraOptions:
    """Hyper-parameters of one LoRA run."""

    epochs: int = 3
    learning_rate: float = 2e-4
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.05
    batch_size: int = 8
    max_length: int = 1024
    seed: int = 0
    target_modules: str | list[str] = "all-linear"


@dataclass
class TrainingOutcome:
    """What a run measured."""

    loss_curve: list[float]
    steps: int
    seconds: float
    device: str
    step_losses: list[float] = field(default_factory=list)

    @property
    def steps_per_second(self) -> float:
        """Optimiser steps per second of training."""
        return self.steps / self.seconds if self.seconds else 0.0


def encode_pair(tokenizer: Any, pair: TrainingPair, schema: SchemaContext, dialect: Dialect,
                max_length: int) -> tuple[list[int], list[int]]:
    """(input ids, labels) of one pair: the serving prompt masked out, then the SQL and end-of-sequence."""
    messages = training_messages(pair.question, pair.sql, schema_for_sql(schema, pair.sql, dialect), dialect)
    prompt, answer = prompt_ids(tokenizer, messages[:-1]), messages[-1]["content"]
    target = [*tokenizer.encode(answer, add_special_tokens=False), tokenizer.eos_token_id]
    prompt = prompt[-max(1, max_length - len(target)):]
    ids = (prompt + target)[:max_length]
    labels = ([IGNORE_INDEX] * len(prompt) + target)[:max_length]
    return ids, labels


def prompt_ids(tokenizer: Any, messages: list[Message]) -> list[int]:
    """The token ids of the serving prompt of ``messages``, ready for the answer to follow."""
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return list(tokenizer.encode(text, add_special_tokens=False))
    return list(tokenizer.encode(plain_prompt(messages)))


def _batches(examples: list[tuple[list[int], list[int]]], size: int, rng: random.Random,
             pad_id: int) -> list[dict[str, Any]]:
    import torch

    order = list(range(len(examples)))
    rng.shuffle(order)
    batches = []
    for start in range(0, len(order), size):
        chunk = [examples[i] for i in order[start:start + size]]
        width = max(len(ids) for ids, _ in chunk)
        batches.append({
            "input_ids": torch.tensor([ids + [pad_id] * (width - len(ids)) for ids, _ in chunk]),
            "attention_mask": torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in chunk]),
            "labels": torch.tensor([labels + [IGNORE_INDEX] * (width - len(labels)) for _, labels in chunk]),
        })
    return batches


def train_lora(base_model: str, pairs: list[TrainingPair], schema: SchemaContext, dialect: Dialect,
               options: LoraOptions, output_dir: Path, *, on_progress: Callable[[float], None] | None = None,
               should_stop: Callable[[], bool] | None = None, device: str | None = None) -> TrainingOutcome:
    """Train a LoRA adapter on ``pairs`` and save it (peft format) into ``output_dir``."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(options.seed)
    tokenizer = AutoTokenizer.from_pretrained(base_model)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    model: Any = AutoModelForCausalLM.from_pretrained(base_model, dtype=dtype)
    model = get_peft_model(model, LoraConfig(r=options.rank, lora_alpha=options.alpha, lora_dropout=options.dropout,
                                             target_modules=options.target_modules, task_type="CAUSAL_LM")).to(device)
    encoded = [encode_pair(tokenizer, p, schema, dialect, options.max_length) for p in pairs]
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=options.learning_rate)
    rng = random.Random(options.seed)
    total = options.epochs * -(-len(encoded) // options.batch_size)
    outcome = TrainingOutcome(loss_curve=[], steps=0, seconds=0.0, device=device)
    started = time.perf_counter()
    model.train()
    for _ in range(options.epochs):
        epoch_loss, epoch_tokens = 0.0, 0
        for batch in _batches(encoded, options.batch_size, rng, pad_id):
            if should_stop is not None and should_stop():
                raise TrainingStopped()
            batch = {k: v.to(device) for k, v in batch.items()}
            loss = model(**batch).loss
            loss.backward()
            optimiser.step()
            optimiser.zero_grad(set_to_none=True)
            tokens = int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())
            epoch_loss += float(loss.detach()) * tokens
            epoch_tokens += tokens
            outcome.steps += 1
            outcome.step_losses.append(float(loss.detach()))
            if on_progress is not None:
                on_progress(outcome.steps / total)
        outcome.loss_curve.append(epoch_loss / max(1, epoch_tokens))
    if device == "cuda":
        torch.cuda.synchronize()
    outcome.seconds = time.perf_counter() - started
    model.save_pretrained(str(output_dir), safe_serialization=True)
    return outcome
