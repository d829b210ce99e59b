"""LaMa's free-form training masks (thin, medium, thick), in jnp, scaled to the image size.

The generator of advimman/lama (`saicinpainting/training/data/masks.py`, configs
`configs/data_gen/random_{thin,medium,thick}_256.yaml`), rewritten as a pure function of a key:
`times` strokes, each of 1–5 straight segments drawn end to end; segment angle
0.01 + randint(max_angle) radians (mirrored as 2π − angle on every other stroke), length
10 + randint(max_len) and width 5 + randint(max_width) pixels; `medium` and `thick` draw, with
probability 0.3 / 1.3, 1–5 (1–3) random boxes instead. Pixel sizes are LaMa's at 256×256
multiplied by min(H, W) / 256 (widths at least 1 px), so a 32×32 image gets the same shapes
at an eighth of the size. As LaMa's data generation (`max_tamper_area: 0.5`), a mask must
cover at most half the image: of `CANDIDATES` draws the first that covers (0, 0.5] is kept,
and if none does (rare), the centre square of half the side.

Coverage, 2,000 masks each on 32×32 images (28×28 and 64×64 alike; tests/test_masks.py
checks the range (0, 50%]): thin 2.5–50% (mean 26%: at 1/8 scale most brushes are the 1 px
minimum, and up to 50 strokes), medium 0.1–50% (22%), thick 0.4–50% (27%).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp

CANDIDATES = 4
SEGMENTS = 5  # LaMa: 1 + randint(5) segments per stroke.


@dataclasses.dataclass(frozen=True)
class FreeForm:
  """One LaMa configuration, in pixels of a 256×256 image."""
  min_times: int
  max_times: int
  max_width: int
  max_len: int
  max_angle: int = 4
  box_proba: float = 0.0
  box_margin: int = 0
  box_min: int = 0
  box_max: int = 0
  box_min_times: int = 0
  box_max_times: int = 0


KINDS = {
    'thin': FreeForm(min_times=4, max_times=50, max_width=10, max_len=40),
    'medium': FreeForm(min_times=4, max_times=5, max_width=50, max_len=100, box_proba=0.3,
                       box_margin=0, box_min=10, box_max=50, box_min_times=1, box_max_times=5),
    'thick': FreeForm(min_times=1, max_times=5, max_width=100, max_len=200, box_proba=0.3,
                      box_margin=10, box_min=30, box_max=150, box_min_times=1, box_max_times=3),
}


def _segment_distance(rows, cols, start, end):
  """Distance of every pixel centre to the segment start→end (y, x), (H, W)."""
  d = end - start
  length2 = jnp.maximum(jnp.sum(d * d), 1e-9)
  t = jnp.clip(((rows - start[0]) * d[0] + (cols - start[1]) * d[1]) / length2, 0.0, 1.0)
  return jnp.sqrt((rows - start[0] - t * d[0]) ** 2 + (cols - start[1] - t * d[1]) ** 2)


def _irregular(key, height, width, p: FreeForm, scale):
  k_times, k_segs, k_start, k_angle, k_len, k_width = jax.random.split(key, 6)
  strokes = p.max_times
  times = jax.random.randint(k_times, (), p.min_times, p.max_times + 1)
  n_segments = 1 + jax.random.randint(k_segs, (strokes,), 0, SEGMENTS)
  start = jnp.floor(jax.random.uniform(k_start, (strokes, 2)) * jnp.array([height, width]))
  angle = 0.01 + jax.random.randint(k_angle, (strokes, SEGMENTS), 0, p.max_angle)
  even = (jnp.arange(strokes) % 2 == 0)[:, None]
  angle = jnp.where(even, 2 * math.pi - angle, angle)
  length = (10 + jax.random.randint(k_len, (strokes, SEGMENTS), 0, p.max_len)) * scale
  brush = jnp.maximum((5 + jax.random.randint(k_width, (strokes, SEGMENTS), 0, p.max_width))
                      * scale, 1.0)
  rows = jnp.arange(height, dtype=jnp.float32)[:, None]
  cols = jnp.arange(width, dtype=jnp.float32)[None, :]
  limit = jnp.array([height, width], jnp.float32)

  def segment(pos, j):
    # LaMa: end = start + length·(cos, sin) in (y, x), truncated to integers, clipped.
    step = jnp.stack([length[:, j] * jnp.cos(angle[:, j]), length[:, j] * jnp.sin(angle[:, j])],
                     axis=-1)
    end = jnp.clip(jnp.trunc(pos + step), 0.0, limit)
    near = jax.vmap(lambda s, e, w: _segment_distance(rows, cols, s, e) <= w / 2)(
        pos, end, brush[:, j])
    active = (jnp.arange(strokes) < times) & (j < n_segments)
    return end, jnp.any(near & active[:, None, None], axis=0)

  _, painted = jax.lax.scan(segment, start, jnp.arange(SEGMENTS))
  return jnp.any(painted, axis=0)


def _boxes(key, height, width, p: FreeForm, scale):
  margin = int(round(p.box_margin * scale))
  low = max(int(round(p.box_min * scale)), 1)
  high = max(min(int(round(p.box_max * scale)), height - 2 * margin, width - 2 * margin), low + 1)
  k_times, k_h, k_w, k_top, k_left = jax.random.split(key, 5)
  n = p.box_max_times
  times = jax.random.randint(k_times, (), p.box_min_times, p.box_max_times + 1)
  box_h = jax.random.randint(k_h, (n,), low, high)
  box_w = jax.random.randint(k_w, (n,), low, high)
  top = margin + jnp.floor(jax.random.uniform(k_top, (n,)) * (height - 2 * margin - box_h + 1))
  left = margin + jnp.floor(jax.random.uniform(k_left, (n,)) * (width - 2 * margin - box_w + 1))
  rows, cols = jnp.arange(height)[None, :, None], jnp.arange(width)[None, None, :]
  inside = ((rows >= top[:, None, None]) & (rows < (top + box_h)[:, None, None])
            & (cols >= left[:, None, None]) & (cols < (left + box_w)[:, None, None]))
  return jnp.any(inside & (jnp.arange(n) < times)[:, None, None], axis=0)


def _draw(key, height, width, p: FreeForm, scale):
  k_kind, k_strokes, k_boxes = jax.random.split(key, 3)
  strokes = _irregular(k_strokes, height, width, p, scale)
  if not p.box_proba:
    return strokes
  boxes = _boxes(k_boxes, height, width, p, scale)
  return jnp.where(jax.random.uniform(k_kind) < p.box_proba / (1 + p.box_proba), boxes, strokes)


def freeform_mask(key: jax.Array, height: int, width: int, kind: str) -> jnp.ndarray:
  """One (H, W, 1) float32 mask of LaMa's `kind` ('thin', 'medium' or 'thick')."""
  p = KINDS[kind]
  scale = min(height, width) / 256.0
  drawn = jax.vmap(lambda k: _draw(k, height, width, p, scale))(
      jax.random.split(key, CANDIDATES))
  coverage = jnp.mean(drawn, axis=(1, 2))
  valid = (coverage > 0) & (coverage <= 0.5)
  side_h, side_w = max(height // 2, 1), max(width // 2, 1)
  rows, cols = jnp.arange(height)[:, None], jnp.arange(width)[None, :]
  top, left = (height - side_h) // 2, (width - side_w) // 2
  fallback = (rows >= top) & (rows < top + side_h) & (cols >= left) & (cols < left + side_w)
  chosen = jnp.where(jnp.any(valid), drawn[jnp.argmax(valid)], fallback)
  return chosen.astype(jnp.float32)[..., None]
