"""Checks a config before any data is read or anything compiles: one clear error per problem.

`validate(config)` raises `ConfigError` naming the field, the value and what is allowed:
integer fields that must be positive, fractions, known names (task, model, optimizer,
schedule, loss kind, adversary, hole, hole fill, compute dtype), a batch that splits over
`cpu_devices`. What needs the data (does the hole fit the images?) is
`masks.check_fits`, called by the trainer once the image shape is known, still before any
compilation.
"""

from __future__ import annotations

from inpaintjax import models, tasks
from inpaintjax.data import masks
from inpaintjax.errors import ConfigError
from inpaintjax.tasks import adversarial

POSITIVE = ('batch_size', 'eval_batch_size', 'num_steps', 'log_every', 'eval_every',
            'checkpoint_every', 'keep_checkpoints', 'data.image_size', 'data.embedded_size')
NON_NEGATIVE = ('grid_images', 'prefetch', 'cpu_devices', 'data.limit', 'data.eval_limit',
                'optim.warmup_steps')
OPTIMIZERS = ('adam', 'adamw', 'sgd', 'rmsprop')
SCHEDULES = ('constant', 'cosine')


def _get(config, dotted: str):
  node = config
  for part in dotted.split('.'):
    if part not in node:
      return None
    node = node[part]
  return node


def _one_of(field: str, value, allowed) -> None:
  if value not in allowed:
    raise ConfigError(f'{field}={value!r} is not known; allowed: {", ".join(map(str, allowed))}.')


def validate(config) -> None:
  """Raises ConfigError for the first field with a value the project cannot use."""
  _one_of('task', config.task, sorted(tasks.TASKS) + ['deconvolution'])
  if config.task == 'deconvolution':
    return  # A sweep with fields of its own (tasks/deconvolution.py checks them).
  for field in POSITIVE + NON_NEGATIVE:
    value = _get(config, field)
    if value is None:
      continue
    if isinstance(value, bool) or not isinstance(value, int):
      raise ConfigError(f'{field}={value!r} must be an integer.')
    low = 1 if field in POSITIVE else 0
    if value < low:
      raise ConfigError(f'{field}={value} must be {"positive" if low else ">= 0"}.')
  holdout = config.data.holdout
  if not 0.0 <= holdout < 1.0:
    raise ConfigError(f'data.holdout={holdout} must be a fraction in [0, 1).')
  if config.get('ema_decay', 0.0) and not 0.0 < config.ema_decay < 1.0:
    raise ConfigError(f'ema_decay={config.ema_decay} must be in (0, 1), or 0 for none.')
  if config.data.channels not in (0, 1, 3):
    raise ConfigError(f'data.channels={config.data.channels} must be 1, 3 or 0 (as stored).')
  if config.cpu_devices and config.batch_size % config.cpu_devices:
    raise ConfigError(f'batch_size={config.batch_size} does not split over cpu_devices='
                      f'{config.cpu_devices}: make it a multiple.')
  _one_of('compute_dtype', config.get('compute_dtype', 'float32'), tuple(models.COMPUTE_DTYPES))
  _one_of('optim.name', config.optim.name, OPTIMIZERS)
  _one_of('optim.schedule', config.optim.schedule, SCHEDULES)
  for key in ('model', 'critic'):
    if key in config:
      _one_of(f'{key}.name', config[key].get('name'), sorted(models.MODELS))
  try:
    masks.parse_hole(config.hole)
    if tasks.fills_holes(config.task):
      masks.fill_value(config.hole_fill, 0.0)
  except ValueError as e:
    raise ConfigError(f'hole={config.hole!r}, hole_fill={config.hole_fill!r}: {e}') from None
  choices = tasks.config_choices(config.task)
  for key, allowed in choices.items():
    section, _, field = key.rpartition('.')
    _one_of(key, (config[section] if section else config)[field], allowed)
  if 'adversary' in config and 'adversary.kind' not in choices:
    _one_of('adversary.kind', config.adversary.kind, adversarial.KINDS)
