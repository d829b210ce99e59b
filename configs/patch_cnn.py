"""Patch regression CNN: predicts the m×m centre patch (m = 1..6) of a masked image.

The input is the image in [0, 1] with the centre m×m patch filled with -1; the
output is the patch through a sigmoid; MSE; Adam 1e-3; batch 64.

Variants (`--config=configs/patch_cnn.py:VARIANT`):
  faithful (default)  the source's model: conv 5×5 → pool 3 → conv 3×3 → pool 3 → 3 dense,
                      64 channels, 1,024-wide dense layers, dense dropout 0.5, ReLU, m = 4.
  strong              the variant that beats biharmonic on centre-4: the hole filled
                      harmonically and the model's linear output added to that fill (a
                      learned correction), the mask as an input channel, the central 16×16
                      context, two extra 3×3 convolutions per stage, 2×2 pooling, 512-wide
                      dense layers, no dropout, the rgb_dist (Charbonnier) loss, cosine decay.
  smoke               tiny, for tests.

Sweeps (`python -m inpaintjax.sweep --config=configs/patch_cnn.py --sweep=NAME`):
  ablation    activation × conv channels × dense width × conv dropout × dense dropout, m = 3.
  patch_size  m = 1..6 with the faithful model.

Speed (2026-12-02, 2-core CPU, one XLA device, python benchmarks/old_vs_new.py --base=1ecda2b):
the train step went from faithful 67 → 50 ms (1.35×) and strong 116 → 104 ms (1.11×), with the
shape-lowered layers of models/layers.py. Every wall-clock time of a run below was measured
before that change.

Results (2-core CPU, 2026-11-22) were measured on the development copy of the CIFAR-10
training images (README, "Data": the same 50,000 images in another order): validation = its
last 2,000, never trained on; scored with `python -m inpaintjax.evaluate --workdir=RUN
--data=npz:data/cifar10_train.npz@48000:`; biharmonic on the same images and centre-4 holes:
23.15 dB, rgb_dist 30.49. The `strong` row is re-measured on prepare's split below
(RE-MEASURED, next paragraph).
  RE-MEASURED, 2026-12-02, on prepare's split (validation = the last 2,000 images of
  `python -m inpaintjax.data.prepare cifar10 --out=data`'s training split; biharmonic on them
  with centre-4 holes 23.53 dB, rgb_dist 29.52):
    python -m inpaintjax.main --config=configs/patch_cnn.py:strong --workdir=runs/patch_cnn_strong_prepared \
      --config.data.name=npz:data/cifar10_train.npz --config.data.holdout=0.04 --config.ema_decay=0.999
    python -m inpaintjax.evaluate --workdir=runs/patch_cnn_strong_prepared \
      --data=npz:data/cifar10_train.npz@48000: --weights=raw
    8,000 steps, 16 min: rgb_dist 25.71, hole_psnr 24.89 dB (+1.36 dB over biharmonic), maem
    0.345, ssim 0.9934 (rgb_dist 29.4 / 27.6 / 26.7 / 26.3 / 26.0 / 25.7 at 1k / 2k / 3k / 4k /
    5k / 8k steps); flip-averaged (--flip_average=on) 25.02 dB, rgb_dist 25.33. The moving
    average (--weights=ema) scores the same to 0.01 dB.
  strong on centre-8 holes (an 8×8 patch; 2026-12-06, prepare's split, for the benchmark across
  hole kinds in the README):
    python -m inpaintjax.main --config=configs/patch_cnn.py:strong --workdir=runs/patch_strong8 \
      --config.hole=center-8 --config.data.name=npz:data/cifar10_train.npz --config.data.holdout=0.04
    8,000 steps, 28 min beside another job; in-training (one pass, 2,000 validation images)
    19.48 / 19.91 / 20.12 / 20.22 dB at 1k / 3k / 5k / 8k steps; flip-averaged in the
    benchmark 20.33 dB (+1.27 over biharmonic), ssim 0.951, sharpness 0.62: below the
    residual context encoder (20.61) and the U-Net `:best` (20.60) on the same holes.
  strong: python -m inpaintjax.main --config=configs/patch_cnn.py:strong \
            --workdir=runs/patch_cnn_strong \
            --config.data.name=npz:data/cifar10_train.npz --config.data.holdout=0.04
          8,000 steps (~45 min beside other jobs): rgb_dist 25.99, hole_psnr 24.68 dB,
          maem 0.340, ssim 0.9934 (rgb_dist 32.6 / 30.8 / 28.4 / 26.6 / 26.0 at 500 / 1k /
          2k / 5k / 8k steps). A first version without the harmonic fill, residual and
          rgb_dist loss was at 34.4 after 2,000 steps: worse than biharmonic.
  faithful: python -m inpaintjax.main --config=configs/patch_cnn.py \
              --workdir=runs/patch_cnn_faithful --config.num_steps=3000 \
              --config.data.name=npz:data/cifar10_train.npz --config.data.holdout=0.04
          3,000 steps (4 min, 4 CPU devices): rgb_dist 36.7, hole_psnr 21.41 dB, hole MSE
          0.0113 (plateau from ~2,000 steps: 21.26 / 21.49 / 21.41 dB at 1k / 2k / 3k),
          i.e. worse than biharmonic, as the issue's calibration run found.
  patch_size sweep (short: 600 steps each, faithful model, 1,000 validation images):
    python -m inpaintjax.sweep --config=configs/patch_cnn.py --sweep=patch_size \
      --set data.name=npz:data/cifar10_train.npz data.holdout=0.04 \
      data.eval_limit=1000 num_steps=600 eval_every=150
    m = 1..6: rgb_dist 19.0 / 25.4 / 32.5 / 39.4 / 44.1 / 47.2, hole_psnr 29.26 / 25.44 /
    22.79 / 20.91 / 19.65 / 18.87 dB.
  patch_size sweep at the faithful model's full schedule (6,000 steps each, 2026-12-02, on
  prepare's split; eval on the first 1,000 validation images, the config's eval_limit):
    python -m inpaintjax.sweep --config=configs/patch_cnn.py --sweep=patch_size \
      --workdir=runs/patch_size --set data.name=npz:data/cifar10_train.npz data.holdout=0.04
    python -m inpaintjax.evaluate --baseline=biharmonic --data=npz:data/cifar10_train.npz@48000: \
      --limit=1000 --hole=center-M
    about 11 min a member beside other jobs (9 step/s). m = 1..6: hole_psnr 33.93 / 26.81 /
    24.04 / 22.51 / 20.99 / 19.66 dB, rgb_dist 11.67 / 22.38 / 28.54 / 32.70 / 37.82 / 43.01;
    biharmonic on the same images and holes 36.12 / 28.52 / 25.62 / 23.54 / 22.06 / 20.73 dB,
    rgb_dist 11.94 / 19.91 / 24.69 / 29.32 / 33.34 / 37.43: the faithful model stays 1.0-2.2 dB
    below the classical fill at every size (its -1 fill and pooled 3×3 features; `strong` is
    what beats it). Curves (hole_psnr at 1k..6k steps): m = 1 31.13 / 31.96 / 32.73 / 33.25 /
    30.68 / 33.93; m = 4 21.49 / 21.76 / 21.62 / 22.15 / 22.23 / 22.51; m = 6 18.71 / 19.76 /
    19.40 / 19.85 / 19.86 / 19.66 (gains past 600 steps of 0.8-4.7 dB, most for small m).
  ablation sweep (32 members at m = 3, 2,000 steps each: the faithful model has plateaued by
  then, 21.26 / 21.49 / 21.41 dB at 1k / 2k / 3k steps above), with its main-effects table:
    python -m inpaintjax.sweep --config=configs/patch_cnn.py --sweep=ablation \
      --workdir=runs/patch_ablation --set data.name=npz:data/cifar10_train.npz data.holdout=0.04 \
      data.eval_limit=1000 num_steps=2000 eval_every=500
    2026-12-06, 32 members in 142 min (beside two other training jobs): the best member
    (relu, 128 channels, dense 128, no dropout) 24.29 dB hole_psnr, rgb_dist 27.49 (biharmonic
    on the same holes 25.62 dB); the worst (sigmoid, 16, 128, both dropouts) 18.42 dB. Main
    effects on validation loss (hole_psnr): channels 16 → 128 0.01588 → 0.01098 (20.23 → 22.10
    dB); act sigmoid → relu 0.01580 → 0.01106 (20.20 → 22.14); conv dropout 0.25 → 0 0.01532 →
    0.01154 (20.44 → 21.90); dense dropout 0.5 → 0 0.01472 → 0.01214 (20.65 → 21.68); dense
    width 128 → 1024 0.01414 → 0.01272 (20.85 → 21.49). Channels and activation matter most.
"""

import itertools

from inpaintjax import config_base

VARIANTS = ('', 'faithful', 'strong', 'smoke')


def get_config(arg=None):
  """The patch-CNN config for variant `arg`."""
  arg = arg or ''
  config_base.check_variant(arg, VARIANTS)
  c = config_base.base_config()
  c.task = 'regression'
  c.model = dict(name='patch_cnn', channels=64, dense_width=1024, act='relu', conv_dropout=0.0,
                 dense_dropout=0.5, extra_convs=0, pool=3, context=0, output='sigmoid')
  c.hole = 'center-4'
  c.hole_fill = '-1'
  c.signed = False
  c.optim.learning_rate = 1e-3
  c.batch_size = 64
  c.num_steps = 6000
  c.eval_every = 1000
  c.checkpoint_every = 500
  # `python benchmarks/train_step.py --config=configs/patch_cnn.py[:strong] --devices=1,2,4`
  # on a 2-core host, 2026-12-02 (after the shape-lowered layers): faithful 47.1 / 59.9 / 66.7
  # ms/step (one device fastest); strong 117.5 / 90.7 / 90.3 ms/step (2 devices, 1.30×).
  c.cpu_devices = 0
  if arg == 'strong':
    c.cpu_devices = 2
    c.model.update(extra_convs=2, pool=2, context=16, dense_width=512, dense_dropout=0.0,
                   output='linear')
    c.mask_channel = True
    c.hole_fill = 'harmonic'
    c.residual = True
    c.loss.kind = 'rgb_dist'
    c.augment.flip = True
    c.optim.update(schedule='cosine', warmup_steps=200)
    c.num_steps = 8000
    c.data.eval_limit = 2000
  elif arg == 'smoke':
    c.model.update(channels=4, dense_width=16)
    config_base.make_smoke(c)
  return c


def get_sweep(name):
  """Lists of config overrides ({dotted key: value}) for the sweep `name`."""
  if name == 'ablation':
    grid = itertools.product(('relu', 'sigmoid'), (16, 128), (128, 1024), (0.0, 0.25), (0.0, 0.5))
    return [{'hole': 'center-3', 'model.act': a, 'model.channels': ch, 'model.dense_width': w,
             'model.conv_dropout': cd, 'model.dense_dropout': dd}
            for a, ch, w, cd, dd in grid]
  if name == 'patch_size':
    return [{'hole': f'center-{m}'} for m in range(1, 7)]
  raise ValueError(f"Unknown sweep {name!r}; known: 'ablation', 'patch_size'.")
