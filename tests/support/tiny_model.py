"""A tiny causal language model built locally in seconds, for tests and benchmarks.

No model hub is reachable, so the text-to-SQL model the vLLM backend and the
fine-tune runner load in tests is made here: a byte-level BPE tokenizer trained on
a few hundred SQL-ish lines (with a chat template), and a randomly initialised
``LlamaForCausalLM`` small enough to train on a CPU. Its output is noise, which is
exactly what the tests need to check: plumbing, constrained decoding, adapters.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|{{ message['role'] }}|>\n{{ message['content'] }}</s>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<pad>", "<|system|>", "<|user|>", "<|assistant|>"]

_TABLES = ("singer", "concert", "stadium", "orders", "customers", "products", "employees", "dept")
_COLUMNS = ("id", "name", "age", "country", "capacity", "price", "city", "year", "salary", "total")
_QUESTIONS = ("how many", "list the", "what is the average", "show all", "which", "count the", "find")


def corpus() -> list[str]:
    """Several hundred SQL-ish and question-ish lines to train the tokenizer on."""
    lines = []
    for table, column in itertools.product(_TABLES, _COLUMNS):
        lines.append(f"SELECT {column} FROM {table}")
        lines.append(f"SELECT COUNT(*) FROM {table} WHERE {column} > 10")
        lines.append(f"SELECT {column}, AVG(age) FROM {table} GROUP BY {column} ORDER BY {column} DESC LIMIT 5")
        lines.append(f"CREATE TABLE {table} ({column} INTEGER PRIMARY KEY, name TEXT)")
    for question, table, column in itertools.product(_QUESTIONS, _TABLES, _COLUMNS[:4]):
        lines.append(f"{question} {column} of {table}?")
    lines.append("Question: Dialect: sqlite postgres mysql Tables: Joins: Examples: SQL:")
    return lines


def build_tiny_model(directory: Path, *, vocab_size: int = 512, hidden_size: int = 64, layers: int = 2,
                     seed: int = 0) -> Path:
    """Write a tokenizer and a random Llama model into ``directory``; return it.

    Sizes fit vLLM's CPU kernels (head size 64) and LoRA (rank up to 16)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", bos_token="<s>",
                                   eos_token="</s>", pad_token="<pad>")
    fast.chat_template = CHAT_TEMPLATE
    fast.model_max_length = 2048
    fast.save_pretrained(directory)

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(fast), hidden_size=hidden_size, intermediate_size=hidden_size * 2,
        num_hidden_layers=layers, num_attention_heads=1, num_key_value_heads=1, head_dim=hidden_size,
        max_position_embeddings=2048, bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id, tie_word_embeddings=False, dtype="float32",
    )
    model = LlamaForCausalLM(config)
    model.save_pretrained(directory, safe_serialization=True)
    # Generation defaults that vLLM reads; keep them neutral so requests decide.
    (directory / "generation_config.json").write_text(json.dumps(
        {"bos_token_id": fast.bos_token_id, "eos_token_id": fast.eos_token_id, "pad_token_id": fast.pad_token_id}))
    return directory


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny model per test session (import this fixture into a conftest or test module)."""
    pytest.importorskip("transformers")
    pytest.importorskip("tokenizers")
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "model")
