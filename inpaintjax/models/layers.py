"""Small shared pieces for the Linen models: activations by name."""

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
