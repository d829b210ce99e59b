"""Image distortions for a correcting autoencoder, in pure jnp: jit-able, one PRNG key per example.

This reproduces the distortion study of a "correcting autoencoder" source, where a clean image is
damaged and a network learns to undo the damage. Three kinds of distortion:

* geometric, one of three: vertical flip, horizontal flip, or a rotation (counter-clockwise, like
  `jnp.rot90` on axes (0, 1)) by 90, 180 or 270 degrees, each angle with probability 1/3.
  Rotation needs a square image.
* noise, one of two: additive Gaussian noise with sigma 30 on the 0-255 scale (30/255 here), or a
  brightness gradient: a field that peaks at a pixel drawn uniformly over the image, with a peak
  magnitude drawn from U[0, 30] on the 0-255 scale, falling off as `(1 + 0.1 * r)^-1` with the
  Euclidean pixel distance `r` from the peak, added to every channel. It only brightens.
* occlusion, with probability 0.5: a black (zero) rectangle whose sides are between a quarter and a
  half of the image's sides, whose bottom-left corner pixel lies in the image's bottom-left
  quadrant, extending up and right from that corner (clipped to the image).

In 'multiple' mode (the source's default) each kind is applied independently with its own
probability, by default geometric and noise always and occlusion half of the time, so two or three
distortions per image. In 'single' mode exactly one kind is applied, drawn with `single_probs`.
In 'both' mode each image is single or multiple with probability 1/2 (a corrector trained on it
also sees upright images, which multiple mode never shows).
Kinds are always applied in the order geometric -> noise -> occlusion, so the box stays black.

Images are float in [0, 1]: (H, W, C) for the per-example functions, NHWC for the batch ones.
Every random choice is a pure function of the key (resume-exact) and is made with `jnp.where` or
`jax.lax.switch`, so the functions work under `jax.jit` and `jax.vmap`. Probabilities, fractions
and the `Distortions` object are static (Python values); keys and images may be traced.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

KINDS = ('geometric', 'noise', 'occlusion')
MODES = ('single', 'multiple', 'both')
# `geometric` returns an index into GEOMETRIC_OPS, `noise` one into NOISE_OPS.
GEOMETRIC_OPS = ('vertical_flip', 'horizontal_flip', 'rot90', 'rot180', 'rot270')
NOISE_OPS = ('gaussian', 'gradient')

_PROB_FIELDS = {
    'single_probs': KINDS,
    'multiple_probs': KINDS,
    'geometric_probs': ('vertical flip', 'horizontal flip', 'rotation'),
    'noise_probs': ('gaussian', 'brightness gradient'),
}


@dataclasses.dataclass(frozen=True)
class Distortions:
  """Every kind and probability, as config fields (built with Distortions(**config.distort)).

  Attributes:
    mode: 'single' (exactly one enabled kind per image), 'multiple' (each enabled kind
      independently) or 'both' (single or multiple, with probability 1/2 each).
    kinds: which kinds may be applied, any non-empty subset of KINDS, order irrelevant.
    single_probs: single mode: weights of (geometric, noise, occlusion), renormalised over the
      enabled `kinds`.
    multiple_probs: multiple mode: probability of applying each of (geometric, noise, occlusion).
    geometric_probs: weights of (vertical flip, horizontal flip, rotation); a rotation is by
      90/180/270 degrees with probability 1/3 each.
    noise_probs: weights of (gaussian, brightness gradient).
    noise_sigma: Gaussian sigma on the 0-255 scale.
    gradient_max: the gradient's peak magnitude is drawn from U[0, gradient_max], 0-255 scale.
    gradient_falloff: field = magnitude * (1 + falloff * r)^-1, r = pixel distance from the peak.
    occlusion_min: smallest occlusion side, as a fraction of the image's side.
    occlusion_max: largest occlusion side, as a fraction of the image's side.

  Hashable (tuple fields), so it can be a static argument of `jax.jit`.
  """
  mode: str = 'multiple'
  kinds: tuple = KINDS
  single_probs: tuple = (1 / 3, 1 / 3, 1 / 3)
  multiple_probs: tuple = (1.0, 1.0, 0.5)
  geometric_probs: tuple = (1 / 3, 1 / 3, 1 / 3)
  noise_probs: tuple = (0.5, 0.5)
  noise_sigma: float = 30.0
  gradient_max: float = 30.0
  gradient_falloff: float = 0.1
  occlusion_min: float = 0.25
  occlusion_max: float = 0.5

  def __post_init__(self):
    """Normalises list fields to tuples (ConfigDict gives lists) and validates every field."""
    if self.mode not in MODES:
      raise ValueError(f'Distortions.mode must be one of {MODES}, got {self.mode!r}')

    kinds = self.kinds
    if isinstance(kinds, str):
      # A bare string would otherwise be read as a tuple of characters.
      kinds = (kinds,)
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
      raise ValueError(f'Distortions.kinds has unknown kind(s) {unknown}; known kinds: {KINDS}')
    if not kinds:
      raise ValueError(f'Distortions.kinds must name at least one of {KINDS}, got none')
    if len(set(kinds)) != len(kinds):
      raise ValueError(f'Distortions.kinds has a repeated kind: {kinds}')
    object.__setattr__(self, 'kinds', kinds)

    for name, labels in _PROB_FIELDS.items():
      value = getattr(self, name)
      try:
        probs = tuple(float(p) for p in value)
      except (TypeError, ValueError) as e:
        raise ValueError(f'Distortions.{name} must be a sequence of numbers, got {value!r}') from e
      if len(probs) != len(labels):
        raise ValueError(f'Distortions.{name} must have {len(labels)} entries {labels}, '
                         f'got {len(probs)}: {probs}')
      for label, p in zip(labels, probs):
        if not 0.0 <= p <= 1.0:
          raise ValueError(f'Distortions.{name}: {label} = {p} is not a probability in [0, 1]')
      object.__setattr__(self, name, probs)

    for name in ('geometric_probs', 'noise_probs', 'single_probs'):
      if sum(getattr(self, name)) <= 0.0:
        raise ValueError(f'Distortions.{name} must not all be zero: {getattr(self, name)}')
    if self.mode in ('single', 'both'):
      enabled = [p for k, p in zip(KINDS, self.single_probs) if k in self.kinds]
      if sum(enabled) <= 0.0:
        raise ValueError(f'Distortions.single_probs {self.single_probs} give no probability to '
                         f'the enabled kinds {self.kinds}')

    for name in ('noise_sigma', 'gradient_max', 'gradient_falloff'):
      value = getattr(self, name)
      if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
        raise ValueError(f'Distortions.{name} must be a finite number >= 0, got {value!r}')
      object.__setattr__(self, name, float(value))

    lo, hi = self.occlusion_min, self.occlusion_max
    if not (isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and 0 < lo <= hi <= 1):
      raise ValueError('Distortions needs 0 < occlusion_min <= occlusion_max <= 1, got '
                       f'occlusion_min={lo!r}, occlusion_max={hi!r}')
    object.__setattr__(self, 'occlusion_min', float(lo))
    object.__setattr__(self, 'occlusion_max', float(hi))


def from_config(distort_cfg: Mapping[str, Any] | None, **changes) -> Distortions:
  """Builds `Distortions` from a ConfigDict or dict (None: defaults), with `changes` overriding.

  Raises:
    ValueError: a field is unknown (the message names it and lists the known fields), or a value
      is invalid.
  """
  if distort_cfg is None:
    fields = {}
  elif hasattr(distort_cfg, 'to_dict'):
    fields = distort_cfg.to_dict()
  else:
    fields = dict(distort_cfg)
  fields.update(changes)
  known = [f.name for f in dataclasses.fields(Distortions)]
  unknown = sorted(set(fields) - set(known))
  if unknown:
    raise ValueError(f'unknown distortion field(s) {unknown}; known fields: {known}')
  return Distortions(**fields)


def _check_image(x: jnp.ndarray, where: str) -> None:
  """Raises ValueError unless x is one float (H, W, C) image."""
  if x.ndim != 3:
    raise ValueError(f'{where} expects one (H, W, C) image, got shape {tuple(x.shape)}')
  if not jnp.issubdtype(x.dtype, jnp.floating):
    raise ValueError(f'{where} expects a float image in [0, 1], got dtype {x.dtype}')


# Compile time, not run time, is what these small ops cost: each jax.random call compiles its own
# threefry hash (randint alone makes three). So every function draws all its scalars as one
# uniform vector and maps uniforms to choices with the helpers below; the private `_*_from`
# functions take those uniforms, and `distort` draws one vector for all of them.


def _choose(u: jnp.ndarray, weights: Sequence[float]) -> jnp.ndarray:
  """An int32 index with probability proportional to static `weights`, from u ~ U[0, 1).

  Zero weights are dropped before the cumulative sum, so rounding can never draw them.
  """
  weights = [float(w) for w in weights]
  if min(weights) < 0 or sum(weights) <= 0:
    raise ValueError(f'weights must be >= 0 and not all zero, got {weights}')
  support = [i for i, w in enumerate(weights) if w > 0]
  cdf = np.cumsum([weights[i] for i in support]) / sum(weights)
  position = jnp.sum(u >= jnp.asarray(cdf[:-1], jnp.float32))
  return jnp.asarray(support, jnp.int32)[position]


def _integer(u: jnp.ndarray, low: int, high: int) -> jnp.ndarray:
  """An int32 uniform over [low, high] (inclusive, static) from u ~ U[0, 1).

  A float32 uniform has 2^23 levels, so the bias for a range of n integers is under n / 2^23.
  """
  n = high - low + 1
  # The minimum guards u * n rounding up to n in float32.
  return low + jnp.minimum(jnp.floor(u * n).astype(jnp.int32), n - 1)


def vertical_flip(x: jnp.ndarray) -> jnp.ndarray:
  """Flips an (H, W, C) image upside down (rows reversed), like np.flipud."""
  return jnp.asarray(x)[::-1]


def horizontal_flip(x: jnp.ndarray) -> jnp.ndarray:
  """Flips an (H, W, C) image left to right (columns reversed), like np.fliplr."""
  return jnp.asarray(x)[:, ::-1]


def rotate90(x: jnp.ndarray, k: int | jnp.ndarray) -> jnp.ndarray:
  """Rotates a square (H, H, C) image by k quarter turns counter-clockwise, like jnp.rot90.

  Args:
    x: the image; must be square, so every rotation keeps its shape.
    k: quarter turns, a Python int or a traced int (taken mod 4; the distortions use 1, 2, 3).

  Raises:
    ValueError: the image is not square (checked statically, whatever k is).
  """
  x = jnp.asarray(x)
  if x.ndim < 2 or x.shape[0] != x.shape[1]:
    raise ValueError(f'rotate90 needs a square image, got shape {tuple(x.shape)}')
  if isinstance(k, (int, np.integer)):
    return jnp.rot90(x, int(k), axes=(0, 1))
  branches = [functools.partial(jnp.rot90, k=i, axes=(0, 1)) for i in range(4)]
  return jax.lax.switch(jnp.asarray(k, jnp.int32) % 4, branches, x)


def geometric(key: jax.Array, x: jnp.ndarray,
              probs: Sequence[float] = (1 / 3, 1 / 3, 1 / 3)) -> tuple[jnp.ndarray, jnp.ndarray]:
  """One random geometric distortion of an (H, W, C) image.

  Args:
    key: PRNG key.
    x: the image.
    probs: static weights of (vertical flip, horizontal flip, rotation), renormalised; a rotation
      is by 90, 180 or 270 degrees counter-clockwise with probability 1/3 each.

  Returns:
    (distorted image, op) with op an int32 index into GEOMETRIC_OPS: 0 vertical flip,
    1 horizontal flip, 2 rot90, 3 rot180, 4 rot270.

  Raises:
    ValueError: the image is not square and rotation has a non-zero weight.
  """
  x = jnp.asarray(x)
  _check_image(x, 'geometric')
  return _geometric_from(jax.random.uniform(key, (2,)), x, probs)


def _geometric_from(u: jnp.ndarray, x: jnp.ndarray,
                    probs: Sequence[float]) -> tuple[jnp.ndarray, jnp.ndarray]:
  """`geometric` from two uniforms: u[0] picks the kind, u[1] the quarter turns."""
  kind = _choose(u[0], probs)
  turns = _integer(u[1], 1, 3)
  op = jnp.where(kind == 2, 1 + turns, kind).astype(jnp.int32)
  branches = [vertical_flip, horizontal_flip]
  if x.shape[0] == x.shape[1]:
    branches += [functools.partial(rotate90, k=i) for i in (1, 2, 3)]
  elif float(probs[2]) == 0:
    # Never drawn; the identity only keeps every switch branch the same shape.
    branches += [lambda y: y] * 3
  else:
    raise ValueError(f'geometric: rotation needs a square image, got shape {tuple(x.shape)}; '
                     'set the rotation probability to 0 for non-square images')
  return jax.lax.switch(op, branches, x), op


def gaussian_noise(key: jax.Array, x: jnp.ndarray, sigma_255: float = 30.0) -> jnp.ndarray:
  """Adds N(0, (sigma_255/255)^2) noise to every pixel and channel, clipped to [0, 1]."""
  x = jnp.asarray(x)
  return _gaussian_from(_standard_normal(key, x), x, sigma_255)


def _standard_normal(key: jax.Array, x: jnp.ndarray) -> jnp.ndarray:
  """N(0, 1) noise of x's shape and dtype."""
  # Drawn flat and reshaped: under vmap, jax's threefry for a multi-dimensional shape compiles
  # about three times slower than for a vector, and the values are just as random.
  return jax.random.normal(key, (x.size,), x.dtype).reshape(x.shape)


def _gaussian_from(z: jnp.ndarray, x: jnp.ndarray, sigma_255: float) -> jnp.ndarray:
  """`gaussian_noise` from standard normal noise z."""
  return jnp.clip(x + z * (sigma_255 / 255.0), 0.0, 1.0)


def gradient_field(height: int, width: int, peak_row: int | jnp.ndarray,
                   peak_col: int | jnp.ndarray, magnitude_255: float | jnp.ndarray,
                   falloff: float = 0.1) -> jnp.ndarray:
  """A brightness field peaking at a pixel, in [0, 1] units, shape (height, width, 1) float32.

  field[i, j] = magnitude_255 / 255 / (1 + falloff * r), with
  r = sqrt((i - peak_row)^2 + (j - peak_col)^2) over pixel indices i, j.
  """
  rows = jnp.arange(height, dtype=jnp.float32)[:, None]
  cols = jnp.arange(width, dtype=jnp.float32)[None, :]
  r = jnp.sqrt((rows - peak_row)**2 + (cols - peak_col)**2)
  field = (jnp.asarray(magnitude_255, jnp.float32) / 255.0) / (1.0 + falloff * r)
  return field[..., None].astype(jnp.float32)


def brightness_gradient(key: jax.Array, x: jnp.ndarray, max_255: float = 30.0,
                        falloff: float = 0.1) -> jnp.ndarray:
  """Adds a `gradient_field` to every channel, clipped to [0, 1]: it only brightens.

  The peak is an integer pixel drawn uniformly over the image, the magnitude U[0, max_255].
  """
  x = jnp.asarray(x)
  return _gradient_from(jax.random.uniform(key, (3,)), x, max_255, falloff)


def _gradient_from(u: jnp.ndarray, x: jnp.ndarray, max_255: float,
                   falloff: float) -> jnp.ndarray:
  """`brightness_gradient` from three uniforms: peak row, peak column, magnitude."""
  height, width = x.shape[:2]
  peak_row = _integer(u[0], 0, height - 1)
  peak_col = _integer(u[1], 0, width - 1)
  magnitude = u[2] * max_255
  field = gradient_field(height, width, peak_row, peak_col, magnitude, falloff)
  return jnp.clip(x + field.astype(x.dtype), 0.0, 1.0)


def noise(key: jax.Array, x: jnp.ndarray, probs: Sequence[float] = (0.5, 0.5),
          sigma: float = 30.0, max_255: float = 30.0,
          falloff: float = 0.1) -> tuple[jnp.ndarray, jnp.ndarray]:
  """One random noise distortion: Gaussian (sigma, 0-255 scale) or a brightness gradient.

  Args:
    key: PRNG key.
    x: the (H, W, C) image.
    probs: static weights of (gaussian, brightness gradient), renormalised.
    sigma: Gaussian sigma on the 0-255 scale.
    max_255: the gradient's largest peak magnitude on the 0-255 scale.
    falloff: the gradient's falloff per pixel of distance.

  Returns:
    (distorted image, op) with op an int32 index into NOISE_OPS: 0 gaussian, 1 gradient.
  """
  x = jnp.asarray(x)
  _check_image(x, 'noise')
  k_u, k_z = jax.random.split(key)
  return _noise_from(jax.random.uniform(k_u, (4,)), _standard_normal(k_z, x), x, probs, sigma,
                     max_255, falloff)


def _noise_from(u: jnp.ndarray, z: jnp.ndarray, x: jnp.ndarray, probs: Sequence[float],
                sigma: float, max_255: float,
                falloff: float) -> tuple[jnp.ndarray, jnp.ndarray]:
  """`noise` from four uniforms (u[0] the kind, u[1:] the gradient) and normal noise z."""
  op = _choose(u[0], probs)
  branches = [lambda y: _gaussian_from(z, y, sigma),
              lambda y: _gradient_from(u[1:], y, max_255, falloff)]
  return jax.lax.switch(op, branches, x), op


def _side_range(size: int, min_frac: float, max_frac: float, name: str) -> tuple[int, int]:
  """The integer sides [ceil(min_frac*size), floor(max_frac*size)], raising if empty."""
  # The tolerance keeps e.g. 0.7 * 10 = 7.000000000000001 from rounding up to 8.
  lo = max(1, math.ceil(min_frac * size - 1e-9))
  hi = min(size, math.floor(max_frac * size + 1e-9))
  if hi < lo:
    raise ValueError(f'no integer occlusion {name} in [{min_frac} * {size}, {max_frac} * {size}]')
  return lo, hi


def occlusion_box(key: jax.Array, height: int, width: int, min_frac: float = 0.25,
                  max_frac: float = 0.5, *, clip: bool = True) -> tuple[jnp.ndarray, ...]:
  """A random occlusion rectangle: (top, left, box_h, box_w), int32 scalars.

  The sides before clipping are uniform integers, box_h in [ceil(min_frac*H), floor(max_frac*H)]
  and box_w likewise over W. The box's bottom-left corner pixel (row top + box_h - 1, column
  left) is uniform over the bottom-left quadrant: row in [H//2, H-1], column in [0, W//2 - 1];
  the box extends up and right from it.

  Args:
    key: PRNG key.
    height: image height (static).
    width: image width (static).
    min_frac: smallest side as a fraction of the image's side (static).
    max_frac: largest side as a fraction of the image's side (static).
    clip: True (default): the box clipped to the image, so top = max(bottom - box_h + 1, 0) and
      the returned sizes are AFTER clipping (the right edge is min(left + box_w, W)). False: the
      box as drawn, sizes BEFORE clipping, and top may be negative. The same key gives the same
      draw either way. With sides at most a half (the default), no clipping ever happens.

  Raises:
    ValueError: the fractions are out of range, the image is smaller than 2x2, or no integer
      side lies between the fractions.
  """
  return _box_from(jax.random.uniform(key, (4,)), height, width, min_frac, max_frac, clip)


def _box_from(u: jnp.ndarray, height: int, width: int, min_frac: float, max_frac: float,
              clip: bool) -> tuple[jnp.ndarray, ...]:
  """`occlusion_box` from four uniforms: height, width, bottom row, left column."""
  if not 0 < min_frac <= max_frac <= 1:
    raise ValueError(f'occlusion_box needs 0 < min_frac <= max_frac <= 1, got {min_frac}, '
                     f'{max_frac}')
  if height < 2 or width < 2:
    raise ValueError(f'occlusion_box needs an image of at least 2x2, got {height}x{width}')
  h_lo, h_hi = _side_range(height, min_frac, max_frac, 'height')
  w_lo, w_hi = _side_range(width, min_frac, max_frac, 'width')
  box_h = _integer(u[0], h_lo, h_hi)
  box_w = _integer(u[1], w_lo, w_hi)
  bottom = _integer(u[2], height // 2, height - 1)
  left = _integer(u[3], 0, width // 2 - 1)
  top = bottom - box_h + 1
  if not clip:
    return top, left, box_h, box_w
  top_clipped = jnp.maximum(top, 0)
  right = jnp.minimum(left + box_w, width)
  return top_clipped, left, bottom - top_clipped + 1, right - left


def occlude(key: jax.Array, x: jnp.ndarray, min_frac: float = 0.25,
            max_frac: float = 0.5) -> jnp.ndarray:
  """Sets a random `occlusion_box` of an (H, W, C) image to 0 (black), every channel."""
  x = jnp.asarray(x)
  return _occlude_from(jax.random.uniform(key, (4,)), x, min_frac, max_frac)


def _occlude_from(u: jnp.ndarray, x: jnp.ndarray, min_frac: float,
                  max_frac: float) -> jnp.ndarray:
  """`occlude` from the four uniforms of `_box_from`."""
  height, width = x.shape[:2]
  top, left, box_h, box_w = _box_from(u, height, width, min_frac, max_frac, True)
  rows = jnp.arange(height)[:, None, None]
  cols = jnp.arange(width)[None, :, None]
  inside = (rows >= top) & (rows < top + box_h) & (cols >= left) & (cols < left + box_w)
  return jnp.where(inside, jnp.zeros_like(x), x)


def distort(key: jax.Array, x: jnp.ndarray,
            d: Distortions) -> tuple[jnp.ndarray, dict[str, jnp.ndarray]]:
  """Distorts one (H, W, C) image as `d` says, in the order geometric -> noise -> occlusion.

  Occlusion comes last so the box stays black. Disabled kinds are never applied (nor computed).
  All scalar choices come from one uniform vector and the Gaussian noise from a second key, so
  the draws differ from calling `geometric`, `noise` and `occlude` with keys of their own; they
  are still a pure function of `key`.

  Args:
    key: PRNG key for this example.
    x: float image in [0, 1].
    d: the distortions (static).

  Returns:
    (distorted image, info) with info int32 scalars: 'geometric' (GEOMETRIC_OPS index or -1),
    'noise' (NOISE_OPS index or -1) and 'occlusion' (1 if a box was drawn, else 0).
  """
  x = jnp.asarray(x)
  _check_image(x, 'distort')
  if d.mode == 'both':
    k_mode, key = jax.random.split(key)
    use_single = jax.random.bernoulli(k_mode)
  k_u, k_z = jax.random.split(key)
  enabled = [kind in d.kinds for kind in KINDS]
  # One uniform vector for every scalar choice: 3 to pick kinds, then each kind's own.
  u = jax.random.uniform(k_u, (3 + 2 + 4 + 4,))
  draws, u_geo, u_noise, u_occ = u[:3], u[3:5], u[5:9], u[9:]
  weights = [p if on else 0.0 for p, on in zip(d.single_probs, enabled)]
  chosen = _choose(draws[0], weights)
  single = [chosen == i for i in range(len(KINDS))]
  # uniform is in [0, 1), so a probability of 1 always applies and 0 never does.
  multiple = [(draws[i] < p) & on for i, (p, on) in enumerate(zip(d.multiple_probs, enabled))]
  if d.mode == 'both':
    # Every candidate below is computed once; only which of them apply depends on the mode.
    apply = [jnp.where(use_single, s, m) for s, m in zip(single, multiple)]
  else:
    apply = single if d.mode == 'single' else multiple

  none = jnp.asarray(-1, jnp.int32)
  geo_op, noise_op = none, none
  # Every candidate is computed and selected with where: small images make that cheaper than a
  # cond, which vmap would turn into a select of both branches anyway.
  if enabled[0]:
    geo_x, op = _geometric_from(u_geo, x, d.geometric_probs)
    x = jnp.where(apply[0], geo_x, x)
    geo_op = jnp.where(apply[0], op, none)
  if enabled[1]:
    noise_x, op = _noise_from(u_noise, _standard_normal(k_z, x), x, d.noise_probs,
                              d.noise_sigma, d.gradient_max, d.gradient_falloff)
    x = jnp.where(apply[1], noise_x, x)
    noise_op = jnp.where(apply[1], op, none)
  if enabled[2]:
    x = jnp.where(apply[2], _occlude_from(u_occ, x, d.occlusion_min, d.occlusion_max), x)
  info = {
      'geometric': geo_op,
      'noise': noise_op,
      'occlusion': jnp.asarray(apply[2] & enabled[2], jnp.int32),
  }
  return x, info


def distort_batch_with_info(key: jax.Array, x: jnp.ndarray,
                            d: Distortions) -> tuple[jnp.ndarray, dict[str, jnp.ndarray]]:
  """Distorts an NHWC batch, example i with key i of `jax.random.split(key, N)`.

  Returns:
    (distorted batch, info) with info as in `distort`, each entry of shape (N,).
  """
  x = jnp.asarray(x)
  if x.ndim != 4:
    raise ValueError(f'distort_batch expects an NHWC batch, got shape {tuple(x.shape)}')
  keys = jax.random.split(key, x.shape[0])
  return jax.vmap(lambda k, image: distort(k, image, d))(keys, x)


def distort_batch(key: jax.Array, x: jnp.ndarray, d: Distortions) -> jnp.ndarray:
  """Distorts an NHWC batch, example i with key i of `jax.random.split(key, N)`."""
  return distort_batch_with_info(key, x, d)[0]
