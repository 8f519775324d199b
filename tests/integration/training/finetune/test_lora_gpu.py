"""LoRA training on a CUDA GPU with the tiny model (skips without CUDA).

Self-contained (builds its own tiny model, no database) so it runs on GPU machines that
carry only the repository and the training libraries.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chatdb_server.sql.dsn import Dialect
from chatdb_server.training.finetune.lora import train_lora
from tests.integration.training.finetune.finetune_fixtures import GOLDEN, QUICK, SCHEMA
from tests.support.tiny_model import build_tiny_model

torch = pytest.importorskip("torch")
pytest.importorskip("peft")
pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def test_lora_trains_on_cuda_and_the_adapter_loads(tmp_path: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model_dir = build_tiny_model(tmp_path / "model")
    out = tmp_path / "adapter"
    outcome = train_lora(str(model_dir), GOLDEN * 8, SCHEMA, Dialect.SQLITE, QUICK, out)
    assert outcome.device == "cuda"
    assert len(outcome.loss_curve) == QUICK.epochs and outcome.loss_curve[-1] < outcome.loss_curve[0]
    assert (out / "adapter_model.safetensors").is_file()
    base = AutoModelForCausalLM.from_pretrained(model_dir).to("cuda")
    tuned = PeftModel.from_pretrained(base, str(out)).to("cuda")
    ids = torch.tensor([[5, 6, 7, 8]], device="cuda")
    assert torch.isfinite(tuned(ids).logits).all()
