"""gan_core: the library behind the Oxford-102 text-to-image GAN workbench.

Modules with one concern each: text (tokenizer, vocabulary), prepare (raw data -> prepared
dataset), dataset (prepared dataset loader and tf.data pipeline), models, training, sampling,
metrics, evaluators.  Scripts under scripts/ and the Streamlit dashboard are thin layers on top.
"""

__version__ = "0.1.0"


class UserError(Exception):
    """An error caused by the user's input; scripts print it as one line and exit non-zero."""
