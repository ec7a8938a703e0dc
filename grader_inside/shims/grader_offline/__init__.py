"""Offline stand-ins installed in the student's kernel, so Colab notebooks run unchanged.

`install()` runs in the grader's set-up cell. It registers post-import hooks (nothing is imported
ahead of the student) that, when the student's code imports them:
    torchvision.datasets.MNIST(root=<any>, download=True)  -> reads the grader's data folder
    torch.hub / torchvision / keras.applications weights   -> the --weights folder (weights.py)
    keras.datasets.mnist.load_data()                       -> the grader's arrays
    sklearn.datasets.fetch_openml('mnist_784')             -> the grader's arrays
    import tensorflow_datasets as tfds; tfds.load('mnist')  -> the grader's arrays as tf.data-like
                                                             datasets (tfds, tf_data)
    import tensorflow as tf (no TensorFlow installed)       -> tf.keras is Keras 3 (tf_alias)
    torch on a machine without the GPU the student asked for -> 'cuda'/'mps' fall back to the CPU
    Keras 2 idioms (SGD(lr=...), fit_generator, np_utils,   -> their Keras 3 forms (keras_compat)
      ImageDataGenerator; TensorBoard without TensorFlow)
    torch.load of a whole pickled model (PyTorch < 2.6)      -> weights_only=False (torch_compat)
    demo.launch() / uvicorn.run() in a notebook              -> return at once (apps.py)
    APIs removed from numpy, matplotlib, pandas, scikit-learn -> their old behaviour (compat.py)
WandB runs offline through its environment (set by the grader when it starts the sandbox).
Every shim that is used writes one line to <outbox>/shims.log for the student's report.
"""
from __future__ import annotations

import os
import sys
from types import ModuleType

from grader_offline.hooks import PostImportFinder

_FINDER: PostImportFinder | None = None


def _on_torch(torch: ModuleType) -> None:
    """Seed torch like the grader seeds random and numpy (repeatable runs), then the device shim
    and the pre-2.6 `torch.load` of whole pickled models."""
    from grader_offline import device, torch_compat

    torch.manual_seed(int(os.environ.get("GRADER_SEED", "0") or 0))
    device.patch_torch(torch)
    torch_compat.patch_torch(torch)


def install(outbox: str | None = None, serve_apps: bool = False) -> None:
    """Register the hooks once; data shims only when the grader passed a data folder.
    `serve_apps`: the app grader (grader.families.apps) starts apps itself, so launch() is left alone."""
    global _FINDER
    if _FINDER is not None:
        return
    from grader_offline import log, tf_alias

    from grader_offline import apps, compat, keras_compat, weights

    log.set_outbox(outbox)
    hooks = {"torch": _on_torch, **compat.HOOKS, **weights.HOOKS, **keras_compat.HOOKS,
             **({} if serve_apps else apps.HOOKS)}
    if os.environ.get("GRADER_DATA_MNIST"):
        from grader_offline import datasets, tfds

        hooks.update(datasets.HOOKS)
        if tfds.needed():
            tfds.install()
    tf_stand_in = tf_alias.needed()
    if tf_stand_in:
        hooks.update(tf_alias.HOOKS)
    _FINDER = PostImportFinder(hooks)
    sys.meta_path.insert(0, _FINDER)
    if tf_stand_in:
        tf_alias.install()
    for name, hook in hooks.items():
        module = sys.modules.get(name)
        if module is not None:
            hook(module)
