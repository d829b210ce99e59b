"""Correcting autoencoders: repair images damaged by several distortions at once.

Each training image is distorted on device (data/distortions.py: a flip or
rotation, Gaussian noise or a brightness gradient, a black occlusion), one key
per example, and the autoencoder learns to give back the clean image. The mode
`distort.mode` is 'single', 'multiple', or 'both' (each example single or
multiple with equal probability: a corrector must also leave an upright image
upright, which multiple-mode training alone never shows it).

Loss (`loss.kind`): 'bce', binary cross-entropy on the model's logits (the
source's choice), or 'mse' on sigmoid(logits); plus an optional L1/L2 penalty
`reg.strength · penalty` on the model's weights, biases, or its bottleneck
code's activations (`reg.kind`, `reg.target`); plus, for a model with a
canonicaliser (`model.orient`), `loss.orient_weight` × the cross-entropy of its
orientation logits against the flip or rotation the distorter drew (the
distorter knows it, so this needs no labels). Evaluation distorts the held-out
images with the per-example keys of `config.eval_seed`, so every evaluation and
every model sees the same damage.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from flax.training import train_state

from inpaintjax import losses, models
from inpaintjax.data import distortions
from inpaintjax.models import orientation
from inpaintjax.tasks.base import Task, make_optimizer
from inpaintjax.tasks.regression import to_model_scale

LOSSES = ('bce', 'mse')
# What config_check accepts for this task's config fields.
CONFIG_CHOICES = {'loss.kind': LOSSES}


def reconstruction(kind: str, logits: jnp.ndarray, target: jnp.ndarray,
                   per_example: bool = False) -> jnp.ndarray:
  """'bce' on logits, or 'mse' of sigmoid(logits), against targets in [0, 1]."""
  if kind == 'bce':
    return losses.binary_cross_entropy(logits, target, per_example)
  if kind == 'mse':
    err = losses.squared_error(jax.nn.sigmoid(logits), target)
    return losses.weighted_mean(err, None, per_example)
  raise ValueError(f'Unknown correction loss {kind!r}; known: {LOSSES}.')


def penalty(reg_cfg, params, code) -> jnp.ndarray:
  """reg.strength × the L1/L2 penalty on weights, biases or the code ('' = none)."""
  if not reg_cfg.kind or not reg_cfg.strength:
    return jnp.zeros(())
  if reg_cfg.target == 'activations':
    value = losses.activity_penalty(code, reg_cfg.kind)
  else:
    value = losses.parameter_penalty(params, reg_cfg.kind, reg_cfg.target)
  return reg_cfg.strength * value


def make_distorter(distort_cfg):
  """`distort(keys (N, 2), images) -> (images, info)` for the config, a key per example.

  info is `distortions.distort`'s, batched: 'geometric', 'noise', 'occlusion' of shape (N,).
  """
  d = distortions.from_config(distort_cfg)
  return jax.vmap(lambda key, image: distortions.distort(key, image, d))


def orientation_loss(logits: jnp.ndarray, geometric_op: jnp.ndarray) -> jnp.ndarray:
  """Mean cross-entropy of D4 logits (N, 8) against the distorter's geometric ops (N,), -1 =
  none."""
  return optax.softmax_cross_entropy_with_integer_labels(
      logits, orientation.dihedral_index(geometric_op)).mean()


def make_task(config) -> Task:
  """The correction task for `config` (see configs/correcting_ae.py)."""
  distort = make_distorter(config.distort)
  kind, reg_cfg = config.loss.kind, config.reg
  if kind not in LOSSES:
    raise ValueError(f'Unknown correction loss {kind!r}; known: {LOSSES}.')
  orients = bool(config.model.get('orient', False))
  dtype = models.compute_dtype(config)
  orient_weight = float(config.loss.get('orient_weight', 0.0))
  if orient_weight and not orients:
    raise ValueError('loss.orient_weight needs a model with a canonicaliser: set model.orient.')

  def logits_and_code(state, params, x, train, rng=None):
    """(image logits, code, orientation logits or None)."""
    rngs = {'dropout': rng} if train else {}
    logits, inter = state.apply_fn({'params': params}, x, train=train, rngs=rngs,
                                   mutable=['intermediates'])
    inter = inter['intermediates']
    return logits, inter['code'][0], inter['orient_logits'][0] if orients else None

  def init(rng, batch):
    x = to_model_scale(batch['image'], signed=False)
    model = models.build(config.model, out_channels=x.shape[-1], output='logits', dtype=dtype)
    params = model.init({'params': rng}, x)['params']
    return train_state.TrainState.create(apply_fn=model.apply, params=params,
                                         tx=make_optimizer(config.optim, config.num_steps))

  def train_step(state, batch, rng):
    k_dist, k_drop = jax.random.split(rng)
    clean = to_model_scale(batch['image'], signed=False)
    damaged, info = distort(jax.random.split(k_dist, clean.shape[0]), clean)

    def loss_fn(params):
      logits, code, orient_logits = logits_and_code(state, params, damaged, True, k_drop)
      parts = {'reconstruction': reconstruction(kind, logits, clean)}
      if orient_weight:
        parts['orientation'] = orientation_loss(orient_logits, info['geometric'])
      loss = (parts['reconstruction'] + penalty(reg_cfg, params, code)
              + orient_weight * parts.get('orientation', 0.0))
      return loss, parts

    (loss, parts), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    return state.apply_gradients(grads=grads), {'loss': loss, **parts}

  def eval_step(state, batch):
    clean = to_model_scale(batch['image'], signed=False)
    damaged, info = distort(batch['key'], clean)
    logits, _, orient_logits = logits_and_code(state, state.params, damaged, False)
    extra = {}
    if orients:  # How often the canonicaliser names the flip or rotation drawn.
      truth = orientation.dihedral_index(info['geometric'])
      extra['orient_accuracy'] = (orient_logits.argmax(-1) == truth).astype(jnp.float32)
    return {**extra, 'loss': reconstruction(kind, logits, clean, per_example=True),
            'mse': losses.weighted_mean(losses.squared_error(jax.nn.sigmoid(logits), clean),
                                        None, per_example=True),
            'mse_damaged': losses.weighted_mean(losses.squared_error(damaged, clean), None,
                                                per_example=True)}

  def predict(state, images01):
    logits, _, _ = logits_and_code(state, state.params, images01, False)
    return jax.nn.sigmoid(logits)

  return Task(init=init, train_step=train_step, eval_step=eval_step, inpaint=None, hole=None,
              predict=predict, predicts='images')
