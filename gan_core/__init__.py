"""gan_core: the library behind the Oxford-102 text-to-image GAN workbench.

One folder per stage, arrows one way (data <- models <- sample <- train <- eval <- explore):
  data/     sources, preparation, the prepared dataset and tf.data pipeline, text, competition files
  models/   generator, discriminator, text encoder
  sample/   snapshots, the Sampler (captions + seeds -> images), competition inference, export
  train/    the training loop and step, losses, DiffAugment, schedules, text-encoder pretraining
  eval/     metrics (pure functions), evaluators (classifiers/feature networks), scoring, baselines
  explore/  run discovery, caption embeddings, the report grid
config.py is the schema every stage shares; storage.py reads and writes weights and caches; legacy.py
turns older run files into today's schema. Scripts and the dashboard are thin layers on top.
"""

from pathlib import Path

__version__ = "0.2.0"

# The checkout this package runs from (installed editable: `pip install -e .`); shipped models
# live under REPO_ROOT/checkpoints.
REPO_ROOT = Path(__file__).resolve().parents[1]


class UserError(Exception):
    """An error caused by the user's input; scripts print it as one line and exit non-zero."""
