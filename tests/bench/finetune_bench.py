"""LoRA fine-tune throughput on the tiny model: steps/s and final loss, CPU and (when present) CUDA.

    python -m tests.bench.finetune_bench [--pairs 256] [--epochs 3] [--hidden 64] [--layers 2] [--lr 2e-4]

Prints one line per device. Needs torch, transformers, peft; no database, no downloads.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from chatdb_server.sql.dsn import Dialect
from chatdb_server.training.finetune.dataset import synthetic_questions
from chatdb_server.training.finetune.lora import LoraOptions, train_lora
from tests.integration.training.finetune.finetune_fixtures import GOLDEN, SCHEMA
from tests.support.tiny_model import build_tiny_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--devices", default="cpu,cuda")
    parser.add_argument("--lr", type=float, default=2e-4, help="learning rate (2e-4 is the server default)")
    args = parser.parse_args()
    import torch

    from chatdb_server.training.finetune.dataset import TrainingPair

    synthetic = [TrainingPair(q, f"SELECT COUNT(*) FROM {SCHEMA.tables[i % 2].name}")
                 for i, q in enumerate(synthetic_questions(SCHEMA, 1000))]
    pairs = ((GOLDEN + synthetic) * (args.pairs // 2 + 1))[:args.pairs]
    options = LoraOptions(epochs=args.epochs, learning_rate=args.lr, batch_size=args.batch, dropout=0.0)
    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_model(Path(tmp) / "model", hidden_size=args.hidden, layers=args.layers)
        print(f"tiny model hidden={args.hidden} layers={args.layers}; {len(pairs)} pairs x {args.epochs} epochs, "
              f"batch {args.batch}, lr {args.lr:g}; torch {torch.__version__}")
        for device in args.devices.split(","):
            if device == "cuda" and not torch.cuda.is_available():
                print("cuda: not available")
                continue
            name = torch.cuda.get_device_name(0) if device == "cuda" else f"{torch.get_num_threads()} threads"
            outcome = train_lora(str(model), pairs, SCHEMA, Dialect.SQLITE, options, Path(tmp) / f"out-{device}",
                                 device=device)
            print(f"{device} ({name}): {outcome.steps} steps in {outcome.seconds:.2f} s = "
                  f"{outcome.steps_per_second:.2f} steps/s; loss per epoch "
                  f"{', '.join(f'{loss:.3f}' for loss in outcome.loss_curve)}")


if __name__ == "__main__":
    main()
