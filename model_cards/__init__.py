"""Dataset and model card templates and rendering (filled in by the release issues)."""
