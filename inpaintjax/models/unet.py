"""U-Net inpainting autoencoder.

Each level: two 3×3 convolutions + activation, dropout, then 2×2 max-pool; a
bottleneck of two convolutions; on the way up a 2×2 stride-2 transposed
convolution, concatenation with the level's skip, two convolutions. The source's
model has `levels=2`; width doubles per level from `base_channels`. With `context`, the
net sees only the central context×context window and outputs that window (a centre hole's
fill depends mostly on nearby pixels; a 16×16 window of a 32×32 image is 4× cheaper); the
task pastes it back like a centre patch.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from inpaintjax.models.layers import Conv, ConvTranspose, activation, central_window, max_pool

OUTPUT_ACTIVATIONS = {'tanh': nn.tanh, 'sigmoid': nn.sigmoid, 'linear': lambda x: x}


class UNet(nn.Module):
  """Masked image (N, H, W, C') → image (N, H, W, C); H, W divisible by 2**levels. Computed
  in `dtype`, output float32."""
  out_channels: int
  base_channels: int = 32
  levels: int = 2
  dropout: float = 0.1
  act: str = 'relu'
  output: str = 'tanh'
  max_channels: int = 0  # Caps the width of deep levels (0 = no cap): most FLOPs for little gain.
  context: int = 0       # Keep only the central context×context window (0 = the whole image).
  dtype: Any = jnp.float32  # Computation dtype; parameters stay float32.

  def _width(self, level: int) -> int:
    width = self.base_channels * 2 ** level
    return min(width, self.max_channels) if self.max_channels else width

  def _block(self, x, width, train):
    act = activation(self.act)
    for _ in range(2):
      x = act(Conv(width, (3, 3), dtype=self.dtype)(x))
    return nn.Dropout(self.dropout, deterministic=not train)(x)

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    if self.output not in OUTPUT_ACTIVATIONS:
      raise ValueError(f'Unknown U-Net output {self.output!r}; known: {list(OUTPUT_ACTIVATIONS)}.')
    x = central_window(x, self.context)
    factor = 2 ** self.levels
    if x.shape[1] % factor or x.shape[2] % factor:
      raise ValueError(f'U-Net with {self.levels} levels needs H and W divisible by {factor}, '
                       f'got {x.shape[1]}×{x.shape[2]}.')
    skips = []
    for level in range(self.levels):
      x = self._block(x, self._width(level), train)
      skips.append(x)
      x = max_pool(x, 2)
    x = self._block(x, self._width(self.levels), train)
    for level in reversed(range(self.levels)):
      width = self._width(level)
      x = ConvTranspose(width, (2, 2), strides=(2, 2), dtype=self.dtype)(x)
      x = self._block(jnp.concatenate([x, skips[level]], axis=-1), width, train)
    out = Conv(self.out_channels, (1, 1), dtype=self.dtype)(x).astype(jnp.float32)
    return OUTPUT_ACTIVATIONS[self.output](out)
