"""The README results table: evaluation dicts (evaluation.evaluate_*) -> one Markdown table."""

from __future__ import annotations

COLUMNS = [  # (header, key, format)
    ("score (lower is better)", "score", "{:.4f}"),
    ("cosine term", "cosine", "{:.4f}"),
    ("0.5/IS", "inception_term", "{:.4f}"),
    ("IS (1 split)", "inception_score", "{:.2f}"),
    ("IS (10 splits)", "inception_score_10", "{:.2f}"),
    ("FID (flowers features)", "fid_flowers", "{:.1f}"),
    ("class top-1", "class_top1", "{:.3f}"),
    ("class top-5", "class_top5", "{:.3f}"),
    ("caption cosine", "caption_cosine", "{:.3f}"),
    ("R-precision", "r_precision", "{:.3f}"),
    ("Inception-FID", "fid_inception", "{:.1f}"),
    ("KID", "kid_inception", "{:.4f}"),
    ("precision", "precision", "{:.3f}"),
    ("recall", "recall", "{:.3f}"),
    ("sat. white / black", "saturated_white", "{:.2%}"),
]


def _cell(result: dict, key: str, fmt: str) -> str:
    value = result.get(key)
    if value is None:
        return "–"
    if key == "fid_flowers" and abs(value) < 0.05:
        value = 0.0  # -0.0 from rounding residue of identical sets
    if key == "inception_score_10" and result.get("inception_score_10_std") is not None:
        return f"{value:.2f} ± {result['inception_score_10_std']:.2f}"
    if key == "saturated_white" and result.get("saturated_black") is not None:
        return f"{value:.1%} / {result['saturated_black']:.1%}"
    return fmt.format(value)


CURVE_KEYS = ("score", "inception_score", "class_top1", "r_precision", "fid_inception", "kid_inception",
              "precision", "recall", "saturated_white")  # a training curve's columns (scripts/score_run.py)


def markdown_table(rows: list[tuple[str, dict]], keys: tuple[str, ...] | None = None) -> str:
    """rows: (label, result) in display order; keys: the columns to show (default all), in COLUMNS' order."""
    columns = [c for c in COLUMNS if keys is None or c[1] in keys]
    header = "| | " + " | ".join(h for h, _, _ in columns) + " |"
    rule = "|---|" + "---|" * len(columns)
    body = ["| " + label + " | " + " | ".join(_cell(r, k, f) for _, k, f in columns) + " |" for label, r in rows]
    return "\n".join([header, rule, *body])
