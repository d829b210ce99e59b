"""PixelCNN and Gated PixelCNN: 256-way logits per sub-pixel, R → G → B within a pixel.

`PixelCNN` is the source's model: a type-A masked convolution (a 5×5 causal
neighbourhood), then type-B 3×3 layers (optionally residual), then two 1×1
layers to 256 logits per colour. It has the classic blind spot (pixels up and
to the right fall out of the receptive field as it grows). `GatedPixelCNN`
(van den Oord et al., 2016) has no blind spot: a vertical stack sees whole rows
above (shifted down one row), a horizontal stack sees the row to the left, and
both use tanh·sigmoid gates.

Both models have three methods for the fast sampler (`inpaintjax/autoregressive.py`):
`prefill(x)` caches every layer's input map, `point(cache, x, r, c)` recomputes
every layer at one pixel and returns its (N, C, 256) logits, and
`row_end(cache, x, r)` updates what depends on a whole row (the vertical stack), and
`refresh_row(cache, x, r)` recomputes every per-pixel state along row r at once, so that the
sampler visits only the columns that hold a hole.

A conditional PixelCNN (`context` > 0) also sees everything known around the hole, below it
too: a `ContextNet` of dilated convolutions reads `context` (the image with its hole filled
harmonically, and the mask; `inpaintjax.autoregressive.context_input`) and a 1×1 projection of
its features is added to every layer, like the conditioning maps of van den Oord et al. (2016).
The context holds no hole pixel, so causality over the hole is untouched; it is computed once
per fill and cached.

Every layer computes in `dtype` (bfloat16 for mixed precision; the sampler's cached maps are
then bfloat16 too), the parameters stay float32, and the 256-way logits are float32, so the
softmax and the cross-entropy are.
"""

from __future__ import annotations

import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from inpaintjax.models.layers import Conv, activation
from inpaintjax.models.masked_conv import (MaskedConv, causal_mask, channel_groups, get_point,
                                           pad_map, put_point, put_row)

__all__ = ['PixelCNN', 'GatedPixelCNN', 'MaskedConv', 'causal_mask', 'channel_groups']


class _Head(nn.Module):
  """Two 1×1 type-B layers to float32 256-way logits per colour; works on maps or (N, F)
  vectors."""
  colours: int
  features: int
  act: str = 'relu'
  dtype: Any = jnp.float32  # Computation dtype; parameters stay float32.

  @nn.compact
  def __call__(self, h: jnp.ndarray) -> jnp.ndarray:
    act = activation(self.act)
    vector = h.ndim == 2
    if vector:
      h = h[:, None, None]
    h = MaskedConv(self.features, 1, 'B', self.colours, dtype=self.dtype)(act(h))
    logits = MaskedConv(256 * self.colours, 1, 'B', self.colours, dtype=self.dtype)(act(h))
    logits = logits.astype(jnp.float32)  # The 256-way softmax needs float32.
    # Output features are grouped by colour in contiguous blocks of 256.
    logits = logits.reshape(*logits.shape[:-1], self.colours, 256)
    return logits[:, 0, 0] if vector else logits


class ContextNet(nn.Module):
  """Context (N, H, W, C + 1) → features (N, H, W, width) that see the whole image.

  3×3 convolutions dilated 1, 2, 4, 8, 1: a 31×31 receptive field, so every hole pixel of a
  32×32 image sees the known pixels on all four sides of an 8×8 hole.
  """
  width: int = 64
  act: str = 'relu'
  dilations: tuple = (1, 2, 4, 8, 1)
  dtype: Any = jnp.float32  # Computation dtype; parameters stay float32.

  @nn.compact
  def __call__(self, context: jnp.ndarray) -> jnp.ndarray:
    act, h = activation(self.act), context
    for d in self.dilations:
      h = act(Conv(self.width, (3, 3), kernel_dilation=(d, d), dtype=self.dtype)(h))
    return h


class PixelCNN(nn.Module):
  """Images (N, H, W, C) in [0, 1] → logits (N, H, W, C, 256); `context` if conditional."""
  out_channels: int = 3
  features: int = 96
  layers: int = 6
  first_kernel: int = 5
  kernel: int = 3
  residual: bool = False
  dropout: float = 0.0
  act: str = 'relu'
  context: int = 0  # > 0: a conditional PixelCNN with a ContextNet this wide.
  dtype: Any = jnp.float32  # Computation dtype; parameters stay float32.

  def setup(self):
    c = self.out_channels
    if self.features % c:
      raise ValueError(f'features ({self.features}) must be divisible by the {c} colours.')
    conv = functools.partial(MaskedConv, dtype=self.dtype)
    self.first = conv(self.features, self.first_kernel, 'A', c)
    self.hidden = [conv(self.features, self.kernel, 'B', c) for _ in range(self.layers)]
    self.head = _Head(c, self.features, self.act, dtype=self.dtype)
    self.drop = nn.Dropout(self.dropout)
    if self.context:
      self.context_net = ContextNet(self.context, self.act, dtype=self.dtype)
      # One projection per layer (the first and each hidden one), added to its output. Zero
      # at initialisation: a conditional model warm-started from an unconditional one
      # (config.init_from) starts as that model and learns how much to use the context.
      self.context_proj = [nn.Dense(self.features, kernel_init=nn.initializers.zeros,
                                    dtype=self.dtype) for _ in range(self.layers + 1)]

  @property
  def _pad(self) -> int:
    return max(self.first_kernel, self.kernel) // 2

  def _context_maps(self, context):
    """Per-layer conditioning maps (N, H, W, features), or None for an unconditional model."""
    if not self.context:
      if context is not None:
        raise ValueError('This PixelCNN is unconditional (model.context = 0): it takes no '
                         'context.')
      return None
    if context is None:
      raise ValueError('This PixelCNN is conditional (model.context > 0): pass context='
                       'autoregressive.context_input(images, mask).')
    features = self.context_net(context)
    return [proj(features) for proj in self.context_proj]

  def _trunk(self, x, train=False, ctx=None):
    """The last hidden map and every hidden layer's input (after the activation)."""
    act = activation(self.act)
    h = self.first(2.0 * x - 1.0) + (ctx[0] if ctx else 0.0)
    inputs = []
    for i, conv in enumerate(self.hidden):
      inputs.append(act(h))
      y = self.drop(conv(inputs[-1]), deterministic=not train) + (ctx[i + 1] if ctx else 0.0)
      h = h + y if self.residual else y
    return h, inputs

  def __call__(self, x: jnp.ndarray, train: bool = False, context=None) -> jnp.ndarray:
    return self.head(self._trunk(x, train, self._context_maps(context))[0])

  def prefill(self, x: jnp.ndarray, first_row=0, context=None) -> dict:
    del first_row  # Every cached map is exact up to the first changed pixel.
    ctx = self._context_maps(context)
    return {'inputs': [pad_map(a, self._pad) for a in self._trunk(x, ctx=ctx)[1]],
            'ctx': ctx or []}

  def _update(self, cache: dict, x: jnp.ndarray, r, c=None):
    """Every layer at pixel (r, c), or along row r when `c` is None: (last hidden, cache)."""
    act, p = activation(self.act), self._pad
    where = {'row': r} if c is None else {'point': (r, c)}
    put = (lambda m, v: put_row(m, v, r, p)) if c is None else (
        lambda m, v: put_point(m, v, r, c, p))
    # The conditioning at (r, c) or along row r; nothing for an unconditional model.
    ctx = [(jax.lax.dynamic_index_in_dim(m, r, 1, keepdims=False) if c is None
            else get_point(m, r, c, 0)) for m in cache['ctx']] or [0.0] * (self.layers + 1)
    h = self.first(pad_map(2.0 * x - 1.0, p), pad=p, **where) + ctx[0]
    inputs = list(cache['inputs'])
    for i, conv in enumerate(self.hidden):
      inputs[i] = put(inputs[i], act(h))
      y = conv(inputs[i], pad=p, **where) + ctx[i + 1]
      h = h + y if self.residual else y
    return h, {**cache, 'inputs': inputs}

  def point(self, cache: dict, x: jnp.ndarray, r, c):
    h, cache = self._update(cache, x, r, c)
    return self.head(h), cache

  def refresh_row(self, cache: dict, x: jnp.ndarray, r) -> dict:
    """Every layer's input along row r, recomputed from the current image and rows above."""
    return self._update(cache, x, r)[1]

  def row_end(self, cache: dict, x: jnp.ndarray, r) -> dict:
    del x, r
    return cache


def _gate(a: jnp.ndarray) -> jnp.ndarray:
  """tanh(first half) · sigmoid(second half) of the last axis."""
  half = a.shape[-1] // 2
  return jnp.tanh(a[..., :half]) * nn.sigmoid(a[..., half:])


def _shift_down(x: jnp.ndarray) -> jnp.ndarray:
  """Row r takes row r − 1; row 0 is zeros."""
  return jnp.pad(x, ((0, 0), (1, 0), (0, 0), (0, 0)))[:, :-1]


class GatedPixelCNN(nn.Module):
  """Gated PixelCNN without a blind spot: images (N, H, W, C) in [0, 1] → (N, H, W, C, 256)."""
  out_channels: int = 3
  features: int = 96
  layers: int = 6
  first_kernel: int = 5
  kernel: int = 3
  dropout: float = 0.0
  act: str = 'relu'
  dtype: Any = jnp.float32  # Computation dtype; parameters stay float32.

  def setup(self):
    c, f = self.out_channels, self.features
    if f % c:
      raise ValueError(f'features ({f}) must be divisible by the {c} colours.')
    kernels = [self.first_kernel] + [self.kernel] * (self.layers - 1)
    conv = functools.partial(MaskedConv, dtype=self.dtype)
    self.v_convs = [conv(2 * f, k, 'V', c) for k in kernels]
    self.h_convs = [conv(2 * f, (1, k), 'A' if i == 0 else 'B', c, out_tile=2)
                    for i, k in enumerate(kernels)]
    # The vertical stack (shifted down) only holds rows above: it may feed every colour group.
    self.links = [conv(2 * f, 1, 'N', c) for _ in kernels]
    self.h_outs = [conv(f, 1, 'B', c) for _ in kernels]
    self.head = _Head(c, f, self.act, dtype=self.dtype)
    self.drop = nn.Dropout(self.dropout)

  @property
  def _pad(self) -> int:
    return max(self.first_kernel, self.kernel) // 2

  def _stacks(self, x, train=False):
    """Last horizontal map; each layer's vertical input, horizontal input and v pre-gate."""
    v = h = 2.0 * x - 1.0
    v_in, h_in, v_pre = [], [], []
    for i in range(self.layers):
      v_in.append(v)
      h_in.append(h)
      pre = self.v_convs[i](v)
      v_pre.append(pre)
      g = _gate(self.h_convs[i](h) + self.links[i](_shift_down(pre)))
      g = self.drop(g, deterministic=not train)
      h = self.h_outs[i](g) + (h if i else 0.0)
      v = _gate(pre)
    return h, v_in, h_in, v_pre

  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    return self.head(self._stacks(x, train)[0])

  def prefill(self, x: jnp.ndarray, first_row=0) -> dict:
    del first_row
    _, v_in, h_in, v_pre = self._stacks(x)
    p = self._pad
    # v_above[i] row r holds layer i's vertical pre-gate at row r − 1 (zeros above row 0).
    return {'v_in': [pad_map(v, p) for v in v_in[1:]], 'h_in': [pad_map(h, p) for h in h_in[1:]],
            'v_above': [jnp.pad(v, ((0, 0), (1, 0), (0, 0), (0, 0))) for v in v_pre]}

  def point(self, cache: dict, x: jnp.ndarray, r, c):
    p = self._pad
    h_in = list(cache['h_in'])
    src = pad_map(2.0 * x - 1.0, p)
    h = None
    for i in range(self.layers):
      if i:
        h_in[i - 1] = put_point(h_in[i - 1], h, r, c, p)
        src = h_in[i - 1]
      above = get_point(cache['v_above'][i], r, c, 0)
      g = _gate(self.h_convs[i](src, point=(r, c), pad=p)
                + self.links[i](above[:, None, None])[:, 0, 0])
      h = self.h_outs[i](g[:, None, None])[:, 0, 0] + (h if i else 0.0)
    return self.head(h), {**cache, 'h_in': h_in}

  def refresh_row(self, cache: dict, x: jnp.ndarray, r) -> dict:
    """The horizontal stack's inputs along row r, from the current image and rows above."""
    p = self._pad
    h_in = list(cache['h_in'])
    src = pad_map(2.0 * x - 1.0, p)
    h = None
    for i in range(self.layers):
      if i:
        h_in[i - 1] = put_row(h_in[i - 1], h, r, p)
        src = h_in[i - 1]
      above = jax.lax.dynamic_slice_in_dim(cache['v_above'][i], r, 1, axis=1)  # (N, 1, W, 2F)
      g = _gate(self.h_convs[i](src, row=r, pad=p) + self.links[i](above)[:, 0])
      h = self.h_outs[i](g[:, None])[:, 0] + (h if i else 0.0)
    return {**cache, 'h_in': h_in}

  def row_end(self, cache: dict, x: jnp.ndarray, r) -> dict:
    """The vertical stack along row r, now that the row is complete."""
    p = self._pad
    v_in, v_above = list(cache['v_in']), list(cache['v_above'])
    src = pad_map(2.0 * x - 1.0, p)
    for i in range(self.layers):
      pre = self.v_convs[i](src, row=r, pad=p)
      v_above[i] = put_row(v_above[i], pre, r + 1, 0)
      if i + 1 < self.layers:
        v_in[i] = put_row(v_in[i], _gate(pre), r, p)
        src = v_in[i]
    return {**cache, 'v_in': v_in, 'v_above': v_above}
