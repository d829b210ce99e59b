"""PixelRNN (van den Oord et al., 2016): Row LSTM and Diagonal BiLSTM.

Row LSTM: each layer's gates are a masked 1×k convolution along the row of its
input (type A in the first layer, B after) plus a 1×k convolution over the
previous row's hidden states; the cell state runs down each column. Computed
row by row with `lax.scan`; its receptive field is a triangle above.

Diagonal BiLSTM: the input-to-state part is a masked 1×1 convolution; the
state-to-state part sees the states left of and above each pixel, which the
skew (row r shifted right by r) turns into the previous column, so one
`lax.scan` over the H + W − 1 skewed columns covers a whole diagonal per step.
A second direction runs right to left and is shifted down one row so that it
never sees the future; the layer's output is the sum of both.

Both keep every layer's states in a cache for the fast sampler: `point`
recomputes one pixel's states from its neighbours', `row_end` runs the
right-to-left direction along a finished row, and the Row LSTM's `refresh_row` recomputes a
whole row's states at once (its states depend on the row above only, besides the input).

Mixed precision (`dtype` bfloat16): the convolutions, the state-to-state products, the gates
and the hidden states are computed in `dtype`; the cell states are kept in float32 (they
accumulate along a whole column or diagonal, where bfloat16's 8 significant bits would lose the
small increments), and so are the parameters and the logits.
"""

from __future__ import annotations

import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from inpaintjax.models.masked_conv import MaskedConv, get_point, pad_map, put_point, put_row
from inpaintjax.models.pixelcnn import _Head, _shift_down


def lstm_update(gates: jnp.ndarray, cell: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
  """(h, c) from gates [i, f, o, g] (four chunks of the last axis) and the previous cell.

  The gates are computed in their dtype; the new cell takes the wider of the two dtypes (a
  float32 cell stays float32 under bfloat16 gates) and h the gates' dtype.
  """
  i, f, o, g = jnp.split(gates, 4, axis=-1)
  cell = nn.sigmoid(f) * cell + nn.sigmoid(i) * jnp.tanh(g)
  return (nn.sigmoid(o) * jnp.tanh(cell)).astype(gates.dtype), cell


def lstm_zeros(shape, dtype) -> tuple[jnp.ndarray, jnp.ndarray]:
  """The zero (h, c) carry: h in the computation dtype, the cell in float32."""
  return jnp.zeros(shape, dtype), jnp.zeros(shape, jnp.float32)


def _row_conv(h_row: jnp.ndarray, kernel: jnp.ndarray) -> jnp.ndarray:
  """1-D 'SAME' convolution along a row: (N, W, F) with (k, F, G) → (N, W, G).

  A sum of k shifted matrix products rather than lax.conv: inside the Row LSTM's scan
  on CPU its gradient is about 7× faster (XLA's small 1-D convolutions are slow there).
  """
  k, width = kernel.shape[0], h_row.shape[1]
  left = (k - 1) // 2  # 'SAME' padding, as lax.conv pads.
  padded = jnp.pad(h_row, ((0, 0), (left, k - 1 - left), (0, 0)))
  return sum(jnp.einsum('nwf,fg->nwg', padded[:, j:j + width], kernel[j]) for j in range(k))


class RowLSTM(nn.Module):
  """Images (N, H, W, C) in [0, 1] → logits (N, H, W, C, 256)."""
  out_channels: int = 3
  features: int = 48
  layers: int = 2
  kernel: int = 3
  residual: bool = True
  act: str = 'relu'
  dtype: Any = jnp.float32  # Computation dtype (the cells stay float32, see the docstring).

  def setup(self):
    c, f = self.out_channels, self.features
    if f % c:
      raise ValueError(f'features ({f}) must be divisible by the {c} colours.')
    conv = functools.partial(MaskedConv, dtype=self.dtype)
    self.input_convs = [conv(4 * f, (1, self.kernel), 'A' if i == 0 else 'B', c, out_tile=4)
                        for i in range(self.layers)]
    # The previous row is all in the past: its state-to-state kernel needs no mask.
    self.state_kernels = [self.param(f'state_kernel_{i}', nn.initializers.lecun_normal(),
                                     (self.kernel, f, 4 * f)) for i in range(self.layers)]
    self.head = _Head(c, f, self.act, dtype=self.dtype)

  def _state_kernel(self, i: int) -> jnp.ndarray:
    return self.state_kernels[i].astype(self.dtype)

  def _layers(self, x):
    """The last layer's output and every layer's input, hidden and cell maps."""
    n, height, width, _ = x.shape
    inp = 2.0 * x - 1.0
    record = {'inputs': [], 'hidden': [], 'cells': []}
    for i in range(self.layers):
      gates_in = self.input_convs[i](inp)
      kernel = self._state_kernel(i)

      def step(carry, g_row, kernel=kernel):
        h, cell = lstm_update(g_row + _row_conv(carry[0], kernel), carry[1])
        return (h, cell), (h, cell)

      carry = lstm_zeros((n, width, self.features), self.dtype)
      _, (hs, cs) = jax.lax.scan(step, carry, jnp.swapaxes(gates_in, 0, 1))
      hs, cs = jnp.swapaxes(hs, 0, 1), jnp.swapaxes(cs, 0, 1)
      record['inputs'].append(inp)
      record['hidden'].append(hs)
      record['cells'].append(cs)
      inp = hs + inp if self.residual and i else hs
    return inp, record

  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    del train
    return self.head(self._layers(x)[0])

  def prefill(self, x: jnp.ndarray, first_row=0) -> dict:
    del first_row
    p = self.kernel // 2
    record = self._layers(x)[1]
    return {'inputs': [pad_map(m, p) for m in record['inputs'][1:]],
            'hidden': [pad_map(m, p) for m in record['hidden']],
            'cells': [pad_map(m, p) for m in record['cells']]}

  def point(self, cache: dict, x: jnp.ndarray, r, c):
    p, k = self.kernel // 2, self.kernel
    inputs, hidden, cells = list(cache['inputs']), list(cache['hidden']), list(cache['cells'])
    src = pad_map(2.0 * x - 1.0, p)
    out = None
    for i in range(self.layers):
      if i:
        inputs[i - 1] = put_point(inputs[i - 1], out, r, c, p)
        src = inputs[i - 1]
      above = jax.lax.dynamic_slice(hidden[i], (0, r - 1 + p, c, 0),
                                    (x.shape[0], 1, k, self.features))[:, 0]
      gates = (self.input_convs[i](src, point=(r, c), pad=p)
               + jnp.einsum('nwf,wfg->ng', above, self._state_kernel(i)))
      h, cell = lstm_update(gates, get_point(cells[i], r - 1, c, p))
      hidden[i] = put_point(hidden[i], h, r, c, p)
      cells[i] = put_point(cells[i], cell, r, c, p)
      out = h + get_point(src, r, c, p) if self.residual and i else h
    return self.head(out), {'inputs': inputs, 'hidden': hidden, 'cells': cells}

  def refresh_row(self, cache: dict, x: jnp.ndarray, r) -> dict:
    """Every layer's states along row r at once, from the current image and the row above."""
    p, width = self.kernel // 2, x.shape[2]
    inputs, hidden, cells = list(cache['inputs']), list(cache['hidden']), list(cache['cells'])
    src = pad_map(2.0 * x - 1.0, p)
    out = None
    for i in range(self.layers):
      if i:
        inputs[i - 1] = put_row(inputs[i - 1], out, r, p)
        src = inputs[i - 1]
      above = jax.lax.dynamic_slice_in_dim(hidden[i], r - 1 + p, 1, axis=1)[:, 0, p:p + width]
      cell_above = jax.lax.dynamic_slice_in_dim(cells[i], r - 1 + p, 1, axis=1)[:, 0, p:p + width]
      gates = self.input_convs[i](src, row=r, pad=p) + _row_conv(above, self._state_kernel(i))
      h, cell = lstm_update(gates, cell_above)
      hidden[i], cells[i] = put_row(hidden[i], h, r, p), put_row(cells[i], cell, r, p)
      row_src = jax.lax.dynamic_slice_in_dim(src, r + p, 1, axis=1)[:, 0, p:p + width]
      out = h + row_src if self.residual and i else h
    return {'inputs': inputs, 'hidden': hidden, 'cells': cells}

  def row_end(self, cache: dict, x: jnp.ndarray, r) -> dict:
    del x, r
    return cache


def skew(x: jnp.ndarray) -> jnp.ndarray:
  """(N, H, W, F) → (N, H, W + H − 1, F) with row r shifted right by r.

  Pad each row with H zeros and reflow the rows at width W + H − 1: each row then
  starts one place further right (a reshape, no scatter: its gradient is cheap too).
  """
  n, height, width, f = x.shape
  flat = jnp.pad(x, ((0, 0), (0, 0), (0, height), (0, 0))).reshape(n, height * (width + height), f)
  return flat[:, :height * (width + height - 1)].reshape(n, height, width + height - 1, f)


def unskew(x: jnp.ndarray, width: int) -> jnp.ndarray:
  """The inverse of `skew`: the reflow undone, then the padding dropped."""
  n, height, skewed_width, f = x.shape
  flat = jnp.pad(x.reshape(n, height * skewed_width, f), ((0, 0), (0, height), (0, 0)))
  return flat.reshape(n, height, skewed_width + 1, f)[:, :, :width]


def diagonal_lstm(gates_in: jnp.ndarray, w_up: jnp.ndarray, w_side: jnp.ndarray):
  """Left-to-right diagonal LSTM: state (r, c) from (r, c − 1) and (r − 1, c).

  Returns the hidden and cell maps, (N, H, W, F) each: h in the gates' dtype (the weights are
  cast to it), the cells in float32.
  """
  n, height, width, _ = gates_in.shape
  f = w_up.shape[0]
  w_up, w_side = w_up.astype(gates_in.dtype), w_side.astype(gates_in.dtype)
  skewed = jnp.moveaxis(skew(gates_in), 2, 0)           # (columns, N, H, 4F)
  cols, rows = jnp.arange(skewed.shape[0])[:, None], jnp.arange(height)[None, :]
  # Skewed positions outside the image stay zero: they are the image's left border.
  valid = ((cols >= rows) & (cols < rows + width))[:, None, :, None]
  w_state = jnp.concatenate([w_up, w_side], axis=0)    # One matmul for both neighbours.

  def step(carry, inputs):
    valid_col, g_col = inputs
    h, cell = carry                                      # The previous column, (N, H, F).
    up = jnp.pad(h, ((0, 0), (1, 0), (0, 0)))[:, :-1]   # Row i − 1 of the previous column.
    h_new, c_new = lstm_update(g_col + jnp.concatenate([up, h], axis=-1) @ w_state, cell)
    h_new, c_new = jnp.where(valid_col, h_new, 0.0), jnp.where(valid_col, c_new, 0.0)
    return (h_new, c_new), (h_new, c_new)

  _, (hs, cs) = jax.lax.scan(step, lstm_zeros((n, height, f), gates_in.dtype), (valid, skewed))
  return unskew(jnp.moveaxis(hs, 0, 2), width), unskew(jnp.moveaxis(cs, 0, 2), width)


class DiagonalBiLSTM(nn.Module):
  """Images (N, H, W, C) in [0, 1] → logits (N, H, W, C, 256)."""
  out_channels: int = 3
  features: int = 48
  layers: int = 2
  residual: bool = True
  act: str = 'relu'
  dtype: Any = jnp.float32  # Computation dtype (the cells stay float32, see the docstring).

  def setup(self):
    c, f = self.out_channels, self.features
    if f % c:
      raise ValueError(f'features ({f}) must be divisible by the {c} colours.')

    def convs():
      return [MaskedConv(4 * f, 1, 'A' if i == 0 else 'B', c, out_tile=4, dtype=self.dtype)
              for i in range(self.layers)]

    def kernels(name):
      return [self.param(f'{name}_{i}', nn.initializers.lecun_normal(), (f, 4 * f))
              for i in range(self.layers)]

    self.fwd_convs, self.bwd_convs = convs(), convs()
    self.fwd_up, self.fwd_side = kernels('fwd_up'), kernels('fwd_side')
    self.bwd_up, self.bwd_side = kernels('bwd_up'), kernels('bwd_side')
    self.head = _Head(c, f, self.act, dtype=self.dtype)

  def _cast(self, w: jnp.ndarray) -> jnp.ndarray:
    return w.astype(self.dtype)

  def _layers(self, x):
    """The last layer's output; each layer's input, forward (h, c) and backward h maps."""
    inp = 2.0 * x - 1.0
    record = {'inputs': [], 'fwd_h': [], 'fwd_c': [], 'bwd_h': []}
    for i in range(self.layers):
      fwd_h, fwd_c = diagonal_lstm(self.fwd_convs[i](inp), self.fwd_up[i], self.fwd_side[i])
      bwd_h, _ = diagonal_lstm(self.bwd_convs[i](inp)[:, :, ::-1], self.bwd_up[i],
                               self.bwd_side[i])
      bwd_h = bwd_h[:, :, ::-1]
      for k, v in zip(record, (inp, fwd_h, fwd_c, bwd_h)):
        record[k].append(v)
      out = fwd_h + _shift_down(bwd_h)
      inp = out + inp if self.residual and i else out
    return inp, record

  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    del train
    return self.head(self._layers(x)[0])

  def prefill(self, x: jnp.ndarray, first_row=0) -> dict:
    del first_row
    record = self._layers(x)[1]
    # bwd_h[i] row r holds the right-to-left states of row r − 1 (zeros above row 0); the
    # backward cell states are only needed within a row, so they are not kept.
    return {'inputs': record['inputs'][1:],
            'fwd_h': [pad_map(m, 1) for m in record['fwd_h']],
            'fwd_c': [pad_map(m, 1) for m in record['fwd_c']],
            'bwd_h': [jnp.pad(m, ((0, 0), (1, 0), (0, 0), (0, 0))) for m in record['bwd_h']]}

  def point(self, cache: dict, x: jnp.ndarray, r, c):
    inputs, fwd_h, fwd_c = list(cache['inputs']), list(cache['fwd_h']), list(cache['fwd_c'])
    src = get_point(2.0 * x - 1.0, r, c, 0)
    out = None
    for i in range(self.layers):
      if i:
        inputs[i - 1] = put_point(inputs[i - 1], out, r, c, 0)
        src = out
      gates = (self.fwd_convs[i](src[:, None, None])[:, 0, 0]
               + get_point(fwd_h[i], r - 1, c, 1) @ self._cast(self.fwd_up[i])
               + get_point(fwd_h[i], r, c - 1, 1) @ self._cast(self.fwd_side[i]))
      h, cell = lstm_update(gates, get_point(fwd_c[i], r, c - 1, 1))
      fwd_h[i] = put_point(fwd_h[i], h, r, c, 1)
      fwd_c[i] = put_point(fwd_c[i], cell, r, c, 1)
      out_i = h + get_point(cache['bwd_h'][i], r, c, 0)
      out = out_i + src if self.residual and i else out_i
    return self.head(out), {**cache, 'inputs': inputs, 'fwd_h': fwd_h, 'fwd_c': fwd_c}

  def row_end(self, cache: dict, x: jnp.ndarray, r) -> dict:
    """The right-to-left direction along the finished row r, every layer."""
    n, _, width, _ = x.shape
    bwd_h = list(cache['bwd_h'])
    for i in range(self.layers):
      src = 2.0 * x - 1.0 if i == 0 else cache['inputs'][i - 1]
      row = jax.lax.dynamic_slice(src, (0, r, 0, 0), (n, 1, width, src.shape[-1]))
      gates_in = self.bwd_convs[i](row)[:, 0]                       # (N, W, 4F)
      above = jax.lax.dynamic_slice(bwd_h[i], (0, r, 0, 0), (n, 1, width, self.features))[:, 0]
      w_up, w_side = self._cast(self.bwd_up[i]), self._cast(self.bwd_side[i])

      def step(side, inputs, w_up=w_up, w_side=w_side):
        g, up = inputs
        h, cell = lstm_update(g + up @ w_up + side[0] @ w_side, side[1])
        return (h, cell), h

      _, hs = jax.lax.scan(step, lstm_zeros((n, self.features), gates_in.dtype),
                           (jnp.swapaxes(gates_in, 0, 1), jnp.swapaxes(above, 0, 1)),
                           reverse=True)
      bwd_h[i] = put_row(bwd_h[i], jnp.swapaxes(hs, 0, 1), r + 1, 0)
    return {**cache, 'bwd_h': bwd_h}
