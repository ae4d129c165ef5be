"""Training entry points (sft.py, grpo.py, eval.py), the curriculum, rewards, releases, the tiny offline model and the quickstart."""
