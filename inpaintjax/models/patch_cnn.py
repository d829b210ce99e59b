"""Patch regression CNN: predicts the m×m centre patch of a masked image.

The source's model: conv 5×5 → 3×3 max-pool → activation → conv 3×3 → 3×3
max-pool → activation → dense → dense → dense(m·m·C) → sigmoid. `extra_convs`
adds 3×3 convolutions before each pool (the second stage then doubles the
width), `pool` sets the pooling window, and `context` keeps only the central
context×context window of the input (a small hole's fill depends on nearby
pixels; far ones cost FLOPs). With the defaults the model is the source's.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from inpaintjax.models.layers import Conv, activation, central_window, max_pool


class PatchCNN(nn.Module):
  """Masked image (N, H, W, C') → centre patch (N, m, m, C) in [0, 1], float32 (computed in
  `dtype`)."""
  patch_size: int
  out_channels: int
  channels: int = 64
  dense_width: int = 1024
  act: str = 'relu'
  conv_dropout: float = 0.0
  dense_dropout: float = 0.5
  extra_convs: int = 0
  pool: int = 3
  context: int = 0
  output: str = 'sigmoid'  # 'linear' for a residual over the filled image.
  dtype: Any = jnp.float32  # Computation dtype; parameters stay float32.

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    act = activation(self.act)
    x = central_window(x, self.context)
    for kernel, width in ((5, self.channels), (3, 2 * self.channels if self.extra_convs else
                                               self.channels)):
      x = Conv(width, (kernel, kernel), dtype=self.dtype)(x)
      for _ in range(self.extra_convs):
        x = Conv(width, (3, 3), dtype=self.dtype)(act(x))
      if self.pool > 1:
        x = max_pool(x, self.pool)
      x = act(x)
      x = nn.Dropout(self.conv_dropout, deterministic=not train)(x)
    x = x.reshape(x.shape[0], -1)
    for _ in range(2):
      x = act(nn.Dense(self.dense_width, dtype=self.dtype)(x))
      x = nn.Dropout(self.dense_dropout, deterministic=not train)(x)
    x = nn.Dense(self.patch_size * self.patch_size * self.out_channels, dtype=self.dtype)(x)
    x = x.astype(jnp.float32)  # The loss sees float32.
    if self.output not in ('sigmoid', 'linear'):
      raise ValueError(f"Unknown patch-CNN output {self.output!r}; known: 'sigmoid', 'linear'.")
    x = nn.sigmoid(x) if self.output == 'sigmoid' else x
    return x.reshape(-1, self.patch_size, self.patch_size, self.out_channels)
