"""U-Net inpainting autoencoder: centre 8×8 hole, skip connections, dropout, rotation/zoom.

Variants (`--config=configs/unet.py:VARIANT`):
  faithful (default)  the source's model: 2 levels, hole filled with -1 on [-1, 1]
                      images, tanh output, MSE on the whole image, Adam, batch 64,
                      rotation/zoom augmentation, 1,000 training images for 100 epochs.
  best                what beats biharmonic on CIFAR-10 centre-8: the hole filled
                      harmonically and the U-Net's linear output added to that fill (it
                      learns a correction), 4 levels, 32 base channels capped at 256, the mask as an input channel, MSE on the hole only,
                      flips, all training images.
  mnist               the faithful model on 28×28 grey digits (one level is cut: 28 is
                      divisible by 4, not 8).
  smoke               a tiny model for tests: seconds on a CPU.

Data default: TFDS cifar10 (falls back to the embedded photos offline). On the
shared npz files: --config.data.name=npz:../shared/data/cifar10_train.npz
--config.data.holdout=0.04 (the last 2,000 images are the validation split).

Results (measured with `python -m inpaintjax.evaluate`; see README):
  RESULTS_PLACEHOLDER
"""

from inpaintjax import config_base

VARIANTS = ('', 'faithful', 'best', 'mnist', 'smoke')


def get_config(arg=None):
  """The U-Net config for variant `arg`."""
  arg = arg or ''
  config_base.check_variant(arg, VARIANTS)
  c = config_base.base_config()
  c.task = 'regression'
  c.model = dict(name='unet', base_channels=32, levels=2, dropout=0.1, act='relu', output='tanh')
  c.hole = 'center-8'
  c.hole_fill = '-1'
  c.signed = True
  c.augment.rotate_deg = 10.0
  c.augment.zoom = 0.1
  c.optim.learning_rate = 1e-3
  c.batch_size = 64
  c.data.limit = 1000
  c.num_steps = 1600          # ~100 epochs of 1,000 images at batch 64.
  c.eval_every = 400
  c.checkpoint_every = 200
  # Sharding the batch over 2 XLA CPU devices was faster for every variant here:
  # `python benchmarks/train_step.py --config=configs/unet.py[:best] --devices=1,2`
  # faithful 744 → 576 ms/step (1.29×), best 1237 → 1026 ms/step (1.21×), 2-core host.
  c.cpu_devices = 2

  if arg == 'best':
    c.model.update(levels=4, base_channels=32, max_channels=256, output='linear')
    c.hole_fill = 'harmonic'
    c.residual = True
    c.model.dropout = 0.0
    c.mask_channel = True
    c.loss.known_weight = 0.0  # MSE on the hole only.
    c.augment.update(flip=True, rotate_deg=0.0, zoom=0.0)
    c.optim.update(learning_rate=2e-3, schedule='cosine', warmup_steps=100)
    c.data.limit = 0
    c.num_steps = 3000
    c.data.eval_limit = 2000
    c.eval_every = 500
    c.checkpoint_every = 250
  elif arg == 'mnist':
    c.data.name = 'mnist'
    c.data.channels = 1
    c.data.image_size = 28
  elif arg == 'smoke':
    c.model.update(base_channels=4, levels=2)
    config_base.make_smoke(c)
  return c
