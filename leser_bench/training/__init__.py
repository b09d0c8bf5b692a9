"""LESER training: the search-engine reward, GRPO (TRL GRPOTrainer) and the SFT baseline (TRL SFTTrainer).

Importing this package loads nothing heavy (no torch, no TRL, no JVM); trainers import them when run.
"""
