"""Convolutional feature stacks for 32×32 inputs, shared by the context encoder and its critic.

`backbone(name, ...)` returns a module that maps (N, H, W, C) to (N, H/2^s, W/2^s, C')
through `stages` stages whose width doubles from `channels`:

  plain      [conv–conv–downsample] per stage (the source's encoder)
  vgg        [conv–conv–conv–downsample] per stage, VGG's 3×3 stacks cut down
  resnet     [residual block (two 3×3 convs + a 1×1 projection) → downsample] per stage
  inception  [inception block (1×1, 3×3, 3×3–3×3 and pool–1×1 branches) → downsample]

`downsample` is 'pool' (2×2 max-pool) or 'stride' (a stride-2 3×3 convolution).
Batch norm (switchable) follows every convolution; no pretrained weights exist
offline, so every stack trains from scratch. Every layer computes in `dtype` (batch norm
takes its statistics in float32 whatever it is); the parameters stay float32.
"""

from __future__ import annotations

import functools
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from inpaintjax.models.layers import Conv, ConvTranspose, activation, max_pool

BACKBONES = ('plain', 'vgg', 'resnet', 'inception')


class ConvBN(nn.Module):
  """3×3 (or `kernel`) convolution (transposed: upsampling by `stride`) → batch norm (optional)
  → activation (optional)."""
  features: int
  kernel: int = 3
  stride: int = 1
  batch_norm: bool = True
  act: str | None = 'relu'
  transpose: bool = False
  dtype: Any = jnp.float32  # Computation dtype; parameters stay float32.

  @nn.compact
  def __call__(self, x, train: bool):
    conv = ConvTranspose if self.transpose else Conv
    x = conv(self.features, (self.kernel, self.kernel), strides=(self.stride, self.stride),
             use_bias=not self.batch_norm, dtype=self.dtype)(x)
    if self.batch_norm:
      x = nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype)(x)
    return activation(self.act)(x) if self.act else x


class Backbone(nn.Module):
  """A stack of `stages` downsampling stages of the kind `name` (see the module docstring)."""
  kind: str = 'plain'
  channels: int = 32
  stages: int = 3
  downsample: str = 'pool'
  batch_norm: bool = True
  act: str = 'relu'
  dtype: Any = jnp.float32  # Computation dtype; parameters stay float32.

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    if self.kind not in BACKBONES:
      raise ValueError(f'Unknown backbone {self.kind!r}; known: {BACKBONES}.')
    if self.downsample not in ('pool', 'stride'):
      raise ValueError(f"Unknown downsample {self.downsample!r}; known: 'pool', 'stride'.")
    conv = functools.partial(ConvBN, batch_norm=self.batch_norm, act=self.act, dtype=self.dtype)
    for s in range(self.stages):
      width = self.channels * 2**s
      if self.kind in ('plain', 'vgg'):
        for _ in range(2 if self.kind == 'plain' else 3):
          x = conv(width)(x, train)
      elif self.kind == 'resnet':
        skip = conv(width, kernel=1, act=None)(x, train) if x.shape[-1] != width else x
        h = conv(width)(x, train)
        h = conv(width, act=None)(h, train)
        x = activation(self.act)(h + skip)
      else:  # inception
        quarter = max(width // 4, 1)
        branches = [conv(quarter, kernel=1)(x, train),
                    conv(quarter)(conv(quarter, kernel=1)(x, train), train),
                    conv(quarter)(conv(quarter)(conv(quarter, kernel=1)(x, train), train), train),
                    conv(width - 3 * quarter, kernel=1)(
                        nn.max_pool(x, (3, 3), padding='SAME'), train)]
        x = jnp.concatenate(branches, axis=-1)
      if self.downsample == 'pool':
        x = max_pool(x, 2)
      else:
        x = conv(width, stride=2)(x, train)
    return x
