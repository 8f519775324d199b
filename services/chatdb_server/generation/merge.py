"""Merged weights: an adapter folded into its base model, for engines that cannot load LoRA.

The result is an ordinary model directory (weights, config, tokenizer) that any engine
loads as a base model, e.g. ``CHATDB_MODEL_PATH`` of the vllm backend.
"""

from __future__ import annotations

import shutil
from pathlib import Path

MERGED_WEIGHTS_HINT = (
    "Alternative: merge the adapter into the base weights (chatdb_server.generation.merge.merge_adapter, "
    "peft's merge_and_unload) and serve the merged directory as the base model (CHATDB_MODEL_PATH).")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
                   "chat_template.jinja", "generation_config.json", "vocab.json", "merges.txt")


def merge_adapter(adapter_path: str | Path, base_model_path: str | Path, output_dir: str | Path) -> Path:
    """Write base model + LoRA adapter as one merged model into ``output_dir``; return it."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base_dir, out = Path(base_model_path), Path(output_dir)
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype="auto")
    merged = PeftModel.from_pretrained(base, str(adapter_path)).merge_and_unload()
    merged.save_pretrained(out, safe_serialization=True)
    for name in TOKENIZER_FILES:
        if (base_dir / name).is_file():
            shutil.copy2(base_dir / name, out / name)
    return out
