"""Context encoder (generator) and the DCGAN/WGAN discriminator (critic).

ContextEncoder: a backbone (models/backbones.py) encodes the masked image (or, with
`context`, only its central context×context window, as the U-Net's), a
bottleneck — fully connected (`bottleneck='dense'`, `bottleneck_units` wide,
dropout) or convolutional (a VALID convolution over the whole feature map to
`bottleneck_units` channels) — and a decoder of stride-2 transposed convolutions
(each followed by `decoder_convs` 3×3 convolutions) produce the hole's patch
(`patch_size`, e.g. 8, or 16 with the overlap trick) or, with `patch_size=0`, the
whole image.

Discriminator: DCGAN's strided convolutions (`depth` of them, LeakyReLU 0.2,
batch norm after all but the first) or a backbone with stride-2 stages, then a
convolution over what is left to one number per example: a logit for DCGAN, an
unbounded score for a WGAN critic (where batch norm must be off with a gradient
penalty).

Both compute in `dtype` (bfloat16 for mixed precision) with float32 parameters, and give
float32 outputs.
"""

from __future__ import annotations

import functools
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from inpaintjax.models.backbones import Backbone, ConvBN
from inpaintjax.models.layers import Conv, ConvTranspose, activation, central_window

OUTPUTS = {'tanh': nn.tanh, 'sigmoid': nn.sigmoid, 'linear': lambda x: x}


def decoder_plan(size: int) -> tuple[int, int]:
  """(start size, number of ×2 upsamplings) to reach `size`: halve while even and above 4."""
  start, ups = size, 0
  while start % 2 == 0 and start > 4:
    start, ups = start // 2, ups + 1
  return start, ups


class ContextEncoder(nn.Module):
  """Masked image (N, H, W, C') → hole patch (N, p, p, C) or image (N, H, W, C)."""
  out_channels: int
  patch_size: int = 0
  backbone: str = 'plain'
  channels: int = 32
  stages: int = 3
  downsample: str = 'pool'
  batch_norm: bool = True
  bottleneck: str = 'dense'
  bottleneck_units: int = 512
  dropout: float = 0.5
  act: str = 'relu'
  output: str = 'tanh'
  decoder_convs: int = 0  # Extra 3×3 convolutions after each upsampling (0: the source's).
  zero_init_output: bool = False  # Start at a zero output: a residual net starts at its fill.
  context: int = 0  # Encode only the central context×context window (0 = the whole image).
  dtype: Any = jnp.float32  # Computation dtype; parameters stay float32.

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    if self.output not in OUTPUTS:
      raise ValueError(f'Unknown output {self.output!r}; known: {sorted(OUTPUTS)}.')
    act = activation(self.act)
    n = x.shape[0]
    if self.context and not self.patch_size:
      raise ValueError(f'context={self.context} needs a patch output (a centre hole): '
                       'a whole-image output would cover only the window.')
    x = central_window(x, self.context)
    h = Backbone(kind=self.backbone, channels=self.channels, stages=self.stages,
                 downsample=self.downsample, batch_norm=self.batch_norm, act=self.act,
                 dtype=self.dtype)(x, train)
    dense = functools.partial(nn.Dense, dtype=self.dtype)
    size = self.patch_size or x.shape[1]
    start, ups = decoder_plan(size)
    width = self.channels * 2**max(self.stages - 1, 0)
    if self.bottleneck == 'dense':
      z = act(dense(self.bottleneck_units)(h.reshape(n, -1)))
      z = nn.Dropout(self.dropout, deterministic=not train)(z)
      h = act(dense(start * start * width)(z)).reshape(n, start, start, width)
    elif self.bottleneck == 'conv':
      z = Conv(self.bottleneck_units, h.shape[1:3], padding='VALID', dtype=self.dtype)(h)
      z = nn.Dropout(self.dropout, deterministic=not train)(act(z))
      h = act(ConvTranspose(width, (start, start), padding='VALID', dtype=self.dtype)(z))
    else:
      raise ValueError(f"Unknown bottleneck {self.bottleneck!r}; known: 'dense', 'conv'.")
    for _ in range(ups):
      width = max(width // 2, self.channels)
      h = ConvBN(width, stride=2, batch_norm=self.batch_norm, act=self.act, transpose=True,
                 dtype=self.dtype)(h, train)
      for _ in range(self.decoder_convs):
        h = ConvBN(width, batch_norm=self.batch_norm, act=self.act, dtype=self.dtype)(h, train)
    init = nn.initializers.zeros if self.zero_init_output else nn.linear.default_kernel_init
    h = Conv(self.out_channels, (3, 3), kernel_init=init, dtype=self.dtype)(h)
    return OUTPUTS[self.output](h.astype(jnp.float32))


class Discriminator(nn.Module):
  """Patch or image (N, h, w, C) → one logit / critic score per example, shape (N,)."""
  kind: str = 'dcgan'
  channels: int = 64
  depth: int = 3
  batch_norm: bool = True
  act: str = 'lrelu'
  dtype: Any = jnp.float32  # Computation dtype; parameters stay float32.

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    if self.kind == 'dcgan':
      for i in range(self.depth):
        # DCGAN: no batch norm on the first layer, which sees the pixels.
        x = ConvBN(self.channels * 2**i, kernel=4, stride=2,
                   batch_norm=self.batch_norm and i > 0, act=self.act, dtype=self.dtype)(x, train)
    else:
      x = Backbone(kind=self.kind, channels=self.channels, stages=self.depth, downsample='stride',
                   batch_norm=self.batch_norm, act=self.act, dtype=self.dtype)(x, train)
    score = Conv(1, x.shape[1:3], padding='VALID', dtype=self.dtype)(x)
    return score.reshape(x.shape[0]).astype(jnp.float32)
