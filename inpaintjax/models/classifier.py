"""The evaluation classifier: a small CNN that recognises clean digits.

conv 3×3 (`channels`) → 2×2 max-pool → conv 3×3 (2·`channels`) → 2×2 max-pool
→ dropout → dense (`dense_width`) → dropout → dense (`num_classes`) logits: the
classic MNIST CNN with the second convolution at half resolution (a quarter of
its FLOPs, the same accuracy on MNIST-like digits).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from inpaintjax.models.layers import Conv, activation, max_pool


class Classifier(nn.Module):
  """Images (N, H, W, C) in [0, 1] → float32 logits (N, num_classes), computed in `dtype`."""
  num_classes: int = 10
  channels: int = 32
  dense_width: int = 128
  act: str = 'relu'
  conv_dropout: float = 0.25
  dense_dropout: float = 0.5
  dtype: Any = jnp.float32  # Computation dtype; parameters stay float32.

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    act = activation(self.act)
    x = max_pool(act(Conv(self.channels, (3, 3), dtype=self.dtype)(x)), 2)
    x = max_pool(act(Conv(2 * self.channels, (3, 3), dtype=self.dtype)(x)), 2)
    x = nn.Dropout(self.conv_dropout, deterministic=not train)(x)
    x = act(nn.Dense(self.dense_width, dtype=self.dtype)(x.reshape(x.shape[0], -1)))
    x = nn.Dropout(self.dense_dropout, deterministic=not train)(x)
    return nn.Dense(self.num_classes, dtype=self.dtype)(x).astype(jnp.float32)
