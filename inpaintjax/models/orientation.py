"""A learned canonicaliser: turn a flipped or rotated image back upright before repairing it.

A corrector that must undo a flip or a rotation otherwise has to learn it through its code,
for every digit and every transform: the bottleneck spends its width on orientation, and the
skips carry detail in the wrong place. `Canonicaliser` instead predicts which of the eight
symmetries of the square (the dihedral group D4) was applied, as a softmax `p`, and returns
the mixture of the eight inverse transforms of the input, `Σ_k p_k · g_k⁻¹(x)`. The mixture is
differentiable, so the reconstruction loss alone trains the head (a discrete spatial
transformer); the correction task can also supervise it with the distortion it drew
(`loss.orient_weight`), which trains it much faster. The logits are sown as
`intermediates/orient_logits` by the autoencoder that uses it.

D4 order (`DIHEDRAL`): identity, rot90, rot180, rot270 (counter-clockwise, like `jnp.rot90`
on the image axes), vertical flip, horizontal flip, transpose, anti-transpose.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from inpaintjax.models.layers import Conv, activation, max_pool

DIHEDRAL = ('identity', 'rot90', 'rot180', 'rot270', 'vertical_flip', 'horizontal_flip',
            'transpose', 'anti_transpose')
# data/distortions.GEOMETRIC_OPS index (vertical_flip, horizontal_flip, rot90, rot180, rot270)
# -> DIHEDRAL index; 'no geometric distortion' (-1) is the identity.
FROM_GEOMETRIC_OP = (4, 5, 1, 2, 3)


def dihedral_index(geometric_op: jnp.ndarray) -> jnp.ndarray:
  """The DIHEDRAL index of distortions' geometric op (int, -1 = none), elementwise."""
  table = jnp.asarray((0,) + FROM_GEOMETRIC_OP, jnp.int32)
  return table[jnp.asarray(geometric_op, jnp.int32) + 1]


def transform(x: jnp.ndarray, k: int) -> jnp.ndarray:
  """DIHEDRAL[k] applied to an NHWC batch of square images."""
  if k < 4:
    return jnp.rot90(x, k, axes=(1, 2))
  if k == 4:
    return x[:, ::-1]
  if k == 5:
    return x[:, :, ::-1]
  if k == 6:
    return jnp.swapaxes(x, 1, 2)
  if k == 7:
    return jnp.rot90(jnp.swapaxes(x, 1, 2), 2, axes=(1, 2))
  raise ValueError(f'No dihedral transform {k}; there are {len(DIHEDRAL)}.')


def inverse(x: jnp.ndarray, k: int) -> jnp.ndarray:
  """The inverse of DIHEDRAL[k]: rotations turn back, flips and transposes undo themselves."""
  return transform(x, (4 - k) % 4) if k < 4 else transform(x, k)


class Canonicaliser(nn.Module):
  """NHWC square images → (the soft-inverted images, the D4 logits (N, 8)).

  The head is a small CNN: two stages of `depth` 3×3 convolutions and a 2×2 max-pooling
  (`width`, then 2·`width` channels), a dense layer of 4·`width`, then 8 logits. The head
  computes in `dtype`; the logits, the softmax and the mixture of the (float32) input's
  transforms are float32.
  """
  width: int = 32
  act: str = 'relu'
  depth: int = 1  # Convolutions per stage.
  dtype: Any = jnp.float32  # Computation dtype of the head; parameters stay float32.

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    if x.ndim != 4 or x.shape[1] != x.shape[2]:
      raise ValueError(f'Canonicaliser needs an NHWC batch of square images, got shape '
                       f'{tuple(x.shape)}.')
    if self.depth < 1:
      raise ValueError(f'Canonicaliser needs at least one convolution per stage, got depth '
                       f'{self.depth}.')
    act = activation(self.act)
    h = x
    for channels in (self.width, 2 * self.width):
      for _ in range(self.depth):
        h = act(Conv(channels, (3, 3), dtype=self.dtype)(h))
      h = max_pool(h, 2)
    h = act(nn.Dense(4 * self.width, dtype=self.dtype)(h.reshape(h.shape[0], -1)))
    logits = nn.Dense(len(DIHEDRAL), dtype=self.dtype)(h).astype(jnp.float32)
    p = jax.nn.softmax(logits)
    upright = sum(p[:, k, None, None, None] * inverse(x, k) for k in range(len(DIHEDRAL)))
    return upright, logits
