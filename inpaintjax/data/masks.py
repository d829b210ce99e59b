"""Hole generators and mask application, in pure jnp (jit-able).

A mask is float32 `(N, H, W, 1)` with 1.0 where a pixel is missing (the hole)
and 0.0 where it is known. Hole kinds are named by strings, as in PROTOCOL.md:

  `center-M`  an M×M square centred in the image; when H-M is odd it sits one
              pixel up and left: top = (H-M)//2, left = (W-M)//2.
  `box`       a random axis-aligned rectangle, sides uniform in [H/4, H/2].
  `strokes`   free-form brush strokes (random walks of thick lines) covering
              10-40% of the image.
  `thin`, `medium`, `thick`   LaMa's free-form masks (data/freeform.py), scaled to the image.

Random holes are a pure function of the key, so the same seed gives the same
holes for every method on every machine.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from inpaintjax.data import freeform
from inpaintjax.errors import ConfigError

HOLE_KINDS = ('center', 'box', 'strokes') + tuple(freeform.KINDS)


@dataclasses.dataclass(frozen=True)
class Hole:
  """A parsed hole specification: a kind and, for `center`, its size; a mix ('center-8,thin':
  kind 'mix') holds its kinds in `parts`."""
  kind: str
  size: int = 0
  parts: tuple = ()

  def __str__(self):
    if self.kind == 'mix':
      return ','.join(map(str, self.parts))
    return f'center-{self.size}' if self.kind == 'center' else self.kind


def parse_hole(spec: str | Hole) -> Hole:
  """Parses 'center-8', 'box', 'thin', ... into a `Hole`, and a comma list of them into a mix
  (each mask of a mix is of one of its kinds, drawn uniformly per mask); errors name the
  problem."""
  if isinstance(spec, Hole):
    return spec
  if ',' in str(spec):
    parts = tuple(parse_hole(part.strip()) for part in str(spec).split(',') if part.strip())
    return parts[0] if len(parts) == 1 else Hole('mix', 0, parts)
  kind, _, size = str(spec).partition('-')
  if kind not in HOLE_KINDS:
    raise ValueError(f'Unknown hole kind {spec!r}: expected one of center-M, '
                     f'{", ".join(HOLE_KINDS[1:])}.')
  if kind == 'center':
    if not size.isdigit() or int(size) < 1:
      raise ValueError(f'Hole {spec!r}: a centre hole needs a positive size, e.g. center-8.')
    return Hole('center', int(size))
  if size:
    raise ValueError(f'Hole {spec!r}: only centre holes take a size.')
  return Hole(kind)


def check_fits(hole: str | Hole, height: int, width: int) -> None:
  """Raises ConfigError (naming `hole`) when the hole cannot be cut from height×width images."""
  parsed = parse_hole(hole)
  for part in parsed.parts:
    check_fits(part, height, width)
  if parsed.kind == 'center' and parsed.size >= min(height, width):
    raise ConfigError(f'hole={hole!r} does not fit the data\'s {height}×{width} images: a '
                      f'centre hole must be smaller than {min(height, width)} px.')


def center_box(height: int, width: int, size: int) -> tuple[int, int]:
  """Top-left corner of the PROTOCOL centre hole (one up/left when odd)."""
  if size >= min(height, width):
    raise ValueError(f'A centre hole of {size} px covers the whole {height}×{width} image.')
  return (height - size) // 2, (width - size) // 2


def center_mask(height: int, width: int, size: int) -> np.ndarray:
  """An `(H, W, 1)` float32 mask with the PROTOCOL centre square set to 1.

  A host (numpy) array: inside a jitted step it stays a known constant, which lets
  `harmonic_fill` use its precomputed operator.
  """
  top, left = center_box(height, width, size)
  mask = np.zeros((height, width, 1), np.float32)
  mask[top:top + size, left:left + size] = 1.0
  return mask


def box_mask(key: jax.Array, height: int, width: int) -> jnp.ndarray:
  """A random rectangle with sides uniform in [H/4, H/2] (resp. W), fully inside."""
  k_h, k_w, k_top, k_left = jax.random.split(key, 4)
  box_h = jax.random.randint(k_h, (), height // 4, height // 2 + 1)
  box_w = jax.random.randint(k_w, (), width // 4, width // 2 + 1)
  top = jax.random.randint(k_top, (), 0, height - box_h + 1)
  left = jax.random.randint(k_left, (), 0, width - box_w + 1)
  rows = jnp.arange(height)[:, None]
  cols = jnp.arange(width)[None, :]
  inside = (rows >= top) & (rows < top + box_h) & (cols >= left) & (cols < left + box_w)
  return inside.astype(jnp.float32)[..., None]


def strokes_mask(key: jax.Array, height: int, width: int) -> jnp.ndarray:
  """Brush strokes: random walks of discs until a random 10-40% coverage is reached.

  The walk paints one disc per step; a new stroke starts every `2*H` steps.
  Painting stops as soon as the drawn target coverage is reached, so the final
  coverage overshoots the target by at most one disc (the target is drawn from
  [0.1, 0.36] to keep the result under 40%).
  """
  k_target, k_radius, k_walk = jax.random.split(key, 3)
  target = jax.random.uniform(k_target, (), minval=0.10, maxval=0.36)
  radius = jax.random.uniform(k_radius, (), minval=1.0, maxval=max(1.5, height / 16))
  steps_per_stroke = 2 * height
  n_steps = 8 * steps_per_stroke
  rows = jnp.arange(height, dtype=jnp.float32)[:, None]
  cols = jnp.arange(width, dtype=jnp.float32)[None, :]
  dims = jnp.array([height - 1, width - 1], jnp.float32)

  def paint(carry, inputs):
    mask, pos, angle = carry
    step, k = inputs
    k_start, k_turn = jax.random.split(k)
    new_stroke = step % steps_per_stroke == 0
    pos = jnp.where(new_stroke, jax.random.uniform(k_start, (2,)) * dims, pos)
    angle = angle + jax.random.normal(k_turn) * 0.4
    pos = jnp.clip(pos + jnp.stack([jnp.sin(angle), jnp.cos(angle)]), 0.0, dims)
    disc = (rows - pos[0]) ** 2 + (cols - pos[1]) ** 2 <= radius ** 2
    keep_painting = jnp.mean(mask) < target
    mask = jnp.where(keep_painting & disc, 1.0, mask)
    return (mask, pos, angle), None

  init = (jnp.zeros((height, width), jnp.float32), dims / 2, jnp.float32(0.0))
  keys = jax.random.split(k_walk, n_steps)
  (mask, _, _), _ = jax.lax.scan(paint, init, (jnp.arange(n_steps), keys))
  return mask[..., None]


def make_masks(hole: str | Hole, key: jax.Array, num: int, height: int,
               width: int) -> jnp.ndarray:
  """`num` masks `(N, H, W, 1)` of the given hole kind; one sub-key per mask."""
  hole = parse_hole(hole)
  if hole.kind == 'center':
    return np.broadcast_to(center_mask(height, width, hole.size), (num, height, width, 1))
  return jax.vmap(lambda k: _one_mask(hole, k, height, width))(jax.random.split(key, num))


def _one_mask(hole: Hole, key, height: int, width: int) -> jnp.ndarray:
  """One (H, W, 1) mask of `hole`'s kind (a mix: of one of its kinds, picked by the key)."""
  if hole.kind == 'mix':
    k_pick, k_mask = jax.random.split(key)
    branches = [functools.partial(_one_mask, part, height=height, width=width)
                for part in hole.parts]
    return jax.lax.switch(jax.random.randint(k_pick, (), 0, len(branches)), branches, k_mask)
  if hole.kind == 'center':
    return jnp.asarray(center_mask(height, width, hole.size))
  if hole.kind in freeform.KINDS:
    return freeform.freeform_mask(key, height, width, hole.kind)
  return (box_mask if hole.kind == 'box' else strokes_mask)(key, height, width)


def apply_mask(images: jnp.ndarray, mask: jnp.ndarray, fill) -> jnp.ndarray:
  """Replaces hole pixels by `fill` (a scalar or a per-channel vector)."""
  fill = jnp.asarray(fill, images.dtype)
  return images * (1.0 - mask) + fill * mask


def _jacobi(x: np.ndarray | jnp.ndarray, mask, iterations: int, xp=jnp):
  """`iterations` Jacobi steps: each hole pixel becomes the mean of its 4 neighbours (edges
  replicated); `xp` is jnp (traced) or np (host, for the operator below)."""

  def relax(x):
    p = xp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode='edge')
    neighbours = (p[:, :-2, 1:-1] + p[:, 2:, 1:-1] + p[:, 1:-1, :-2] + p[:, 1:-1, 2:]) / 4
    return x * (1 - mask) + neighbours * mask

  if xp is np:
    for _ in range(iterations):
      x = relax(x)
    return x
  return jax.lax.fori_loop(0, iterations, lambda _, x: relax(x), x)


@functools.lru_cache(maxsize=32)
def _harmonic_operator(mask_bytes: bytes, height: int, width: int, iterations: int):
  """The harmonic fill of one fixed hole as a linear map, computed once on the host.

  The Jacobi iterations are linear in their start, which is the known pixels plus the hole set
  to their mean; and a hole pixel only ever sees the hole and the known pixels next to it (the
  ring). So after any number of iterations the fill of the hole's bounding box is
  `ring values @ A + mean · b`: A and b are the iterations run once on each ring pixel's
  one-hot image and on the mask itself, in float64. Returns (ring rows, ring cols, box, A, b).
  """
  mask = np.frombuffer(mask_bytes, np.float32).reshape(1, height, width, 1).astype(np.float64)
  hole = mask[0, :, :, 0] > 0
  near = np.zeros_like(hole)
  near[1:] |= hole[:-1]
  near[:-1] |= hole[1:]
  near[:, 1:] |= hole[:, :-1]
  near[:, :-1] |= hole[:, 1:]
  ring_r, ring_c = np.nonzero(near & ~hole)
  starts = np.zeros((len(ring_r) + 1, height, width, 1))
  starts[np.arange(len(ring_r)), ring_r, ring_c, 0] = 1.0
  starts[-1] = mask[0]
  out = _jacobi(starts, mask, iterations, np)
  rows, cols = np.nonzero(hole)
  box = (rows.min(), rows.max() + 1, cols.min(), cols.max() + 1)
  out = out[:, box[0]:box[1], box[2]:box[3], 0].reshape(len(starts), -1)
  return ring_r, ring_c, box, out[:-1].astype(np.float32), out[-1].astype(np.float32)


def harmonic_fill(images: jnp.ndarray, mask, iterations: int = 0) -> jnp.ndarray:
  """Fills the hole with the harmonic (Laplace) interpolation of its border, known pixels kept.

  Jacobi iterations: each hole pixel becomes the mean of its 4 neighbours
  (edges replicated), starting from the mean of the known pixels. A cheap,
  jit-able smooth first guess that a model can refine (`config.residual`);
  `iterations` defaults to 3·max(H, W), enough for holes up to about half the image.
  When `mask` is a host (numpy) array with the same hole in every image (a centre hole from
  `make_masks`), the same iterations are applied as one precomputed linear map
  (`_harmonic_operator`): equal to float32 rounding, and ~100 small loop steps fewer in
  every jitted train step.
  """
  n, height, width, _ = images.shape
  iterations = iterations or 3 * max(height, width)
  known = jnp.sum(images * (1 - mask), axis=(1, 2), keepdims=True)
  count = jnp.maximum(jnp.sum(1 - mask, axis=(1, 2), keepdims=True), 1.0)
  mean = known / count
  if isinstance(mask, np.ndarray) and mask.any() and (mask == mask[:1]).all():
    one = np.ascontiguousarray(mask[:1], np.float32)
    ring_r, ring_c, (r0, r1, c0, c1), a, b = _harmonic_operator(one.tobytes(), height, width,
                                                                 iterations)
    ring = images[:, ring_r, ring_c]                                       # (N, R, C)
    box = jnp.einsum('nrc,rp->npc', ring, a) + mean.reshape(n, 1, -1) * b[None, :, None]
    box = box.reshape(n, r1 - r0, c1 - c0, -1)
    box_mask = one[:, r0:r1, c0:c1]
    box = images[:, r0:r1, c0:c1] * (1 - box_mask) + box * box_mask
    return images.at[:, r0:r1, c0:c1].set(box)
  x = apply_mask(images, mask, 0.0) + mask * mean
  return _jacobi(x, mask, iterations)


def _laplacian(x: jnp.ndarray) -> jnp.ndarray:
  """The 5-point Laplacian of an NHWC batch, edges replicated (zero normal derivative)."""
  p = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode='edge')
  return p[:, :-2, 1:-1] + p[:, 2:, 1:-1] + p[:, 1:-1, :-2] + p[:, 1:-1, 2:] - 4 * x


def biharmonic_fill(images: jnp.ndarray, mask, iterations: int = 0) -> jnp.ndarray:
  """Fills the hole with the biharmonic interpolation of the known pixels, known pixels kept.

  The hole's values minimise ||Δu||² over the whole image (the 5-point Laplacian, edges
  replicated) with the known pixels fixed: a linear system in the hole pixels, solved by
  conjugate gradients (per image and channel) from the harmonic fill. Smoother than the
  harmonic fill across a thin stroke — it continues the known gradients instead of meeting
  them with a kink — which is why scikit-image's biharmonic fill beats it on free-form holes.
  Jit-able with any mask (traced per-image masks included). `iterations` defaults to max(H, W)
  CG steps: on CIFAR-10's thick free-form holes 32 steps score 0.4 dB above the converged
  solve (which over-extrapolates gradients into wide holes) and match it on thin ones.
  """
  mask = jnp.asarray(mask, images.dtype)
  iterations = iterations or max(images.shape[1:3])
  grad = jax.grad(lambda u: 0.5 * jnp.sum(_laplacian(u) ** 2))
  hessian = lambda v: mask * grad(mask * v)      # ΔᵀΔ restricted to the hole: linear, SPD.
  dot = lambda a, b: jnp.sum(a * b, axis=(1, 2), keepdims=True)
  u = harmonic_fill(images, mask)
  r = -mask * grad(u)                            # The residual of the hole's normal equations.
  p, rr = r, dot(r, r)

  def step(_, carry):
    u, r, p, rr = carry
    ap = hessian(p)
    alpha = rr / jnp.maximum(dot(p, ap), 1e-30)
    u, r = u + alpha * p, r - alpha * ap
    rr_new = dot(r, r)
    p = r + rr_new / jnp.maximum(rr, 1e-30) * p
    return u, r, p, rr_new

  u = jax.lax.fori_loop(0, iterations, step, (u, r, p, rr))[0]
  return images * (1 - mask) + u * mask


def fill_value(fill, channel_mean):
  """The constant fill for a config's `hole_fill` (a string): a number, or 'mean' (dataset mean).

  ('harmonic' and 'biharmonic' are not constants: see `harmonic_fill` and `biharmonic_fill`;
  they return 0 here, unused.)
  """
  if fill in ('harmonic', 'biharmonic'):
    return 0.0
  if fill == 'mean':
    return jnp.asarray(channel_mean, jnp.float32)
  try:
    return float(fill)
  except ValueError:
    raise ValueError("hole_fill must be a number, 'mean', 'harmonic' or 'biharmonic', got "
                     f"{fill!r}.") from None


def validate_mask(mask, image_shape=None) -> None:
  """Host-side check: rank 4, one channel, and every image has both known and hole pixels."""
  mask = np.asarray(mask)
  if mask.ndim != 4 or mask.shape[-1] != 1:
    raise ValueError(f'A mask must be (N, H, W, 1), got shape {mask.shape}.')
  if image_shape is not None and tuple(mask.shape[1:3]) != tuple(image_shape[1:3]):
    raise ValueError(f'Mask size {mask.shape[1:3]} differs from the image size '
                     f'{tuple(image_shape[1:3])}.')
  holes = mask.reshape(mask.shape[0], -1).sum(axis=1)
  if np.any(holes == 0):
    raise ValueError(f'Mask of image {int(np.argmin(holes))} is empty: nothing to inpaint.')
  if np.any(holes == mask[0].size):
    raise ValueError(f'Mask of image {int(np.argmax(holes))} covers the whole image: '
                     'there is no context to inpaint from.')
