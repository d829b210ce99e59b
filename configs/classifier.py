"""The evaluation classifier: a small CNN trained on clean digits, the judge of correctors.

Variants (`--config=configs/classifier.py:VARIANT`):
  (default)  conv 32 → pool → conv 64 → pool → dense 128 → 10 classes, dropout 0.25 / 0.5,
             Adam 1e-3, batch 128, 3,000 steps, on 28×28 grey digits.
  smoke      a tiny model for tests.

Data default: TFDS mnist (falls back to the embedded grey photos offline, whose
labels are the crop's zoom level, 4 classes). On Kannada-MNIST's test set
(`python -m inpaintjax.data.prepare kannada_mnist --out=data`; its first 5,000 digits are the
development copy kannada_dev.npz, exactly):
--config.data.name=npz:data/kannada_mnist_test.npz@:5000 --config.data.holdout=0.2
(trains on the first 4,000 digits, evaluates on the last 1,000).

Results (2-core CPU, 2026-11-22): on the last 1,000 kannada_dev digits, 0.983 / 0.985 / 0.987 /
0.985 accuracy after 500 / 1,000 / 1,500 / 2,000 steps (--config.num_steps=2000). Trained on
kannada_dig + the first 4,000 kannada_dev digits
(--config.data.name=npz:data/kannada_mnist_dig.npz+npz:data/kannada_mnist_test.npz@:5000
--config.data.holdout=0.0656, the same 1,000 held out), 0.985 after 3,000 steps. Its
accuracies on damaged and corrected digits are in configs/correcting_ae.py.
"""

from inpaintjax import config_base

VARIANTS = ('', 'smoke')


def get_config(arg=None):
  """The classifier config for variant `arg`."""
  arg = arg or ''
  config_base.check_variant(arg, VARIANTS)
  c = config_base.base_config()
  c.task = 'classification'
  c.model = dict(name='classifier', num_classes=10, channels=32, dense_width=128, act='relu',
                 conv_dropout=0.25, dense_dropout=0.5)
  c.data.name = 'mnist'
  c.data.channels = 1
  c.data.image_size = 28
  c.data.eval_limit = 0
  c.batch_size = 128
  c.num_steps = 3000
  c.eval_every = 500
  c.checkpoint_every = 500
  # `python benchmarks/train_step.py --config=configs/classifier.py --devices=1,2`, 2-core
  # host, 2026-12-02: 46.3 → 26.9 ms/step (1.72×).
  c.cpu_devices = 2
  if arg == 'smoke':
    c.model.update(channels=4, dense_width=16)
    config_base.make_smoke(c)
  return c
