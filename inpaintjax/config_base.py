"""The fields every experiment config has, with their defaults.

Config files in `configs/` start from `base_config()` and change what their
experiment needs. Configs are locked by `main` (and by `load_config`), so a
misspelt key, in a file or in a `--config.x.y=v` override, is an error.
"""

from __future__ import annotations

import copy
import importlib.util
import os

import ml_collections


# The mixed-hole models' training holes (configs/unet.py:mixed, context_encoder.py:l2_mixed;
# masks.parse_hole: a comma list draws one kind per image).
MIXED_HOLES = 'center-8,center-16,thin,medium,thick,box'


# Family fields added after runs were saved without them: the value those runs were trained
# and read with (with_defaults fills them in where the family's section exists).
ADDED_FIELDS = {'diffusion.temperature': 1.0}


def with_defaults(saved: dict) -> dict:
  """A saved run's config with every base_config field it lacks and the ADDED_FIELDS of its
  family (fields added since it ran)."""
  def merge(into: dict, defaults: dict) -> dict:
    for key, value in defaults.items():
      if key not in into:
        into[key] = value
      elif isinstance(value, dict) and isinstance(into[key], dict):
        merge(into[key], value)
    return into
  out = merge(copy.deepcopy(saved), base_config().to_dict())
  for dotted, value in ADDED_FIELDS.items():
    section, field = dotted.split('.')
    if isinstance(out.get(section), dict):
      out[section].setdefault(field, value)
  return out


def base_config() -> ml_collections.ConfigDict:
  """Defaults shared by every family; durations are in steps."""
  c = ml_collections.ConfigDict()
  c.task = 'regression'
  c.seed = 0

  c.data = ml_collections.ConfigDict()
  c.data.name = 'cifar10'         # TFDS name, 'npz:PATH' or 'embedded'.
  c.data.fallback = 'embedded'    # Used (loudly) when a TFDS dataset can't be had; '' = error.
  c.data.train_split = 'train'    # TFDS split names.
  c.data.eval_split = 'test'
  c.data.eval_name = ''           # Another dataset to evaluate on (e.g. a second npz).
  c.data.holdout = 0.0            # > 0: evaluate on the last fraction of the training data.
  c.data.limit = 0                # Cap on training images (0 = all).
  c.data.eval_limit = 1000        # Cap on evaluation images (0 = all).
  c.data.image_size = 32          # Size of embedded crops.
  c.data.channels = 3             # 1 or 3: data is converted to this; 0 keeps it as is.
  c.data.embedded_size = 4096     # Number of embedded crops per split.
  c.data.data_dir = ''            # TFDS data_dir ('' = TFDS default).

  c.hole = 'center-8'             # center-M, box or strokes (data/masks.py).
  c.hole_fill = '-1'              # A number in the model's scale, 'mean' (of the first
                                  # training batch, stored in the state), 'harmonic' or 'biharmonic'.
  c.residual = False              # Model output (linear) is added to the filled image.
  c.mask_channel = False          # Give the model the mask as an extra input channel.
  c.flip_average = False          # Inference: average with the mirrored image's prediction.
  c.signed = True                 # Model sees pixels in [-1, 1] (else [0, 1]).

  c.augment = ml_collections.ConfigDict(dict(flip=False, rotate_deg=0.0, zoom=0.0, hue=0.0,
                                             saturation=0.0, contrast=0.0, blur_sigma=0.0,
                                             shift_px=0))
  c.loss = ml_collections.ConfigDict(dict(kind='mse', hole_weight=1.0, known_weight=1.0))
  c.optim = ml_collections.ConfigDict(dict(
      name='adam', learning_rate=1e-3, b1=0.9, b2=0.999, weight_decay=0.0,
      schedule='constant', warmup_steps=0, grad_clip=0.0,
      trainable=''))  # Comma-separated module names to train, the rest frozen ('' = all).

  c.batch_size = 64
  c.eval_batch_size = 250
  c.num_steps = 10_000
  c.log_every = 50
  c.eval_every = 1000
  c.checkpoint_every = 500
  c.keep_checkpoints = 3
  c.init_from = ''                # A run's workdir: start from its trained weights (see train.py).
  c.eval_seed = 0                 # Seed of the evaluation holes (random kinds).
  c.grid_images = 8               # Rows of the PNG grid written at each evaluation.

  c.ema_decay = 0.0               # > 0: keep an exponential moving average of the weights
                                  # (inference and evaluation use it; --weights=raw does not).
  c.compute_dtype = 'float32'     # 'bfloat16': activations and matmuls in bfloat16 (params,
                                  # optimizer state, losses and metrics stay float32).
  c.profile_steps = ''            # 'A:B': a jax.profiler trace of steps A..B-1 in WORKDIR/profile.
  c.allow_config_change = False   # Resume a run whose saved config differs in inference-only
                                  # fields (runs.py); training fields must always match.

  c.cpu_devices = 0               # Split a CPU host into N XLA devices (0 = JAX default).
  c.distributed = False           # jax.distributed.initialize() (multi-host launchers).
  c.prefetch = 2
  return c


def make_smoke(c: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Turns a config into its `:smoke` variant's data and loop: embedded data, 4 steps.

  The config file shrinks its own model; this sets everything else a test needs.
  """
  c.data.update(name='embedded', embedded_size=256, eval_limit=32, limit=0)
  c.update(batch_size=8, eval_batch_size=16, num_steps=4, log_every=2, eval_every=4,
           checkpoint_every=2, grid_images=2)
  return c


def load_config(path: str) -> ml_collections.ConfigDict:
  """Loads 'configs/x.py' or 'configs/x.py:variant' the way `--config` does, locked."""
  path, _, arg = path.partition(':')
  if not os.path.exists(path):
    raise FileNotFoundError(f'Config file not found: {path}')
  spec = importlib.util.spec_from_file_location('inpaintjax_config', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  config = module.get_config(arg) if arg else module.get_config()
  config.lock()
  return config


def _cast(text: str, like):
  """Parses a command-line string as the type of the field it overrides."""
  if isinstance(like, bool):
    if text.lower() not in ('true', 'false', '1', '0'):
      raise ValueError(f'Expected a boolean, got {text!r}.')
    return text.lower() in ('true', '1')
  return type(like)(text) if like is not None else text


def apply_overrides(config, overrides: dict, from_strings: bool = False):
  """Sets dotted keys ('optim.learning_rate') on a config; a misspelt key is an error.

  With `from_strings`, values are command-line text converted to the field's type.
  """
  for key, value in overrides.items():
    node = config
    *parents, leaf = key.split('.')
    for p in parents:
      if p not in node:
        raise KeyError(f'Override {key!r}: the config has no field {p!r}.')
      node = node[p]
    if leaf not in node:
      raise KeyError(f'Override {key!r}: the config has no field {leaf!r}.')
    setattr(node, leaf, _cast(value, node[leaf]) if from_strings else value)
  return config


def config_name(path: str) -> str:
  """'configs/unet.py:smoke' -> 'unet_smoke': the default run folder's name."""
  path, _, arg = path.partition(':')
  stem = os.path.splitext(os.path.basename(path))[0]
  return f'{stem}_{arg}' if arg else stem


def check_variant(arg, variants) -> None:
  """A config argument must be one the file knows."""
  if arg not in variants:
    raise ValueError(f'Unknown config variant {arg!r}; known: {sorted(v for v in variants if v)}.')
