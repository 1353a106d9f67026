"""Coverage: which flower classes can a snapshot draw? Project real test images with their own
captions (gan_core.explore.projector) and measure, in the `flowers` evaluator, how close each
projection comes: the cosine distance of the penultimate features, and whether the projection's
evaluator class equals the real image's. A class's "reachable" share is the share of its projected
images whose class matches. The class labels are read here only, for grouping and for the report
(evaluation side, as the evaluator itself): the projector never sees them.

Results are cached next to the snapshot (`coverage_<key>.json`, git-ignored) for the dashboard.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import asdict

import numpy as np

from gan_core import UserError, storage
from gan_core.explore.projector import ProjectorConfig, project, start_noise

FORMAT = "gan_core.coverage/1"
COVERAGE_STEPS = 100  # fewer than one projection's default: ~300 images in under 10 minutes on 2 cores
FIELDS = ("epoch", "row", "image_id", "test_id", "class_id", "caption", "real_class", "projected_class",
          "reachable", "feature_distance", "pixel_l1", "loss")


def pick_images(dataset, per_class: int, seed: int = 0) -> dict:
    """`per_class` test images of every class (a seeded choice; all of a smaller class), each with
    its own test caption -> {rows, test_ids, class_ids, captions}, sorted by class then row."""
    from gan_core.data.dataset import load_class_ids

    if per_class < 1:
        raise UserError(f"images per class must be at least 1, got {per_class}")
    classes = load_class_ids(dataset.root)
    test_rows = np.asarray(dataset.test_rows)
    if not len(test_rows):
        raise UserError(f"the data set at {dataset.root} has no test images")
    rng = np.random.default_rng(seed)
    rows = []
    for cls in np.unique(classes[test_rows]):
        members = test_rows[classes[test_rows] == cls]
        rows.extend(sorted(rng.permutation(members)[:per_class].tolist()))
    rows = np.asarray(rows, np.int64)
    test_ids = dataset.image_table.loc[rows, "test_id"].to_numpy().astype(np.int64)
    return {"rows": rows, "test_ids": test_ids, "class_ids": classes[rows].astype(np.int64),
            "captions": [dataset.test_caption(int(t)) for t in test_ids]}


def cosine_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise 1 - cos(a_i, b_i) of float arrays [N, F] -> [N]."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    dot = np.sum(a * b, axis=1)
    return (1.0 - dot / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12)).astype(np.float32)


def same_class_baseline(features: np.ndarray, class_ids: np.ndarray) -> dict:
    """Median cosine distance between two real images of one class and of two classes: the scale
    against which a projection's distance reads (a projection as close as a sibling is good)."""
    same, other = [], []
    for i in range(len(features)):
        for j in range(i + 1, len(features)):
            (same if class_ids[i] == class_ids[j] else other).append((i, j))
    pick = lambda pairs: cosine_distance(features[[p[0] for p in pairs]], features[[p[1] for p in pairs]])
    return {"same_class": float(np.median(pick(same))) if same else None,
            "other_class": float(np.median(pick(other))) if other else None}


def measure(sampler, dataset, evaluator, per_class: int = 3, config: ProjectorConfig | None = None,
            batch: int = 32, seed: int = 0, progress: Callable | None = None) -> dict:
    """Project per_class test images of every class; -> {"images": [row dicts], "classes": [...],
    "summary": {...}}. `progress(done, total)` after every batch."""
    config = (config or ProjectorConfig(steps=COVERAGE_STEPS)).check()
    picked = pick_images(dataset, per_class, seed)
    real = np.asarray(dataset.images(64))[picked["rows"]]
    total = len(real)
    images, losses, used = np.zeros_like(real), np.zeros(total, np.float32), "none"
    for start in range(0, total, batch):
        stop = min(start + batch, total)
        z0 = start_noise(stop - start, sampler.noise_dim, config.seed, offset=start)
        out = project(sampler, picked["captions"][start:stop], real[start:stop], config, evaluator=evaluator,
                      start=z0)
        images[start:stop], losses[start:stop], used = out.images, out.final_loss, out.feature_net
        if progress is not None:
            progress(stop, total)
    real_logits, real_features = evaluator.predict(real.astype(np.float32))
    fake_logits, fake_features = evaluator.predict(images.astype(np.float32))
    distance = cosine_distance(real_features, fake_features)
    real_class, fake_class = np.argmax(real_logits, 1) + 1, np.argmax(fake_logits, 1) + 1  # 1-based, as classes.csv
    pixel = np.mean(np.abs(real.astype(np.float32) - images.astype(np.float32)), axis=(1, 2, 3)) / 255.0
    rows = [{"epoch": int(sampler.epoch), "row": int(r), "image_id": int(dataset.image_table.loc[r, "image_id"]),
             "test_id": int(t), "class_id": int(c), "caption": cap, "real_class": int(rc), "projected_class": int(pc),
             "reachable": bool(rc == pc), "feature_distance": round(float(d), 5), "pixel_l1": round(float(p), 5),
             "loss": round(float(lo), 5)}
            for r, t, c, cap, rc, pc, d, p, lo in zip(picked["rows"], picked["test_ids"], picked["class_ids"],
                                                      picked["captions"], real_class, fake_class, distance, pixel,
                                                      losses)]
    classes = per_class_table(rows)
    summary = {"images": total, "feature_net": used, "classes": len(classes), "reachable": float(np.mean([r["reachable"] for r in rows])),
               "classes_reached": int(sum(c["reachable"] > 0 for c in classes)),
               "median_feature_distance": float(np.median(distance)), "median_pixel_l1": float(np.median(pixel)),
               "real_evaluator_top1": float(np.mean(real_class == picked["class_ids"])),
               "baseline": same_class_baseline(real_features, picked["class_ids"])}
    return {"format": FORMAT, "epoch": int(sampler.epoch), "config": asdict(config), "per_class": int(per_class),
            "images": rows, "classes": classes, "summary": summary}


def per_class_table(rows: list[dict]) -> list[dict]:
    """One dict per class: class_id, images, reachable share, mean feature distance; worst first."""
    by_class: dict[int, list[dict]] = {}
    for row in rows:
        by_class.setdefault(int(row["class_id"]), []).append(row)
    table = [{"class_id": c, "images": len(rs), "reachable": float(np.mean([r["reachable"] for r in rs])),
              "feature_distance": float(np.mean([r["feature_distance"] for r in rs]))}
             for c, rs in by_class.items()]
    return sorted(table, key=lambda t: (t["reachable"], -t["feature_distance"], t["class_id"]))


def csv_text(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row[k] for k in FIELDS})
    return buffer.getvalue()


def cache_key(snapshot_digest: str, evaluator_identity: str, per_class: int, seed: int,
              config: ProjectorConfig) -> dict:
    return {"kind": FORMAT, "snapshot": snapshot_digest, "evaluator": evaluator_identity, "per_class": int(per_class),
            "seed": int(seed), "projector": asdict(config)}


def write_cached(snapshot, key: dict, result: dict):
    """Keep a coverage result next to its snapshot (None when the folder is read-only)."""
    return storage.write_cache(snapshot, "coverage", key, result)


def cached(snapshot) -> list[dict]:
    """Every readable coverage result next to a snapshot, newest key last (the dashboard reads these)."""
    return [result for _, result in storage.cached_results(snapshot, "coverage")
            if isinstance(result, dict) and result.get("format") == FORMAT]


COLOURS = ((66, 133, 244), (234, 67, 53), (52, 168, 83), (251, 188, 5))


def bar_chart_png(results: list[dict], labels: list[str]) -> bytes:
    """Per-class reachable share as bars, one colour per result (e.g. epoch 60 beside epoch 270);
    classes in id order, each result's overall share in the legend. PNG bytes."""
    from PIL import Image, ImageDraw

    from gan_core.sample.image_grid import _font

    if not results:
        raise UserError("no coverage result to chart")
    class_ids = sorted({c["class_id"] for r in results for c in r["classes"]})
    shares = [{c["class_id"]: c["reachable"] for c in r["classes"]} for r in results]
    per, left, top, height = 4 * len(results) + 2, 60, 60, 300
    width = max(left + len(class_ids) * per + 20, 720)  # the title and legend fit
    image = Image.new("RGB", (width, top + height + 50), "white")
    draw, font = ImageDraw.Draw(image), _font(12)
    draw.text((left, 8), "Share of projected test images whose evaluator class matches the real image's, per class",
              fill="black", font=font)
    x = left
    for k, (label, result) in enumerate(zip(labels, results)):
        colour = COLOURS[k % len(COLOURS)]
        draw.rectangle([x, 30, x + 10, 40], fill=colour)
        text = f"{label}: {result['summary']['reachable']:.1%} of {result['summary']['images']} images"
        draw.text((x + 14, 28), text, fill="black", font=font)
        x += 24 + int(font.getlength(text))
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top + height - int(tick * height)
        draw.line([left - 4, y, width - 20, y], fill=(220, 220, 220))
        draw.text((8, y - 7), f"{tick:.2f}", fill="black", font=font)
    for i, cls in enumerate(class_ids):
        x0 = left + i * per
        for k, share in enumerate(shares):
            value = share.get(cls)
            if value is None:
                continue
            h = max(1, round(value * height))
            draw.rectangle([x0 + k * 4, top + height - h, x0 + k * 4 + 3, top + height], fill=COLOURS[k % len(COLOURS)])
        if cls % 5 == 0 or i == 0:
            draw.text((x0 - 4, top + height + 6), str(cls), fill="black", font=font)
    draw.text((left, top + height + 26), "flower class id (1-102)", fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
