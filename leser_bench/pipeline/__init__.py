"""One benchmark run: config checks (validation), what will run (planning), each method's stages
(method_stage), the whole run (run) and its bookkeeping (stages). ``run_experiment`` is the entry point."""

from leser_bench.pipeline.method_stage import expansion_record
from leser_bench.pipeline.run import RunResult, run_experiment
from leser_bench.pipeline.validation import method_configs, retriever_config, validate

__all__ = ["RunResult", "expansion_record", "method_configs", "retriever_config", "run_experiment", "validate"]
