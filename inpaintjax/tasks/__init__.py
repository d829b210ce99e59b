"""What is optimised, as pure functions: one module per family; `make` picks one by name."""

from __future__ import annotations

from inpaintjax.tasks import adversarial, autoregressive, classification, correction, regression
from inpaintjax.tasks.base import Task

TASKS = {
    'adversarial': adversarial.make_task,
    'autoregressive': autoregressive.make_task,
    'classification': classification.make_task,
    'correction': correction.make_task,
    'regression': regression.make_task,
}


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
