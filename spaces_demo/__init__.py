"""The Gradio Space: chat with a model and watch its code run (filled in by the demo issue)."""
