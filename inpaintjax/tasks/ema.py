"""An exponential moving average of a task's weights, as a wrapper around any task.

`with_ema(task, decay)` is the same task whose state also carries the average of every
parameter and batch-norm statistic (the leaves `checkpoint.copy_trained` calls trained):

    ema ← d·ema + (1 − d)·w   after each step,   d = min(decay, (1 + t) / (10 + t))

where t is the step just reached. The warm-up (TensorFlow's `num_updates` rule) keeps the
average from clinging to the initial weights in short runs; after a few thousand steps d is
`decay`. The average lives in the checkpointed state, so a resumed run continues it exactly.
The wrapped task's inference functions (eval_step, inpaint, predict) use the average;
`weights(state, 'raw')` gives the inner state with the trained weights as they are.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flax
import jax
import jax.numpy as jnp

from inpaintjax import checkpoint
from inpaintjax.tasks.base import Task

WEIGHTS = ('ema', 'raw')


@flax.struct.dataclass
class EmaState:
  """A task's state plus the moving average of its trained leaves (in `trained_paths` order)."""
  inner: Any
  ema: list

  @property
  def step(self):
    return self.inner.step

  @property
  def params(self):
    return self.inner.params


def trained_leaves(state) -> list:
  """The trained leaves of `state`, in the tree's flattening order."""
  return [leaf for path, leaf in jax.tree_util.tree_flatten_with_path(state)[0]
          if checkpoint.is_trained(path)]


def replace_trained(state, leaves: list):
  """`state` with its trained leaves replaced, in order, by `leaves`."""
  it = iter(leaves)
  out = jax.tree_util.tree_map_with_path(
      lambda path, leaf: next(it) if checkpoint.is_trained(path) else leaf, state)
  if next(it, None) is not None:
    raise ValueError('More averaged leaves than trained leaves: the state changed shape.')
  return out


def decay_at(decay: float, step) -> jnp.ndarray:
  """The decay used after reaching `step`: the warm-up rule, capped at `decay`."""
  t = jnp.asarray(step, jnp.float32)
  return jnp.minimum(decay, (1.0 + t) / (10.0 + t))


def update(ema: list, leaves: list, decay: float, step) -> list:
  """One averaging step (module-level so that a notebook or a test can call it)."""
  d = decay_at(decay, step)
  return [(d * e + (1.0 - d) * w).astype(e.dtype) for e, w in zip(ema, leaves)]


def weights(state, which: str = 'ema'):
  """The inner state with the averaged ('ema') or the trained ('raw') weights.

  A state without an average (ema_decay = 0) is returned as it is for 'raw' and refused for
  'ema'.
  """
  if which not in WEIGHTS:
    raise ValueError(f"weights must be one of {WEIGHTS}, got {which!r}.")
  if not isinstance(state, EmaState):
    if which == 'ema':
      raise ValueError('This run keeps no moving average (config.ema_decay = 0): use '
                       '--weights=raw.')
    return state
  return replace_trained(state.inner, state.ema) if which == 'ema' else state.inner


def with_ema(task: Task, decay: float) -> Task:
  """`task` with a moving average of its weights in the state (see the module docstring)."""
  if not 0.0 < decay < 1.0:
    raise ValueError(f'ema_decay must be in (0, 1) (0 turns the average off), got {decay}.')

  def init(rng, batch):
    inner = task.init(rng, batch)
    return EmaState(inner, trained_leaves(inner))

  def train_step(state, batch, rng):
    inner, metrics = task.train_step(state.inner, batch, rng)
    return EmaState(inner, update(state.ema, trained_leaves(inner), decay, inner.step)), metrics

  def on_average(fn):
    return None if fn is None else (lambda state, *a: fn(weights(state, 'ema'), *a))

  def warm_start(state, source):
    # The copied weights start the average too (a fresh average of a pretrained net), as
    # copies: the train step donates its state, and one buffer in two leaves would be donated
    # twice (XLA refuses it, then the process dies).
    from_source = task.warm_start or checkpoint.copy_trained
    inner, copied = from_source(state.inner, source)
    return EmaState(inner, [jnp.copy(leaf) for leaf in trained_leaves(inner)]), copied

  return dataclasses.replace(
      task, init=init, train_step=train_step, eval_step=on_average(task.eval_step),
      inpaint=on_average(task.inpaint), predict=on_average(task.predict), warm_start=warm_start)
