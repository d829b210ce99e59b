"""Filling holes with an autoregressive model, one sub-pixel at a time in raster order.

`fill` is the fast sampler: one jitted computation for a whole batch. It runs
the model once over the image (`prefill`, caching every layer's maps), then
walks the rows that hold a hole, pixel by pixel, recomputing only that pixel's
states from the cache (`point`) and, at the end of each row, what depends on a
whole row (`row_end`: the gated PixelCNN's vertical stack, the Diagonal
BiLSTM's right-to-left direction). A pixel in the hole takes one point update
per colour, R then G then B, each sampled from its 256-way softmax; a known
pixel takes one update, to refresh the cache. A model with `refresh_row`
(PixelCNN, Gated PixelCNN, Row LSTM: no state depends on the same row's states
to its left except through the input) visits only the columns between a row's
first and last hole pixel, and refreshes the rest of the row in one batched
step per layer before and after them. Rows above the first hole row
are never recomputed, and known pixels are never written.

A conditional model (`model.context`, the conditional PixelCNN) also reads the known pixels
on every side of the hole through `context_input`, computed once from the image and the mask:
the hole filled harmonically, or with a first guess that the caller passes (`guess`, e.g.
another run's inpainting: configs/pixelcnn.py's `context_run`).

`plain_fill` is what public tutorials do, kept as the reference and the
benchmark's baseline: a Python loop that reruns the whole model for every
sub-pixel of the hole.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from inpaintjax.data import masks


def choose(logits: jnp.ndarray, key, temperature: float) -> jnp.ndarray:
  """Values 0..255 from (N, 256) logits: argmax at temperature 0, else a softmax sample."""
  if temperature <= 0:
    return jnp.argmax(logits, axis=-1)
  return jax.random.categorical(key, logits / temperature, axis=-1)


def context_input(images: jnp.ndarray, mask: jnp.ndarray, guess=None) -> jnp.ndarray:
  """What a conditional model sees: the known pixels with the hole filled — harmonically, or
  from `guess` (images in [0, 1] that must not depend on the hole's true pixels) — scaled to
  [-1, 1], and the mask: (N, H, W, C + 1). No hole pixel of `images` enters it."""
  images, mask = images.astype(jnp.float32), mask.astype(jnp.float32)
  if guess is None:
    filled = masks.harmonic_fill(images, mask)
  else:
    filled = images * (1.0 - mask) + jax.lax.stop_gradient(guess).astype(jnp.float32) * mask
  return jnp.concatenate([2.0 * filled - 1.0, mask], axis=-1)


def conditional(model) -> bool:
  """Whether `model` reads a context (a conditional PixelCNN)."""
  return bool(getattr(model, 'context', 0))


def hole_rows(mask: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
  """First and last row (over the batch) that holds a missing pixel."""
  rows = jnp.any(mask[..., 0] > 0, axis=(0, 2))
  first = jnp.argmax(rows)
  last = rows.shape[0] - 1 - jnp.argmax(rows[::-1])
  return first, last


def fill(model, variables, images: jnp.ndarray, mask: jnp.ndarray, key=None,
         temperature: float = 0.0, guess=None) -> jnp.ndarray:
  """Images (N, H, W, C) in [0, 1] with the hole (`mask` (N, H, W, 1), 1 = missing) generated.

  Greedy at `temperature` 0, else sampled; `key` seeds the samples (one per sub-pixel,
  folded from it). Jit the caller: this is one traced computation, loops included.
  """
  _, _, width, colours = images.shape
  key = jax.random.PRNGKey(0) if key is None else key
  apply = lambda method, *args: model.apply(variables, *args, method=method)  # noqa: E731
  first, last = hole_rows(mask)
  x = images.astype(jnp.float32)
  if conditional(model):
    cache = apply(model.prefill, x, first, context_input(x, mask, guess))
  else:
    cache = apply(model.prefill, x, first)

  def pixel(c, carry, r):
    x, cache = carry
    hole = mask[:, r, c, 0] > 0

    def generate(x):
      new_cache = cache
      for ch in range(colours):
        logits, new_cache = apply(model.point, cache, x, r, c)
        sub_key = jax.random.fold_in(key, (r * width + c) * colours + ch)
        value = choose(logits[:, ch], sub_key, temperature).astype(jnp.float32) / 255.0
        old = x[:, r, c, ch]
        x = x.at[:, r, c, ch].set(jnp.where(hole, value, old))
      return x, new_cache

    def refresh(x):
      return x, apply(model.point, cache, x, r, c)[1]

    return jax.lax.cond(jnp.any(hole), generate, refresh, x)

  refresh_row = getattr(model, 'refresh_row', None)

  def row(r, carry):
    if refresh_row is None:  # Every pixel of the row keeps its states current.
      lo, hi = 0, width - 1
    else:
      # Only the columns from the row's first to its last hole pixel (over the batch) are
      # visited; the known pixels outside them are refreshed a whole row at a time: before
      # (the rows above have changed) and after (the hole pixels to their left have).
      cols = jnp.any(mask[:, r, :, 0] > 0, axis=0)
      lo = jnp.where(jnp.any(cols), jnp.argmax(cols), width)
      hi = width - 1 - jnp.argmax(cols[::-1])
      carry = carry[0], apply(refresh_row, carry[1], carry[0], r)
    x, cache = jax.lax.fori_loop(lo, hi + 1, lambda c, carry: pixel(c, carry, r), carry)
    if refresh_row is not None:
      cache = apply(refresh_row, cache, x, r)
    return x, apply(model.row_end, cache, x, r)

  x, _ = jax.lax.fori_loop(first, last + 1, row, (x, cache))
  return x


def plain_fill(model, variables, images, mask, key=None, temperature: float = 0.0,
               guess=None) -> np.ndarray:
  """The reference: for every sub-pixel of the hole, rerun the whole (jitted) model."""
  key = jax.random.PRNGKey(0) if key is None else key
  x = jnp.asarray(images, jnp.float32)
  extra = ({'context': context_input(x, jnp.asarray(mask), guess)} if conditional(model)
           else {})
  logits_fn = jax.jit(lambda x: model.apply(variables, x, **extra))
  mask = np.asarray(mask)
  _, height, width, colours = x.shape
  for r in range(height):
    for c in range(width):
      hole = mask[:, r, c, 0] > 0
      if not hole.any():
        continue
      for ch in range(colours):
        sub_key = jax.random.fold_in(key, (r * width + c) * colours + ch)
        value = choose(logits_fn(x)[:, r, c, ch], sub_key, temperature) / 255.0
        x = x.at[:, r, c, ch].set(jnp.where(hole, value, x[:, r, c, ch]))
  return np.asarray(x)
