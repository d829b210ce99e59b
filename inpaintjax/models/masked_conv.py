"""Masked convolutions for autoregressive models, and the single-point maps a fast sampler uses.

The generation order is raster order over pixels and R, G, B within a pixel.
Features are split into colour groups (`channel_groups`); at the kernel's
centre, a type 'A' mask lets output group o see input groups before o, type
'B' up to and including o. Off the centre: rows above and, on the centre row,
columns to the left are visible. Type 'V' (a vertical stack, used one row
shifted down) sees every column of the rows up to the centre; 'N' is unmasked.

Besides the usual full-map call, `MaskedConv` computes its output at one pixel
(`point`) or along one row (`row`) from a map padded by `pad`: the fast
sampler keeps each layer's input map in a cache and recomputes only the
positions a new sub-pixel can change.

Every path computes in the layer's `dtype` (bfloat16 for mixed precision): the input, the
masked kernel and the bias are cast to it first, as Flax's own layers do; the parameters
stay float32.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from inpaintjax.models.layers import conv_general_dilated

MASK_TYPES = ('A', 'B', 'V', 'N')


def channel_groups(features: int, colours: int, tile: int = 1) -> np.ndarray:
  """Colour group of each of `features` channels: `tile` repeats of contiguous colour blocks.

  Gates that are split into `tile` chunks (an LSTM's four, a gated unit's two)
  keep the colour grouping within each chunk.
  """
  if features % tile or (features // tile) % colours:
    raise ValueError(f'{features} features do not split into {tile} chunk(s) of {colours} '
                     f'colour groups.')
  chunk = features // tile
  return np.tile(np.arange(chunk) * colours // chunk, tile)


def causal_mask(kernel, in_features: int, out_features: int, colours: int, mask_type: str,
                out_tile: int = 1, in_tile: int = 1) -> np.ndarray:
  """The (kh, kw, in, out) 0/1 mask of a masked convolution; `kernel` is k or (kh, kw)."""
  if mask_type not in MASK_TYPES:
    raise ValueError(f'mask_type must be one of {MASK_TYPES}, got {mask_type!r}.')
  kh, kw = (kernel, kernel) if isinstance(kernel, int) else tuple(kernel)
  mask = np.zeros((kh, kw, in_features, out_features), np.float32)
  cr, cc = kh // 2, kw // 2
  if mask_type == 'N':
    return mask + 1.0
  if mask_type == 'V':
    mask[:cr + 1] = 1.0             # Rows up to the centre: the stack is shifted down a row.
    return mask
  mask[:cr] = 1.0                   # Rows above.
  mask[cr, :cc] = 1.0               # Left of the centre, same row.
  g_in = channel_groups(in_features, colours, in_tile)[:, None]
  g_out = channel_groups(out_features, colours, out_tile)[None, :]
  allowed = g_in < g_out if mask_type == 'A' else g_in <= g_out
  mask[cr, cc] = allowed.astype(np.float32)
  return mask


def pad_map(x: jnp.ndarray, pad: int) -> jnp.ndarray:
  """Zero-pads the H and W axes of an NHWC map by `pad` on every side."""
  return jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))


def get_point(padded: jnp.ndarray, r, c, pad: int) -> jnp.ndarray:
  """The (N, F) vector at pixel (r, c) of a map padded by `pad`."""
  n, _, _, f = padded.shape
  return jax.lax.dynamic_slice(padded, (0, r + pad, c + pad, 0), (n, 1, 1, f))[:, 0, 0]


def put_point(padded: jnp.ndarray, value: jnp.ndarray, r, c, pad: int) -> jnp.ndarray:
  """`padded` with the (N, F) `value` written at pixel (r, c)."""
  return jax.lax.dynamic_update_slice(padded, value[:, None, None].astype(padded.dtype),
                                      (0, r + pad, c + pad, 0))


def put_row(padded: jnp.ndarray, value: jnp.ndarray, r, pad: int) -> jnp.ndarray:
  """`padded` with the (N, W, F) `value` written along row r."""
  return jax.lax.dynamic_update_slice(padded, value[:, None].astype(padded.dtype),
                                      (0, r + pad, pad, 0))


class MaskedConv(nn.Module):
  """A 'SAME' convolution whose kernel is multiplied by `causal_mask`.

  Call with a map (N, H, W, C) for the full output; with `point=(r, c)` and a
  map padded by `pad` for the (N, F) output at that pixel; with `row=r` for the
  (N, W, F) output along that row.
  """
  features: int
  kernel: int | tuple[int, int]
  mask_type: str
  colours: int = 3
  out_tile: int = 1
  in_tile: int = 1
  use_bias: bool = True
  dtype: Any = jnp.float32  # Computation dtype; parameters stay float32.

  @nn.compact
  def __call__(self, x: jnp.ndarray, point=None, row=None, pad: int = 0) -> jnp.ndarray:
    kh, kw = (self.kernel, self.kernel) if isinstance(self.kernel, int) else self.kernel
    mask = causal_mask((kh, kw), x.shape[-1], self.features, self.colours, self.mask_type,
                       self.out_tile, self.in_tile)
    w = self.param('kernel', nn.initializers.lecun_normal(), mask.shape) * mask
    b = self.param('bias', nn.initializers.zeros, (self.features,)) if self.use_bias else 0.0
    # The mask is 0/1, so masking before the cast is exact.
    x, w, b = x.astype(self.dtype), w.astype(self.dtype), jnp.asarray(b, self.dtype)
    if point is not None:
      r, c = point
      window = jax.lax.dynamic_slice(x, (0, r + pad - kh // 2, c + pad - kw // 2, 0),
                                     (x.shape[0], kh, kw, x.shape[-1]))
      return jnp.einsum('nhwi,hwio->no', window, w) + b
    if row is not None:
      width = x.shape[2] - 2 * pad
      slab = jax.lax.dynamic_slice(x, (0, row + pad - kh // 2, pad - kw // 2, 0),
                                   (x.shape[0], kh, width + 2 * (kw // 2), x.shape[-1]))
      out = conv_general_dilated(slab, w, (1, 1), 'VALID',
                                 dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
      return out[:, 0] + b
    out = conv_general_dilated(x, w, (1, 1), 'SAME',
                               dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
    return out + b
