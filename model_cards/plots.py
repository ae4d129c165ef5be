"""PNG plots for cards (matplotlib, no display needed); bytes out, so callers decide where they go."""

from __future__ import annotations

import io
from collections.abc import Sequence


def histogram_png(values: Sequence[int], *, title: str, xlabel: str) -> bytes:
    """A bar chart of how often each integer value occurs (e.g. code calls per trace)."""
    import matplotlib

    matplotlib.use("Agg")
    from collections import Counter

    import matplotlib.pyplot as plt

    counts = Counter(values)
    xs = list(range(min(counts, default=0), max(counts, default=0) + 1))
    fig, ax = plt.subplots(figsize=(5, 3), dpi=100)
    ax.bar(xs, [counts.get(x, 0) for x in xs], color="#4C72B0")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("traces")
    ax.set_xticks(xs)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})  # no version stamp: same data, same bytes
    plt.close(fig)
    return buf.getvalue()
