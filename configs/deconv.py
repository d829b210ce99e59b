"""Reverse-convolution deconvolution (issue 6): learn a 3×3 filter, invert it, score it.

  python -m inpaintjax.main --config=configs/deconv.py[:VARIANT] [--workdir=DIR] \
      [--config.method=batch --config.direction=forward ...]

Variants: '' (the source's sweep: ten 180×250 colour images, blur / sharpen / edge, 19
learning rates 1 … 0.01, per-block SGD, one epoch) and 'smoke' (two 24×32 crops, all four
filters, three rates: seconds). Writes WORKDIR/tables.md and results.json (default
runs/deconv[_smoke]); see inpaintjax/deconvolution.py for the method and its conventions.

Results (2-core CPU, 2026-11-22, 25 s wall; the same figures again on 2026-11-23):
  python -m inpaintjax.main --config=configs/deconv.py
Average loss ratio r over the ten images (MAE0 = 0.0150 blur, 0.0482 sharpen, 0.3198 edge on
[0, 1] pixels; rates 1 … 0.3 (blur, sharpen) and 1 … 0.6 (edge) leave a dead relu filter,
noted in the per-filter tables):
  | rate | blur | sharpen | edge | mean |
  |---|---|---|---|---|
  | 1 | 2700.15% | 861.10% | 14.74% | 1192.00% |
  | 0.9 | 2688.83% | 736.40% | 14.74% | 1146.66% |
  | 0.8 | 2688.83% | 736.40% | 14.74% | 1146.66% |
  | 0.7 | 2688.83% | 736.38% | 14.74% | 1146.65% |
  | 0.6 | 2688.83% | 1002.02% | 14.74% | 1235.20% |
  | 0.5 | 2688.83% | 1002.34% | 14.59% | 1235.25% |
  | 0.4 | 4729.22% | 736.40% | 14.40% | 1826.67% |
  | 0.3 | 4708.94% | 1127.09% | 14.14% | 1950.06% |
  | 0.2 | 677.04% | 204.99% | 14.12% | 298.72% |
  | 0.1 | 1122.84% | 206.04% | 14.07% | 447.65% |
  | 0.09 | 1167.15% | 206.32% | 14.06% | 462.51% |
  | 0.08 | 1213.29% | 206.62% | 14.04% | 477.98% |
  | 0.07 | 1276.74% | 206.92% | 14.02% | 499.22% |
  | 0.06 | 1516.86% | 207.21% | 13.98% | 579.35% |
  | 0.05 | 1709.76% | 207.47% | 13.93% | 643.72% |
  | 0.04 | 1842.29% | 207.73% | 13.85% | 687.95% |
  | 0.03 | 1932.12% | 207.99% | 13.72% | 717.94% |
  | 0.02 | 1980.04% | 208.14% | 13.46% | 733.88% |
  | 0.01 | 1941.76% | 205.78% | 12.72% | 720.09% |
  | mean over rates | 2208.55% | 484.91% | 14.15% | 902.53% |
  | best rate | 0.2: 677.04% | 0.2: 204.99% | 0.01: 12.72% | |
  | equation, true filter | 2224.19% | 66.94% | 9.21% | 766.78% |
  | Wiener, true filter | 25.99% | 87.22% | — | 56.61% |
  | Richardson–Lucy, true filter | 37.81% | — | — | 37.81% |
The source's averages: edge 1.59%, sharpening 19.45%, blur 109.84%. Same order (edge < sharpen
< blur), far larger values here: the raster equation is a recursion that amplifies (even the
true blur filter gives 2224%; order=parallel gives 166%), the backward-learned w is an inverse
filter used where the equation expects the filter, and our crops are smooth (small MAE0).
r only measures how much the error changes: Wiener and Richardson–Lucy lower MAE by 26% and 40%
on blur and score r = 26% and 38%. Variants (same command plus the override; mean over rates /
best rate for blur, sharpen, edge):
  --config.direction=forward  2427% / 2224%, 330% / 67.65%, 11.64% / 6.37% (learns the filters:
                              cosine 1.000 / 0.999 / 0.998 with blur / sharpen / edge, edge at
                              0.8× the magnitude)
  --config.order=parallel     1236% / 10.48%, 464% / 192%, 14.68% / 14.44%
  --config.inverse=apply      1138% / 5.25%, 351% / 68.92%, 22.08% / 13.36% (relu(w ⋆ y) lowers
                              MAE by 5% on blur and 70% on sharpen at their best rates)
  --config.method=batch       2672% / 2467%, 491% / 214%, 8.38% / 7.53% (200 full-image steps;
                              lowest training loss 0.0006 / 0.0003 / 0.064 against one SGD
                              epoch's 0.0004 / 0.0003 / 0.367, not counting dead filters)
  --config.init=identity      1849% / 12.40%, 550% / 205%, 14.15% / 12.72%
"""

import ml_collections

from inpaintjax import config_base

VARIANTS = ('', 'smoke')
# The source's 19 rates: 1, 0.9, …, 0.1, 0.09, …, 0.01.
RATES = tuple(round(k / 10, 2) for k in range(10, 0, -1)) + tuple(
    round(k / 100, 2) for k in range(9, 0, -1))


def get_config(arg=None):
  """The deconvolution sweep's config for variant `arg`."""
  arg = arg or ''
  config_base.check_variant(arg, VARIANTS)
  c = ml_collections.ConfigDict()
  c.task = 'deconvolution'        # main runs the sweep (tasks/deconvolution.py), not the trainer.
  c.images = 'embedded'           # 'embedded' (scikit-image photos) or 'npz:PATH' (uint8 images).
  c.num_images = 10               # At most 10 embedded crops; for npz the first N (0 = all).
  c.crop_height = 180             # Embedded crop size; npz images are used whole.
  c.crop_width = 250
  c.filters = ('blur', 'sharpen', 'edge')  # Names in deconvolution.FILTERS, or 'custom'.
  c.custom = ((0.0, 0.0, 0.0), (1 / 3, 1 / 3, 1 / 3), (0.0, 0.0, 0.0))  # 'custom' taps: motion.
  c.clip = True                   # Filtered and restored images are clipped to [0, 1] (images).
  c.learning_rates = RATES
  c.method = 'sgd'                # 'sgd': the source's per-block rule; 'batch': full-image loss.
  c.direction = 'backward'        # 'backward' (the source's): filtered -> original;
                                  # 'forward': original -> filtered (learns the filter itself).
  c.inverse = 'equation'          # 'equation': the source's deconvolution with the learned w;
                                  # 'apply': relu(w ⋆ filtered), the learned map run forwards.
  c.order = 'raster'              # The equation's order: 'raster' (the source's) or 'parallel'.
  c.epochs = 1                    # Passes over all blocks ('sgd').
  c.batch_steps = 200             # Full-gradient steps ('batch').
  c.init = 'random'               # Starting filters: 'random' (uniform [0, 2/9]) or 'identity'.
  c.seed = 0
  c.wiener_balance = 0.01         # skimage.restoration.wiener's balance.
  c.rl_iterations = 30            # skimage.restoration.richardson_lucy's num_iter.
  c.workdir = ''                  # '' = runs/<config name>; --workdir wins over both.
  if arg == 'smoke':
    c.update(num_images=2, crop_height=24, crop_width=32, learning_rates=(1.0, 0.1, 0.01),
             filters=('blur', 'sharpen', 'edge', 'custom'), batch_steps=5, rl_iterations=3)
  return c
