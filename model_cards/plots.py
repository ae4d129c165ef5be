"""PNG plots for cards (matplotlib, no display needed); bytes out, so callers decide where they go."""

from __future__ import annotations

import io
from collections.abc import Sequence


def png_bytes(fig, **savefig) -> bytes:
    """`fig` as PNG bytes, then closed; no version stamp in the file, so the same data gives the same bytes."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None}, **savefig)
    plt.close(fig)
    return buf.getvalue()


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
    return png_bytes(fig)


def grouped_bars_png(groups: dict[str, dict[str, float]], *, title: str, ylabel: str) -> bytes:
    """Bars of values in [0, 1] per group and series, e.g. {"sft": {"code": 1.0, "text": 0.0}, ...}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = list(dict.fromkeys(s for values in groups.values() for s in values))
    width = 0.8 / max(1, len(series))
    fig, ax = plt.subplots(figsize=(5, 3), dpi=100)
    for i, name in enumerate(series):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        ax.bar(xs, [values.get(name, 0.0) for values in groups.values()], width, label=name)
    ax.set_xticks(range(len(groups)), list(groups))
    ax.set_ylim(0, 1)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    return png_bytes(fig)
