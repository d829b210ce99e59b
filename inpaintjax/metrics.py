"""Reconstruction-quality metrics of the evaluation protocol (shared PROTOCOL.md).

Everything here except `validate` and `mean_metrics` is pure `jnp` and jit-able.
Conventions: `pred` and `truth` are float NHWC in [0, 1]; `mask` is float (N, H, W, 1)
with 1.0 marking the hole (missing pixels) and 0.0 the known pixels.

Validation: `hole_metrics` always checks ranks and shapes (they are static under jit)
and, when `mask` is a concrete array rather than a tracer, also that every image has
at least one hole pixel. Under `jax.jit` that last check cannot run, so callers that
jit `hole_metrics` (the evaluator) should call `validate` on the host first.
"""

from collections.abc import Mapping

import dm_pix
import jax
import jax.numpy as jnp
import numpy as np

# An exact prediction has MSE 0; flooring it keeps PSNR finite (10*log10(1e10) = 100 dB)
# so that means over images stay meaningful.
MSE_FLOOR = 1e-10
# PROTOCOL.md: maem counts channel values within +-5 of the truth on the 0-255 scale.
MAEM_TOLERANCE = 5
# PROTOCOL.md SSIM settings (dm_pix defaults spelled out so a library change cannot move them).
SSIM_KWARGS = {'filter_size': 11, 'filter_sigma': 1.5, 'k1': 0.01, 'k2': 0.03}

METRIC_NAMES = ('hole_psnr', 'hole_mse', 'hole_l1', 'rgb_dist', 'maem', 'ssim')


def _check_shapes(pred, truth, mask) -> None:
  """Raises ValueError unless pred/truth are (N,H,W,C) and mask is (N,H,W,1)."""
  for name, x in (('pred', pred), ('truth', truth), ('mask', mask)):
    if jnp.ndim(x) != 4:
      raise ValueError(f'{name} must have rank 4 (N, H, W, C); got shape {jnp.shape(x)}.')
  if jnp.shape(pred) != jnp.shape(truth):
    raise ValueError(
        f'pred and truth shapes disagree: {jnp.shape(pred)} vs {jnp.shape(truth)}.')
  if jnp.shape(mask) != jnp.shape(truth)[:3] + (1,):
    raise ValueError(
        f'mask shape {jnp.shape(mask)} does not match images {jnp.shape(truth)}; '
        'expected (N, H, W, 1).')


def validate(pred, truth, mask) -> None:
  """Host-side check of the inputs of `hole_metrics`.

  Args:
    pred: predictions, (N, H, W, C).
    truth: ground truth, (N, H, W, C).
    mask: (N, H, W, 1), 1.0 = hole.

  Raises:
    ValueError: on a rank other than 4, disagreeing shapes, or an image whose mask has
      no hole pixel (its hole metrics would be 0/0).
  """
  _check_shapes(pred, truth, mask)
  hole_pixels = np.asarray(mask).reshape(np.shape(mask)[0], -1) > 0.5
  empty = np.flatnonzero(~hole_pixels.any(axis=1))
  if empty.size:
    raise ValueError(
        f'mask has no hole pixel (no value > 0.5) in image(s) {empty[:10].tolist()}'
        f'{"..." if empty.size > 10 else ""}; hole metrics are undefined there.')


def quantize(x: jax.Array) -> jax.Array:
  """Maps [0, 1] values onto the 8-bit grid: round(clip(x, 0, 1) * 255) / 255.

  Rounding is jnp.round, i.e. half to even (as Python's and numpy's round). XLA divides
  by multiplying with 1/255, so a result may differ from numpy's k / 255 in the last
  bit; the metrics below therefore compare integer levels, never these floats.
  """
  return jnp.round(jnp.clip(x, 0.0, 1.0) * 255.0) / 255.0


def composite(pred: jax.Array, truth: jax.Array, mask: jax.Array) -> jax.Array:
  """Returns truth at known pixels and pred inside the hole (mask > 0.5).

  `jnp.where` rather than a blend keeps known pixels bit-identical to `truth`.
  """
  return jnp.where(mask > 0.5, pred, truth)


def _to_levels(x: jax.Array) -> jax.Array:
  """Integer-valued float32 levels 0..255 of a [0, 1] image (quantized)."""
  return jnp.round(jnp.clip(x.astype(jnp.float32), 0.0, 1.0) * 255.0)


def hole_metrics(pred: jax.Array, truth: jax.Array, mask: jax.Array) -> dict[str, jax.Array]:
  """Per-image hole metrics of PROTOCOL.md.

  The prediction is composited into the truth, then both are quantized to the 8-bit
  grid. Hole means are over each image's own hole pixels (masks may differ per image).

  Args:
    pred: model output, float (N, H, W, C) in [0, 1] (values outside are clipped).
    truth: ground truth, float (N, H, W, C) in [0, 1].
    mask: float (N, H, W, 1), 1.0 = hole.

  Returns:
    A dict of (N,) float32 arrays:
      hole_psnr: 10*log10(1 / MSE) in dB, with the MSE floored at 1e-10 so that a
        perfect hole scores 100 dB instead of infinity.
      hole_mse, hole_l1: mean squared / absolute error over hole pixels and channels,
        in [0, 1] units.
      rgb_dist: mean over hole pixels of the Euclidean colour distance in 0-255 units
        (for C = 1 this is the absolute difference).
      maem: fraction of hole channel values within +-5 of the truth on 0-255.
      ssim: whole-image SSIM of the composited image (Gaussian window 11, sigma 1.5,
        data range 1), averaged over channels.
      image_psnr, image_l1, hole_ssim: the whole-image and hole-only counterparts
        (see `image_metrics`).

  Raises:
    ValueError: see `validate`; the empty-hole check only runs on concrete masks.
  """
  _check_shapes(pred, truth, mask)
  if not isinstance(mask, jax.core.Tracer):
    validate(pred, truth, mask)
  truth = truth.astype(jnp.float32)
  hole = (mask > 0.5).astype(jnp.float32)
  pred_q = _to_levels(composite(pred.astype(jnp.float32), truth, mask))
  truth_q = _to_levels(truth)
  # Differences of integer levels are exact integers in float32, so the maem
  # threshold below is not at the mercy of rounding in x*255.
  diff = pred_q - truth_q
  n_channels = truth.shape[-1]
  n_pixels = jnp.sum(hole, axis=(1, 2, 3))
  n_values = n_pixels * n_channels

  def hole_sum(x):
    return jnp.sum(x * hole, axis=(1, 2, 3))

  mse = hole_sum(jnp.square(diff)) / n_values / (255.0**2)
  l1 = hole_sum(jnp.abs(diff)) / n_values / 255.0
  colour_dist = jnp.sqrt(jnp.sum(jnp.square(diff), axis=-1, keepdims=True))
  rgb_dist = hole_sum(colour_dist) / n_pixels
  close = (jnp.abs(diff) <= MAEM_TOLERANCE).astype(jnp.float32)
  maem = hole_sum(close) / n_values
  psnr = -10.0 * jnp.log10(jnp.maximum(mse, MSE_FLOOR))
  # One SSIM map serves the whole-image SSIM (its mean, as dm_pix.ssim) and the hole's.
  ssim_map = dm_pix.ssim(pred_q / 255.0, truth_q / 255.0, max_val=1.0, return_map=True,
                         **SSIM_KWARGS)
  out = {'hole_psnr': psnr, 'hole_mse': mse, 'hole_l1': l1, 'rgb_dist': rgb_dist,
         'maem': maem, 'ssim': jnp.mean(ssim_map, axis=(1, 2, 3))}
  out.update(_image_readings(diff / 255.0, ssim_map, mask))
  return out


IMAGE_KEYS = ('image_psnr', 'image_l1', 'hole_ssim')


def _image_readings(diff, ssim_map, mask) -> dict[str, jax.Array]:
  """Whole-image PSNR / L1 of the composited image and the hole's SSIM (see image_metrics)."""
  mse = jnp.mean(jnp.square(diff), axis=(1, 2, 3))
  crop = (mask.shape[1] - ssim_map.shape[1]) // 2
  hole = (mask[:, crop:crop + ssim_map.shape[1], crop:crop + ssim_map.shape[2]] > 0.5)
  hole = jnp.broadcast_to(hole, ssim_map.shape).astype(jnp.float32)
  counted = jnp.sum(hole, axis=(1, 2, 3))
  hole_ssim = jnp.where(counted > 0, jnp.sum(ssim_map * hole, axis=(1, 2, 3))
                        / jnp.maximum(counted, 1.0), jnp.nan)
  return {'image_psnr': -10.0 * jnp.log10(jnp.maximum(mse, MSE_FLOOR)),
          'image_l1': jnp.mean(jnp.abs(diff), axis=(1, 2, 3)), 'hole_ssim': hole_ssim}


def image_metrics(pred: jax.Array, truth: jax.Array, mask: jax.Array) -> dict[str, jax.Array]:
  """Whole-image PSNR and L1 of the composited image, and the hole's own SSIM, per image.

  The counterparts of `hole_metrics`' hole-only PSNR / L1 and whole-image SSIM (which
  `hole_metrics` returns too, from the same SSIM map), for tables that show both readings
  side by side (the benchmark across hole kinds):
    image_psnr, image_l1: over every pixel of the composited, quantized image (the known
      pixels are exact, so these rise as the hole shrinks);
    hole_ssim: the SSIM map (the same window as `ssim`) averaged over the hole pixels whose
      11×11 window fits in the image; NaN where none does (a hole only in the 5-px border).
  """
  every = hole_metrics(pred, truth, mask)
  return {k: every[k] for k in IMAGE_KEYS}


def ssim_seed(raw_pred: jax.Array, truth: jax.Array) -> jax.Array:
  """The SSIM figure one source reports: (SSIM + 1) / 2 on [-1, 1] images, max_val 2.

  Computed on the model's raw output (not composited, not quantized), per image;
  PROTOCOL.md reports it only beside `ssim`, never instead of it.

  Args:
    raw_pred: model output, float (N, H, W, C) in [0, 1].
    truth: ground truth, float (N, H, W, C) in [0, 1].

  Returns:
    (N,) float32 values; identical images give 1.
  """
  if jnp.shape(raw_pred) != jnp.shape(truth) or jnp.ndim(truth) != 4:
    raise ValueError(f'raw_pred {jnp.shape(raw_pred)} and truth {jnp.shape(truth)} '
                     'must share one (N, H, W, C) shape.')
  a = raw_pred.astype(jnp.float32) * 2.0 - 1.0
  b = truth.astype(jnp.float32) * 2.0 - 1.0
  return (dm_pix.ssim(a, b, max_val=2.0, **SSIM_KWARGS) + 1.0) / 2.0


def _gradient_magnitude(x: jax.Array) -> jax.Array:
  """Per-pixel, per-channel forward-difference gradient magnitude (edge-replicated)."""
  dy = jnp.diff(x, axis=1, append=x[:, -1:])
  dx = jnp.diff(x, axis=2, append=x[:, :, -1:])
  return jnp.sqrt(jnp.square(dx) + jnp.square(dy))


def sharpness_ratio(pred: jax.Array, truth: jax.Array, mask: jax.Array,
                    eps: float = 1e-6) -> jax.Array:
  """Mean hole gradient magnitude of the composited prediction over the truth's.

  Below 1 means a blurrier hole than the truth, above 1 a noisier one. Both images are
  composited and quantized as in `hole_metrics`; `eps` is added to numerator and
  denominator so a flat hole predicted flat gives 1 rather than 0/0.

  Args:
    pred: model output, float (N, H, W, C) in [0, 1].
    truth: ground truth, float (N, H, W, C) in [0, 1].
    mask: float (N, H, W, 1), 1.0 = hole.
    eps: stabiliser in [0, 1] gradient units.

  Returns:
    (N,) float32 ratios.
  """
  _check_shapes(pred, truth, mask)
  truth = truth.astype(jnp.float32)
  hole = (mask > 0.5).astype(jnp.float32)
  pred_q = quantize(composite(pred.astype(jnp.float32), truth, mask))
  truth_q = quantize(truth)
  weight = jnp.maximum(jnp.sum(hole, axis=(1, 2, 3)) * truth.shape[-1], 1.0)

  def hole_mean(x):
    return jnp.sum(_gradient_magnitude(x) * hole, axis=(1, 2, 3)) / weight

  return (hole_mean(pred_q) + eps) / (hole_mean(truth_q) + eps)


def mean_metrics(per_image: Mapping[str, jax.Array]) -> dict[str, float]:
  """Means over images of per-image metric arrays (host side); {} maps to {}."""
  return {name: float(np.mean(np.asarray(values))) for name, values in per_image.items()}
