"""The source's own model: an LSTM over the image flattened to a sequence of sub-pixels.

The sequence is raster order over pixels, R, G, B within a pixel. Step t is fed
the previous sub-pixel's value as a 256-way one-hot (a start token at t = 0;
the one-hot times the input matrix is an embedding lookup, which is how it is
computed) and outputs 256 logits for sub-pixel t through a dense layer.

Mixed precision (`dtype` bfloat16): the embedded input gates, the recurrent product, the
gates, h and the output layer are computed in `dtype`; the cell state is kept in float32 (it
accumulates over the whole sequence), and so are the parameters and the logits.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from inpaintjax.models.pixelrnn import lstm_update, lstm_zeros

START = 256  # The start token's index: one past the 256 pixel values.


def tokens(x: jnp.ndarray) -> jnp.ndarray:
  """Images (N, H, W, C) in [0, 1] → the sub-pixel values as an (N, H·W·C) int sequence."""
  return jnp.round(x * 255.0).astype(jnp.int32).reshape(x.shape[0], -1)


class FlatRowLSTM(nn.Module):
  """Images (N, H, W, C) in [0, 1] → float32 logits (N, H, W, C, 256)."""
  out_channels: int = 3
  hidden: int = 64
  dtype: Any = jnp.float32  # Computation dtype (the cell stays float32, see the docstring).

  def setup(self):
    # One-hot × W_ih, plus the bias.
    self.input_gates = nn.Embed(START + 1, 4 * self.hidden, dtype=self.dtype)
    self.w_hh = self.param('w_hh', nn.initializers.orthogonal(), (self.hidden, 4 * self.hidden))
    self.out = nn.Dense(256, dtype=self.dtype)

  def _logits(self, h: jnp.ndarray) -> jnp.ndarray:
    return self.out(h).astype(jnp.float32)  # The 256-way softmax needs float32.

  def _run(self, seq_in: jnp.ndarray, carry, length=None):
    """Hidden states of the LSTM over `seq_in` tokens; with `length`, only the final carry
    after the first `length` steps."""
    gates = jnp.swapaxes(self.input_gates(seq_in), 0, 1)      # (T, N, 4H)
    w_hh = self.w_hh.astype(self.dtype)

    def step(carry, inputs):
      t, g = inputs
      h, cell = lstm_update(g + carry[0] @ w_hh, carry[1])
      if length is not None:   # Freeze the carry after `length` steps.
        keep = t < length
        h, cell = jnp.where(keep, h, carry[0]), jnp.where(keep, cell, carry[1])
      return (h, cell), h

    carry, hs = jax.lax.scan(step, carry, (jnp.arange(gates.shape[0]), gates))
    return carry, jnp.swapaxes(hs, 0, 1)

  def _zeros(self, n):
    return lstm_zeros((n, self.hidden), self.dtype)

  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    del train
    seq = tokens(x)
    seq_in = jnp.concatenate([jnp.full((x.shape[0], 1), START), seq[:, :-1]], axis=1)
    _, hs = self._run(seq_in, self._zeros(x.shape[0]))
    return self._logits(hs).reshape(*x.shape, 256)

  def prefill(self, x: jnp.ndarray, first_row=0) -> dict:
    """The carry just before the first sub-pixel of row `first_row` is predicted."""
    n, _, width, colours = x.shape
    seq = tokens(x)
    seq_in = jnp.concatenate([jnp.full((n, 1), START), seq[:, :-1]], axis=1)
    carry, _ = self._run(seq_in, self._zeros(n), length=first_row * width * colours)
    return {'h': carry[0], 'c': carry[1]}

  def point(self, cache: dict, x: jnp.ndarray, r, c):
    n, _, width, colours = x.shape
    seq = tokens(x)
    t0 = (r * width + c) * colours
    prev = jnp.where(t0 > 0, jax.lax.dynamic_index_in_dim(seq, jnp.maximum(t0 - 1, 0), 1, False),
                     START)
    carry, logits = (cache['h'], cache['c']), []
    w_hh = self.w_hh.astype(self.dtype)
    for ch in range(colours):
      token = prev if ch == 0 else jax.lax.dynamic_index_in_dim(seq, t0 + ch - 1, 1, False)
      carry = lstm_update(self.input_gates(token) + carry[0] @ w_hh, carry[1])
      logits.append(self._logits(carry[0]))
    return jnp.stack(logits, axis=1), {'h': carry[0], 'c': carry[1]}

  def row_end(self, cache: dict, x: jnp.ndarray, r) -> dict:
    del x, r
    return cache
