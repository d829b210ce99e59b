"""A small denoising U-Net for diffusion models: timestep embedding, residual blocks, attention.

The DDPM architecture (Ho et al., 2020) cut to CPU size: a sinusoidal embedding of the
timestep through a two-layer MLP, added inside every residual block (GroupNorm → SiLU → 3×3
conv, twice, with dropout); `len(channel_mult)` resolutions, halved by stride-2 convolutions
and restored by nearest-neighbour upsampling + conv, with a skip from every block on the way
down; optional single-head self-attention in the middle, at the lowest resolution.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from inpaintjax.models.layers import Conv


def timestep_embedding(t: jnp.ndarray, dim: int, max_period: float = 10_000.0) -> jnp.ndarray:
  """(N,) timesteps (any real scale, e.g. 0..T-1) → (N, dim) sines and cosines of them."""
  half = dim // 2
  freqs = jnp.exp(-math.log(max_period) * jnp.arange(half, dtype=jnp.float32) / half)
  args = jnp.asarray(t, jnp.float32)[:, None] * freqs[None]
  return jnp.concatenate([jnp.sin(args), jnp.cos(args)], axis=-1)


def group_norm(channels: int, groups: int, dtype) -> nn.GroupNorm:
  """GroupNorm with the largest group count ≤ `groups` that divides `channels`."""
  return nn.GroupNorm(num_groups=math.gcd(groups, channels), dtype=dtype)


class ResBlock(nn.Module):
  """x + conv(SiLU(GN(conv(SiLU(GN(x))) + Dense(emb)))), a 1×1 conv on x if widths differ."""
  width: int
  groups: int = 8
  dropout: float = 0.0
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, emb, train: bool):
    h = Conv(self.width, (3, 3), dtype=self.dtype)(
        nn.silu(group_norm(x.shape[-1], self.groups, self.dtype)(x)))
    h = h + nn.Dense(self.width, dtype=self.dtype)(nn.silu(emb))[:, None, None, :]
    h = nn.silu(group_norm(self.width, self.groups, self.dtype)(h))
    h = nn.Dropout(self.dropout, deterministic=not train)(h)
    h = Conv(self.width, (3, 3), dtype=self.dtype)(h)
    if x.shape[-1] != self.width:
      x = Conv(self.width, (1, 1), dtype=self.dtype)(x)
    return x + h


class Attention(nn.Module):
  """x + self-attention over the H×W positions (GroupNorm first)."""
  heads: int = 1
  groups: int = 8
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    n, h, w, c = x.shape
    y = group_norm(c, self.groups, self.dtype)(x).reshape(n, h * w, c)
    y = nn.MultiHeadDotProductAttention(num_heads=self.heads, dtype=self.dtype)(y, y)
    return x + y.reshape(n, h, w, c)


class DenoisingUNet(nn.Module):
  """(x_t (N, H, W, C'), timesteps (N,)) → (N, H, W, out_channels), float32 (the predicted
  noise or velocity); H, W divisible by 2**(len(channel_mult) - 1)."""
  out_channels: int
  base_channels: int = 32
  channel_mult: Sequence[int] = (1, 2, 2)
  num_res_blocks: int = 1
  attention: bool = True
  heads: int = 1
  groups: int = 8
  dropout: float = 0.1
  dtype: Any = jnp.float32  # Computation dtype; parameters stay float32.

  @nn.compact
  def __call__(self, x: jnp.ndarray, t: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    factor = 2 ** (len(self.channel_mult) - 1)
    if x.shape[1] % factor or x.shape[2] % factor:
      raise ValueError(f'DenoisingUNet with {len(self.channel_mult)} resolutions needs H and W '
                       f'divisible by {factor}, got {x.shape[1]}×{x.shape[2]}.')
    dim = 4 * self.base_channels
    emb = timestep_embedding(t, self.base_channels)
    emb = nn.Dense(dim, dtype=self.dtype)(nn.silu(nn.Dense(dim, dtype=self.dtype)(emb)))
    block = lambda width: ResBlock(width, self.groups, self.dropout, self.dtype)
    h = Conv(self.base_channels, (3, 3), dtype=self.dtype)(x)
    skips = [h]
    last = len(self.channel_mult) - 1
    for level, mult in enumerate(self.channel_mult):
      for _ in range(self.num_res_blocks):
        h = block(self.base_channels * mult)(h, emb, train)
        skips.append(h)
      if level != last:
        h = Conv(h.shape[-1], (3, 3), strides=(2, 2), dtype=self.dtype)(h)
        skips.append(h)
    h = block(h.shape[-1])(h, emb, train)
    if self.attention:
      h = Attention(self.heads, self.groups, self.dtype)(h)
    h = block(h.shape[-1])(h, emb, train)
    for level in reversed(range(len(self.channel_mult))):
      for _ in range(self.num_res_blocks + 1):
        h = block(self.base_channels * self.channel_mult[level])(
            jnp.concatenate([h, skips.pop()], axis=-1), emb, train)
      if level != 0:
        n, hh, ww, c = h.shape
        h = jax.image.resize(h, (n, 2 * hh, 2 * ww, c), 'nearest')
        h = Conv(c, (3, 3), dtype=self.dtype)(h)
    h = nn.silu(group_norm(h.shape[-1], self.groups, self.dtype)(h))
    return Conv(self.out_channels, (3, 3), dtype=self.dtype)(h).astype(jnp.float32)
