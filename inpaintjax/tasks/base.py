"""The task interface: what the one trainer and the one evaluator call, as pure functions.

A task is built from a config and never touches files or flags:

  init(rng, example_batch) -> state            any pytree with an integer `step`
  train_step(state, batch, rng) -> (state, metrics)   scalar metrics, jitted by the trainer
  eval_step(state, batch) -> metrics           per-example (N,) arrays; batch has a `mask`
  inpaint(state, images, mask, rng) -> images  raw predictions in [0, 1], full size
  predict(state, images) -> outputs            optional: a corrector's repaired images,
                                               a classifier's logits (images in [0, 1])
  predicts                                     what `predict` returns: 'images' or 'logits'
  check_data(dataset) -> None                  optional: raises if the data can't serve
  batch_multiple                               batches per train step (default 1)
  flip_averages                                whether `inpaint` honours config.flip_average

Batches are dicts of arrays: `image` uint8 NHWC, optional `label`, and for
evaluation a float `mask` (N, H, W, 1), 1 = missing, and `key` (N, 2) uint32, a
PRNG key per example (fixed by `config.eval_seed`) for tasks whose evaluation
draws something, such as distortions. A GAN keeps two optimizers
in its state and runs its critic loop inside `train_step`; a classifier leaves
`inpaint` as None; nothing in the trainer depends on which.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import optax

from inpaintjax.data import masks


@dataclasses.dataclass(frozen=True)
class Task:
  """The functions of a task, plus the hole it trains on (the evaluator's default)."""
  init: Callable[..., Any]
  train_step: Callable[..., Any]
  eval_step: Callable[..., Any]
  inpaint: Callable[..., Any] | None
  hole: masks.Hole | None
  predict: Callable[..., Any] | None = None
  predicts: str = ''  # 'images' (a corrector) or 'logits' (a classifier): how evaluate scores it.
  check_data: Callable[..., None] | None = None
  # A train step consumes batch_multiple × config.batch_size images (a GAN: one batch per
  # critic update plus one for the generator).
  batch_multiple: int = 1
  # What `config.init_from` copies from another run: (state, source state) → (state, count);
  # None copies every matching parameter (checkpoint.copy_trained).
  warm_start: Callable[..., Any] | None = None
  # Whether `inpaint` honours config.flip_average (the evaluator's --flip_average needs it).
  flip_averages: bool = False
  parts: dict = dataclasses.field(default_factory=dict)


def trainable_labels(trainable: str):
  """For `optim.trainable` ('' = everything): a function params → the same tree of 'train' or
  'freeze' labels, 'train' where a leaf's path has one of the comma-separated module names."""
  names = {n.strip() for n in trainable.split(',') if n.strip()}

  def labels(params):
    def label(path, _):
      keys = {getattr(k, 'key', getattr(k, 'name', None)) for k in path}
      return 'train' if names & keys else 'freeze'
    tree = jax.tree_util.tree_map_with_path(label, params)
    if 'train' not in jax.tree.leaves(tree):
      raise ValueError(f'optim.trainable={trainable!r} names no module of this model.')
    return tree

  return labels


def make_optimizer(optim_cfg, num_steps: int) -> optax.GradientTransformation:
  """Adam/AdamW/SGD/RMSProp with a constant or warmup-cosine schedule and optional clipping.

  `optim.trainable` (comma-separated module names, '' = all) trains only those modules: the
  rest of the parameters stay as they are (e.g. a new head on a warm-started, frozen body).
  """
  lr = optim_cfg.learning_rate
  if optim_cfg.schedule == 'cosine':
    lr = optax.warmup_cosine_decay_schedule(0.0, lr, max(optim_cfg.warmup_steps, 1),
                                            max(num_steps, optim_cfg.warmup_steps + 2),
                                            end_value=lr * 0.01)
  elif optim_cfg.schedule != 'constant':
    raise ValueError(f"Unknown schedule {optim_cfg.schedule!r}; known: 'constant', 'cosine'.")
  makers = {
      'adam': lambda: optax.adam(lr, b1=optim_cfg.b1, b2=optim_cfg.b2),
      'adamw': lambda: optax.adamw(lr, b1=optim_cfg.b1, b2=optim_cfg.b2,
                                   weight_decay=optim_cfg.weight_decay),
      'sgd': lambda: optax.sgd(lr, momentum=optim_cfg.b1 or None),
      'rmsprop': lambda: optax.rmsprop(lr),
  }
  if optim_cfg.name not in makers:
    raise ValueError(f'Unknown optimizer {optim_cfg.name!r}; known: {sorted(makers)}.')
  tx = makers[optim_cfg.name]()
  if optim_cfg.grad_clip:
    tx = optax.chain(optax.clip_by_global_norm(optim_cfg.grad_clip), tx)
  if optim_cfg.get('trainable', ''):
    tx = optax.multi_transform({'train': tx, 'freeze': optax.set_to_zero()},
                               trainable_labels(optim_cfg.trainable))
  return tx
