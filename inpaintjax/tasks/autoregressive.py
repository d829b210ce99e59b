"""Autoregressive density models (PixelCNN, PixelRNN, flat LSTM) as inpainters.

Training maximises the likelihood of 8-bit images: a 256-way cross-entropy per
sub-pixel, reported as bits per dimension (`bits_per_dim`; the loss itself is
in nats). Inpainting generates the hole's sub-pixels in raster order, R → G → B,
with the fast sampler of `inpaintjax.autoregressive`: greedy at
`config.sample.temperature` 0, else sampled. `parts['fill']` draws several
samples per image for notebooks and the inpaint command.

A conditional model (`model.context` > 0, configs/pixelcnn.py:conditional) learns
p(hole | everything known) instead: it reads the known pixels on every side
(`autoregressive.context_input`), trains on holes drawn like `config.hole`'s, and
its loss and `hole_bits_per_dim` count the hole's sub-pixels only (the known ones
are given, so their likelihood says nothing). With `config.context_run` naming an
inpainting run (e.g. a U-Net), the context's hole holds that run's prediction
instead of the harmonic fill: the PixelCNN models the distribution around a
regression model's guess (cf. Dahl et al., 2017, Pixel Recursive Super Resolution,
a conditioning network beside a PixelCNN prior). That run stays frozen.
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


def make_task(config, guess=None) -> Task:
  """The autoregressive task for `config` (see configs/pixelcnn.py and configs/pixelrnn.py).

  `guess(images01, mask)`: the first guess of the hole that a conditional model sees in its
  context (runs.make_task builds it from `config.context_run`: another run's frozen
  inpainting); None fills the context's hole harmonically.
  """
  hole = masks.parse_hole(config.hole)
  model = models.build(config.model, out_channels=config.data.channels,
                       dtype=models.compute_dtype(config))
  temperature = float(config.sample.temperature)
  cond = autoregressive.conditional(model)
  bits_name = 'hole_bits_per_dim' if cond else 'bits_per_dim'
  if guess is not None and not cond:
    raise ValueError(f'context_run={config.get("context_run")!r} needs a conditional model '
                     '(model.context > 0).')
  guess = guess or (lambda images01, mask: None)

  def context(x01, mask):
    return autoregressive.context_input(x01, mask, guess(x01, mask))

  def nll(params, x01, targets, mask=None, train=False, rng=None):
    """Per-example nats per sub-pixel: every one, or the hole's for a conditional model."""
    extra = {'context': context(x01, mask)} if cond else {}
    logits = model.apply({'params': params}, x01, train=train,
                         rngs={'dropout': rng} if train else {}, **extra)
    return losses.bits_per_dim(logits, targets, True, mask if cond else None) * jnp.log(2.0)

  def init(rng, batch):
    if batch['image'].shape[-1] != config.data.channels:
      raise ValueError(f'The data has {batch["image"].shape[-1]} channels; config.data.channels '
                       f'is {config.data.channels}.')
    x = batch['image'].astype(jnp.float32) / 255.0
    extra = {}
    if cond:
      mask = masks.make_masks(hole, rng, *x.shape[:3])
      extra['context'] = context(x, mask)
    params = model.init({'params': rng}, x, **extra)['params']
    return train_state.TrainState.create(apply_fn=model.apply, params=params,
                                         tx=make_optimizer(config.optim, config.num_steps))

  def train_step(state, batch, rng):
    k_aug, k_drop, k_mask = jax.random.split(rng, 3)
    x, targets = quantise(augmented(k_aug, batch['image'], config.augment, signed=False))
    mask = masks.make_masks(hole, k_mask, *x.shape[:3]) if cond else None

    def loss_fn(params):
      return jnp.mean(nll(params, x, targets, mask, True, k_drop))

    loss, grads = jax.value_and_grad(loss_fn)(state.params)
    return state.apply_gradients(grads=grads), {'loss': loss, bits_name: loss / jnp.log(2.0)}

  def eval_step(state, batch):
    """Per-example bits/dim: the hole's sub-pixels given every sub-pixel before each in raster
    order (`hole_bits_per_dim`, when the batch has a mask) and, for a plain model, the whole
    image's (`bits_per_dim`); the loss is the trained one."""
    x, targets = quantise(batch['image'].astype(jnp.float32) / 255.0)
    mask = batch.get('mask')
    extra = {'context': context(x, mask)} if cond else {}
    logits = model.apply({'params': state.params}, x, train=False, **extra)
    out = {}
    if mask is not None:
      out['hole_bits_per_dim'] = losses.bits_per_dim(logits, targets, True, mask)
    if not cond:
      out['bits_per_dim'] = losses.bits_per_dim(logits, targets, True)
    out['loss'] = out[bits_name] * jnp.log(2.0)
    return out

  def inpaint(state, images, mask, rng):
    x = quantise(images)[0]
    return autoregressive.fill(model, {'params': state.params}, x, mask, rng, temperature,
                               guess(x, mask))

  def fill(state, images, mask, key, temperature=temperature, num_samples=1):
    """(num_samples, N, H, W, C) fills of each image (the known pixels untouched)."""
    n = images.shape[0]
    x = quantise(images)[0]

    def tile(a):
      return None if a is None else jnp.tile(a, (num_samples, 1, 1, 1))

    # The first guess is the same for every sample: computed once, then tiled.
    out = autoregressive.fill(model, {'params': state.params}, tile(x), tile(mask), key,
                              temperature, tile(guess(x, mask)))
    return out.reshape(num_samples, n, *images.shape[1:])

  return Task(init=init, train_step=train_step, eval_step=eval_step, inpaint=inpaint, hole=hole,
              parts={'model': model, 'fill': fill})
