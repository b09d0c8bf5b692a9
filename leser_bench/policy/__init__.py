"""LESER's policy as harness code: the prompt builder, the prompted expander, output parsing, the platform
rules, what every LLM method shares, few-shot examples, and a trained model as an Expander. The prompted
baselines (``baselines/``) are this policy with other prompts; nothing here imports ``baselines``."""
