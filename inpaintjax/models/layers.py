"""Small shared pieces for the Linen models: activations by name, the central window."""

from __future__ import annotations

import flax.linen as nn

ACTIVATIONS = {
    'relu': nn.relu,
    'sigmoid': nn.sigmoid,
    'tanh': nn.tanh,
    'gelu': nn.gelu,
    'elu': nn.elu,
    'leaky_relu': nn.leaky_relu,
    'lrelu': lambda x: nn.leaky_relu(x, 0.2),  # DCGAN's slope.
    'swish': nn.swish,
}


def activation(name: str):
  """The activation function called `name`; an unknown name is an error that lists the known."""
  if name not in ACTIVATIONS:
    raise ValueError(f'Unknown activation {name!r}; known: {sorted(ACTIVATIONS)}.')
  return ACTIVATIONS[name]


def central_window(x, size: int):
  """The central size×size window of images (N, H, W, C); 0 keeps them whole.

  A centre hole's fill depends mostly on nearby pixels, so a net can look at a window
  around it only (a 16×16 window of a 32×32 image is 4× cheaper to convolve).
  """
  if not size:
    return x
  if size > min(x.shape[1:3]):
    raise ValueError(f'context {size} is larger than the {x.shape[1]}×{x.shape[2]} input.')
  top, left = (x.shape[1] - size) // 2, (x.shape[2] - size) // 2
  return x[:, top:top + size, left:left + size]
