"""Autoregressive density models (PixelCNN, PixelRNN, flat LSTM) as inpainters.

Training maximises the likelihood of 8-bit images: a 256-way cross-entropy per
sub-pixel, reported as bits per dimension (`bits_per_dim`; the loss itself is
in nats). Inpainting generates the hole's sub-pixels in raster order, R → G → B,
with the fast sampler of `inpaintjax.autoregressive`: greedy at
`config.sample.temperature` 0, else sampled. `parts['fill']` draws several
samples per image for notebooks and the inpaint command.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax.training import train_state

from inpaintjax import autoregressive, losses, models
from inpaintjax.data import masks
from inpaintjax.tasks.base import Task, make_optimizer
from inpaintjax.tasks.regression import augmented


def quantise(x01: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
  """[0, 1] images → (the nearest 8-bit levels in [0, 1], those levels as int32 targets)."""
  levels = jnp.clip(jnp.round(x01 * 255.0), 0, 255)
  return levels / 255.0, levels.astype(jnp.int32)


def make_task(config) -> Task:
  """The autoregressive task for `config` (see configs/pixelcnn.py and configs/pixelrnn.py)."""
  hole = masks.parse_hole(config.hole)
  model = models.build(config.model, out_channels=config.data.channels)
  temperature = float(config.sample.temperature)

  def nll(params, x01, targets, train=False, rng=None):
    logits = model.apply({'params': params}, x01, train=train,
                         rngs={'dropout': rng} if train else {})
    return losses.bits_per_dim(logits, targets, per_example=True) * jnp.log(2.0)

  def init(rng, batch):
    if batch['image'].shape[-1] != config.data.channels:
      raise ValueError(f'The data has {batch["image"].shape[-1]} channels; config.data.channels '
                       f'is {config.data.channels}.')
    x = batch['image'].astype(jnp.float32) / 255.0
    params = model.init({'params': rng}, x)['params']
    return train_state.TrainState.create(apply_fn=model.apply, params=params,
                                         tx=make_optimizer(config.optim, config.num_steps))

  def train_step(state, batch, rng):
    k_aug, k_drop = jax.random.split(rng)
    x, targets = quantise(augmented(k_aug, batch['image'], config.augment, signed=False))

    def loss_fn(params):
      return jnp.mean(nll(params, x, targets, True, k_drop))

    loss, grads = jax.value_and_grad(loss_fn)(state.params)
    return state.apply_gradients(grads=grads), {'loss': loss,
                                                'bits_per_dim': loss / jnp.log(2.0)}

  def eval_step(state, batch):
    x, targets = quantise(batch['image'].astype(jnp.float32) / 255.0)
    loss = nll(state.params, x, targets)
    return {'loss': loss, 'bits_per_dim': loss / jnp.log(2.0)}

  def inpaint(state, images, mask, rng):
    return autoregressive.fill(model, {'params': state.params}, quantise(images)[0], mask, rng,
                               temperature)

  def fill(state, images, mask, key, temperature=temperature, num_samples=1):
    """(num_samples, N, H, W, C) fills of each image (the known pixels untouched)."""
    n = images.shape[0]
    tiled = jnp.tile(quantise(images)[0], (num_samples, 1, 1, 1))
    out = autoregressive.fill(model, {'params': state.params}, tiled,
                              jnp.tile(mask, (num_samples, 1, 1, 1)), key, temperature)
    return out.reshape(num_samples, n, *images.shape[1:])

  return Task(init=init, train_step=train_step, eval_step=eval_step, inpaint=inpaint, hole=hole,
              parts={'model': model, 'fill': fill})
