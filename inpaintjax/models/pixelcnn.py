"""PixelCNN: masked convolutions with R → G → B channel masks, 256-way logits per sub-pixel.

The order is raster order over pixels and R, G, B within a pixel. A masked
convolution lets output (r, c) see input pixels above and to the left; at the
centre position, features are split in three contiguous groups (R, G, B) and
a type 'A' mask lets group o see input groups before o, a type 'B' mask
groups up to and including o. The first layer is type A (a 5×5 causal
neighbourhood in the source's small model), the others type B, so the logits
of sub-pixel (r, c, ch) depend only on sub-pixels earlier in the order.
`residual=True` wraps the hidden 3×3 layers in residual blocks.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from inpaintjax.models.layers import activation


def channel_groups(features: int, colours: int) -> np.ndarray:
  """Group (colour) of each of `features` channels: contiguous blocks, one per colour."""
  return np.arange(features) * colours // features


def causal_mask(kernel: int, in_features: int, out_features: int, colours: int,
                mask_type: str) -> np.ndarray:
  """The (k, k, in, out) 0/1 mask of a masked convolution of type 'A' or 'B'."""
  if mask_type not in ('A', 'B'):
    raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}.")
  centre = kernel // 2
  mask = np.zeros((kernel, kernel, in_features, out_features), np.float32)
  mask[:centre] = 1.0                 # Rows above.
  mask[centre, :centre] = 1.0         # Left of the centre, same row.
  g_in = channel_groups(in_features, colours)[:, None]
  g_out = channel_groups(out_features, colours)[None, :]
  allowed = g_in < g_out if mask_type == 'A' else g_in <= g_out
  mask[centre, centre] = allowed.astype(np.float32)
  return mask


class MaskedConv(nn.Module):
  """A 'SAME' convolution whose kernel is multiplied by `causal_mask`."""
  features: int
  kernel: int
  mask_type: str
  colours: int = 3

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    mask = causal_mask(self.kernel, x.shape[-1], self.features, self.colours, self.mask_type)
    w = self.param('kernel', nn.initializers.lecun_normal(), mask.shape)
    b = self.param('bias', nn.initializers.zeros, (self.features,))
    out = jax.lax.conv_general_dilated(x.astype(jnp.float32), w * mask, (1, 1), 'SAME',
                                       dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
    return out + b


class PixelCNN(nn.Module):
  """Images (N, H, W, C) in [0, 1] → logits (N, H, W, C, 256)."""
  out_channels: int = 3
  features: int = 96
  layers: int = 6
  first_kernel: int = 5
  kernel: int = 3
  residual: bool = False
  dropout: float = 0.0
  act: str = 'relu'

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    colours = self.out_channels
    if self.features % colours:
      raise ValueError(f'features ({self.features}) must be divisible by the {colours} colours.')
    act = activation(self.act)
    h = MaskedConv(self.features, self.first_kernel, 'A', colours)(2.0 * x - 1.0)
    for _ in range(self.layers):
      y = MaskedConv(self.features, self.kernel, 'B', colours)(act(h))
      y = nn.Dropout(self.dropout, deterministic=not train)(y)
      h = h + y if self.residual else y
    h = MaskedConv(self.features, 1, 'B', colours)(act(h))
    logits = MaskedConv(256 * colours, 1, 'B', colours)(act(h))
    n, height, width = x.shape[:3]
    # Output features are grouped by colour in contiguous blocks of 256.
    return logits.reshape(n, height, width, colours, 256)
