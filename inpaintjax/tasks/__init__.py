"""What is optimised, as pure functions: one module per family; `make` picks one by name."""

from __future__ import annotations

from inpaintjax.tasks import (adversarial, autoregressive, classification, correction, diffusion,
                              regression)
from inpaintjax.tasks.base import Task

# The task modules by name: each has make_task(config, **extra) and may declare CONFIG_CHOICES.
MODULES = {'adversarial': adversarial, 'autoregressive': autoregressive,
           'classification': classification, 'correction': correction, 'diffusion': diffusion,
           'regression': regression}
TASKS = {name: module.make_task for name, module in MODULES.items()}


def config_choices(name: str) -> dict[str, tuple]:
  """{dotted config key: allowed values} that task `name` declares (CONFIG_CHOICES); {} for a
  name that is no task (config_check reports that one itself)."""
  return getattr(MODULES.get(name), 'CONFIG_CHOICES', {})


def fills_holes(name: str) -> bool:
  """Whether task `name` fills the hole before its model (`config.hole_fill`: a number, 'mean',
  'harmonic' or 'biharmonic'), as the module declares (FILLS_HOLES)."""
  return getattr(MODULES.get(name), 'FILLS_HOLES', False)


def make(config, **extra) -> Task:
  """The task named by `config.task`, built from the config.

  `extra`: what the task takes from outside the config (the autoregressive task's `guess`,
  another run's frozen inpainting; see runs.make_task).
  """
  if config.task == 'deconvolution':
    raise ValueError("Task 'deconvolution' is a sweep, not a trained model: run it with "
                     'python -m inpaintjax.main --config=configs/deconv.py')
  if config.task not in TASKS:
    raise ValueError(f'Unknown task {config.task!r}; known: {sorted(TASKS)}.')
  return TASKS[config.task](config, **extra)
