"""Flax Linen modules only: no data, no losses, no training. `build` makes one by name.

Every model takes `dtype`, its computation dtype (`compute_dtype(config)`: float32, or
bfloat16 for mixed precision): its layers compute in it, its parameters stay float32 and its
outputs are float32, so that losses, softmaxes and metrics are.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from inpaintjax.models.autoencoder import ConvAutoencoder, DenseAutoencoder
from inpaintjax.models.classifier import Classifier
from inpaintjax.models.context_encoder import ContextEncoder, Discriminator
from inpaintjax.models.denoiser import DenoisingUNet
from inpaintjax.models.flat_lstm import FlatRowLSTM
from inpaintjax.models.patch_cnn import PatchCNN
from inpaintjax.models.pixelcnn import GatedPixelCNN, PixelCNN
from inpaintjax.models.pixelrnn import DiagonalBiLSTM, RowLSTM
from inpaintjax.models.unet import UNet

MODELS = {
    'classifier': Classifier,
    'context_encoder': ContextEncoder,
    'conv_autoencoder': ConvAutoencoder,
    'discriminator': Discriminator,
    'dense_autoencoder': DenseAutoencoder,
    'denoising_unet': DenoisingUNet,
    'diagonal_bilstm': DiagonalBiLSTM,
    'flat_lstm': FlatRowLSTM,
    'gated_pixelcnn': GatedPixelCNN,
    'patch_cnn': PatchCNN,
    'pixelcnn': PixelCNN,
    'row_lstm': RowLSTM,
    'unet': UNet,
}

# config.compute_dtype → the models' `dtype`.
COMPUTE_DTYPES = {'float32': jnp.float32, 'bfloat16': jnp.bfloat16}


def compute_dtype(config):
  """The jnp dtype named by `config.compute_dtype` ('float32' when the config has none)."""
  name = config.get('compute_dtype', 'float32')
  if name not in COMPUTE_DTYPES:
    raise ValueError(f'compute_dtype={name!r} is not known; allowed: '
                     f'{", ".join(map(repr, COMPUTE_DTYPES))}.')
  return COMPUTE_DTYPES[name]


def build(model_cfg, **task_fields):
  """Instantiates `model_cfg.name` with the config's other fields plus `task_fields`.

  Task fields (e.g. out_channels, patch_size, dtype) come from the data, the hole and
  `config.compute_dtype`, not the model config; a model takes those it declares.
  Unknown model names and unknown fields are errors that name the culprit.
  """
  fields = dict(model_cfg)
  name = fields.pop('name', None)
  if name not in MODELS:
    raise ValueError(f'Unknown model name {name!r}; known: {sorted(MODELS)}.')
  cls = MODELS[name]
  known = {f.name for f in dataclasses.fields(cls)} - {'parent', 'name'}
  unknown = set(fields) - known
  if unknown:
    raise ValueError(f'Model {name!r} has no field(s) {sorted(unknown)}; it takes {sorted(known)}.')
  # Task fields are offered to every model; each takes those it declares.
  fields.update({k: v for k, v in task_fields.items() if k in known})
  return cls(**fields)
