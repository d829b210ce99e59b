"""Correcting autoencoders: dense and convolutional, with a dense bottleneck.

Both map a damaged image (N, H, W, C) in [0, 1] to a repaired one through a
`bottleneck`-wide code, and share their knobs: `layers` hidden layers per side,
`width` (units of the first dense layer, or channels of the first convolution),
`bottleneck`, `act`, `dropout`, and `orient`: a learned canonicaliser
(models/orientation.py) that turns a flipped or rotated input upright before
the encoder sees it. The code is sown as
`intermediates/code` so that an activity regulariser can read it. The output
is a sigmoid, or linear logits when `output='logits'` (the numerically stable
way to train with binary cross-entropy; the task applies the sigmoid).

The source's final dense model is 784 → 512 → 512 → 256 → 64 → 784:
`DenseAutoencoder(layers=3, width=512, bottleneck=64, mirror=False)`.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from inpaintjax.models.layers import Conv, ConvTranspose, activation
from inpaintjax.models.orientation import Canonicaliser


def dense_widths(layers: int, width: int) -> list[int]:
  """Encoder widths: `width` for all but the last hidden layer, which has half (512, 512, 256)."""
  if layers < 1:
    raise ValueError(f'An autoencoder needs at least one hidden layer per side, got {layers}.')
  return [width] * (layers - 1) + [max(width // 2, 1)]


def _output(x: jnp.ndarray, kind: str) -> jnp.ndarray:
  if kind not in ('sigmoid', 'logits'):
    raise ValueError(f"Unknown autoencoder output {kind!r}; known: 'sigmoid', 'logits'.")
  x = x.astype(jnp.float32)  # Losses see float32 whatever the computation dtype.
  return nn.sigmoid(x) if kind == 'sigmoid' else x


def _code(module: nn.Module, h: jnp.ndarray, act) -> jnp.ndarray:
  """The `bottleneck`-wide code of flattened features, sown as intermediates/code."""
  code = act(nn.Dense(module.bottleneck, dtype=module.dtype, name='bottleneck')(
      h.reshape(h.shape[0], -1)))
  # Sown as float32: an activity penalty on it is part of the loss.
  module.sow('intermediates', 'code', code.astype(jnp.float32))
  return code


def _upright(module: nn.Module, x: jnp.ndarray) -> jnp.ndarray:
  """x turned upright by a Canonicaliser when `module.orient`; its logits sown."""
  if not module.orient:
    return x
  x, logits = Canonicaliser(module.orient_width, module.act, module.orient_depth,
                            dtype=module.dtype, name='orient')(x)
  module.sow('intermediates', 'orient_logits', logits)
  return x


def _dense_image(h: jnp.ndarray, shape: tuple[int, ...], output: str, dtype) -> jnp.ndarray:
  """One dense layer from features to an image of `shape` (N, H, W, C), then the output."""
  return _output(nn.Dense(shape[1] * shape[2] * shape[3], dtype=dtype)(h).reshape(shape), output)


class DenseAutoencoder(nn.Module):
  """flatten → dense × layers → bottleneck → [dense × layers, mirrored] → dense → reshape."""
  out_channels: int
  layers: int = 3
  width: int = 512
  bottleneck: int = 64
  mirror: bool = True  # False: the decoder is one dense layer, as in the source's final model.
  act: str = 'relu'
  dropout: float = 0.0
  output: str = 'sigmoid'
  orient: bool = False  # Turn the input upright first (models/orientation.py).
  orient_width: int = 32
  orient_depth: int = 1  # Convolutions per stage of the canonicaliser's head.
  dtype: Any = jnp.float32  # Computation dtype; parameters stay float32.

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    act = activation(self.act)
    x = _upright(self, x)
    widths = dense_widths(self.layers, self.width)
    h = x.reshape(x.shape[0], -1)
    for w in widths:
      h = nn.Dropout(self.dropout, deterministic=not train)(act(nn.Dense(w, dtype=self.dtype)(h)))
    h = _code(self, h, act)
    for w in (reversed(widths) if self.mirror else ()):
      h = nn.Dropout(self.dropout, deterministic=not train)(act(nn.Dense(w, dtype=self.dtype)(h)))
    return _dense_image(h, x.shape[:3] + (self.out_channels,), self.output, self.dtype)


class ConvAutoencoder(nn.Module):
  """3×3 convolutions (the first two stride 2) → dense bottleneck → mirrored decoder.

  Channels double per layer from `width` (capped at 4×). The dense code gives
  every output pixel a view of the whole image, which undoing a flip or a
  rotation needs. With `skips` (mirrored decoder only) each decoder layer also
  sees the encoder's map of the same size, U-Net style: detail that needs no
  correction (the strokes around noise or an occlusion) need not squeeze through
  the code, while the code still carries the global view.
  """
  out_channels: int
  layers: int = 3
  width: int = 32
  bottleneck: int = 64
  mirror: bool = True  # False: the decoder is one dense layer, like the dense source model.
  act: str = 'relu'
  dropout: float = 0.0
  output: str = 'sigmoid'
  skips: bool = False  # Concatenate encoder maps into the decoder (needs mirror).
  orient: bool = False  # Turn the input upright first (models/orientation.py).
  orient_width: int = 32
  orient_depth: int = 1  # Convolutions per stage of the canonicaliser's head.
  dtype: Any = jnp.float32  # Computation dtype; parameters stay float32.

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    act = activation(self.act)
    if self.skips and not self.mirror:
      raise ValueError('ConvAutoencoder skips need the mirrored decoder (mirror=True).')
    if self.layers < 1:
      raise ValueError(f'An autoencoder needs at least one layer per side, got {self.layers}.')
    n, height, width = x.shape[:3]
    downs = min(self.layers, 2)
    if height % 2**downs or width % 2**downs:
      raise ValueError(f'ConvAutoencoder halves the image {downs} times: {height}×{width} '
                       f'must be divisible by {2**downs}.')
    chans = [self.width * 2**min(i, 2) for i in range(self.layers)]
    h, encoded = _upright(self, x), []
    for i, c in enumerate(chans):
      stride = 2 if i < downs else 1
      h = act(Conv(c, (3, 3), strides=(stride, stride), dtype=self.dtype)(h))
      h = nn.Dropout(self.dropout, deterministic=not train)(h)
      encoded.append(h)
    small = h.shape[1:]
    code = _code(self, h, act)
    if not self.mirror:
      return _dense_image(code, (n, height, width, self.out_channels), self.output, self.dtype)
    h = act(nn.Dense(small[0] * small[1] * small[2], dtype=self.dtype)(code)).reshape((n,) + small)
    for i in reversed(range(self.layers)):
      c = chans[max(i - 1, 0)]
      if self.skips:  # Decoder layer i's input has the size of encoder layer i's output.
        h = jnp.concatenate([h, encoded[i]], axis=-1)
      if i < downs:
        h = act(ConvTranspose(c, (3, 3), strides=(2, 2), dtype=self.dtype)(h))
      else:
        h = act(Conv(c, (3, 3), dtype=self.dtype)(h))
      h = nn.Dropout(self.dropout, deterministic=not train)(h)
    return _output(Conv(self.out_channels, (3, 3), dtype=self.dtype)(h), self.output)
