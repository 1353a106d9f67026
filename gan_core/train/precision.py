"""Choice of compute precision: mixed bfloat16 where the hardware runs it fast, else float32."""

from __future__ import annotations

from pathlib import Path


def cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve(precision: str) -> str:
    """"auto" -> "mixed_bfloat16" on a GPU, else "float32".

    Measured with benchmarks/train_speed.py on the 2-core AVX512_BF16 CPU (TensorFlow 2.21,
    oneDNN): mixed bfloat16 ran the default step 1.3-1.5x *slower* than float32, so the CPU
    default is float32; set precision explicitly to override.
    """
    if precision != "auto":
        return precision
    import tensorflow as tf

    return "mixed_bfloat16" if tf.config.list_physical_devices("GPU") else "float32"
