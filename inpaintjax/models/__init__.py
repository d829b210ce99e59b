"""Flax Linen modules only: no data, no losses, no training. `build` makes one by name."""

from __future__ import annotations

import dataclasses

from inpaintjax.models.autoencoder import ConvAutoencoder, DenseAutoencoder
from inpaintjax.models.classifier import Classifier
from inpaintjax.models.context_encoder import ContextEncoder, Discriminator
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
    'diagonal_bilstm': DiagonalBiLSTM,
    'flat_lstm': FlatRowLSTM,
    'gated_pixelcnn': GatedPixelCNN,
    'patch_cnn': PatchCNN,
    'pixelcnn': PixelCNN,
    'row_lstm': RowLSTM,
    'unet': UNet,
}


def build(model_cfg, **task_fields):
  """Instantiates `model_cfg.name` with the config's other fields plus `task_fields`.

  Task fields (e.g. out_channels, patch_size) come from the data and the hole, not the
  config; a model takes those it declares.
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
