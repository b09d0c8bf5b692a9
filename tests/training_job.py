"""A tiny LESER training through the method's own entry point (train_leser), run as a subprocess by
tests/test_training_resume.py so that it can be killed with SIGKILL mid-training.

    python tests/training_job.py <cache_root> <tiny_model_dir> <cache_dir> <output_dir>
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from leser_bench.data.world import WorldConfig, generate_world
from leser_bench.methods.leser import train_leser
from leser_bench.llm.config import ModelConfig
from leser_bench.methods import MethodContext
from leser_bench.retrieval import IndexConfig, Retriever, RetrieverConfig, build_index

TRAIN = {"max_steps": 4, "num_generations": 2, "per_device_train_batch_size": 4, "max_completion_length": 8,
         "learning_rate": 5e-3, "beta": 0.05, "save_steps": 1, "save_total_limit": 10, "torch_threads": 1,
         "max_queries": 8, "seed": 5, "lora": {"enabled": True, "r": 4, "alpha": 8}}


def main() -> None:
    cache_root, model_dir, cache_dir, out_dir = (Path(a) for a in sys.argv[1:5])
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(name)s: %(message)s")
    world = generate_world(WorldConfig(seed=3, n_products=500, n_train=12, n_test=4))
    retriever = Retriever(build_index(world.products, IndexConfig(), cache_root), RetrieverConfig())
    model = ModelConfig(name="tiny", path=str(model_dir), gguf_package=None, cache_dir=str(cache_dir),
                        offline=True, num_threads=1)
    context = MethodContext(dataset=world, retriever=retriever, cache_dir=cache_dir, seed=3,
                            config={"model": model.__dict__, "rules": {}, "evaluation": {"split": "test"}})
    method = {"name": "leser", "kind": "leser", "output_dir": str(out_dir), "prompt": {"context_k": 3},
              "rules": {}, "train": TRAIN}
    final = train_leser(method, context)
    retriever.close()
    print(f"FINAL {final}", flush=True)


if __name__ == "__main__":
    main()
