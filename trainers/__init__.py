"""Training entry points (sft.py, grpo.py: later issues), the tiny offline model, rollouts and the quickstart."""
