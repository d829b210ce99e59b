"""Diffusion inpainters: a conditional denoiser (Palette-style) or an unconditional prior
sampled with RePaint, on the one trainer and evaluator.

`config.diffusion.mode`:
  conditional  the net sees the noisy image inside the hole, the clean known pixels and the
               mask, and predicts the hole's noise (or velocity); the loss counts the hole's
               pixels only. It never sees the hole's truth except through that noisy input.
  repaint      the net is an unconditional prior on whole images (or windows), trained with
               the plain loss on every pixel; at every reverse step the known pixels are
               replaced by the truth noised to that step, with RePaint's resampling
               (`jump_length`, `jump_n_sample`).
Both sample with `inpaintjax.diffusion.sample` (DDIM at `sampler='ddim'`, eta 0; ancestral
DDPM-like steps at `'ddpm'`, eta 1; `temperature` scales the noise those add) over
`sample_steps` of the `timesteps`, jitted as one `lax.scan`. `inpaint` returns one sample, or
the mean of `samples` samples (the mean tends to the regression answer, one sample is sharp);
`parts['fill']` draws several per image. The evaluation reports both beside the loss
(`sample_hole_psnr`, `sample_mean_hole_psnr`,
`sample_sharpness`, `sample_spread`: eval_step, over `eval_samples` samples), each image's
samples drawn from its own key.
With `diffusion.first_fill` ('harmonic' / 'biharmonic') the conditional net also sees that
classical fill of the hole (from the known pixels), a first guess it learns to sample around;
with `config.context_run` (another inpainting run, frozen: runs.make_tasks passes its fill as
`guess`) that run's fill of the hole is the first guess instead, as the conditional PixelCNN's.
With `diffusion.context` > 0 the chain runs on the central context×context window only
(centre holes that fit in it), as the U-Net `:best` looks at its window.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax.training import train_state

from inpaintjax import diffusion, metrics, models
from inpaintjax.data import masks
from inpaintjax.errors import ConfigError
from inpaintjax.tasks.base import Task, make_optimizer
from inpaintjax.tasks.regression import augmented, centre_crop, paste_centre

MODES = ('conditional', 'repaint')
# diffusion.first_fill: '' or a classical fill given to the conditional net beside the noisy
# hole (its hole values come from the known pixels only, never from the hole's truth).
FILLS = {'harmonic': masks.harmonic_fill, 'biharmonic': masks.biharmonic_fill}
FIRST_FILLS = ('',) + tuple(FILLS)
SAMPLERS = {'ddim': 0.0, 'ddpm': 1.0}  # The sampler's eta.
CONFIG_CHOICES = {'diffusion.mode': MODES, 'diffusion.first_fill': FIRST_FILLS,
                  'diffusion.schedule': diffusion.SCHEDULES,
                  'diffusion.prediction': diffusion.PREDICTIONS,
                  'diffusion.sampler': tuple(SAMPLERS)}


def conditional_input(x_t: jnp.ndarray, x_known: jnp.ndarray, mask: jnp.ndarray) -> jnp.ndarray:
  """The conditional net's input: the noisy hole, the clean known pixels, the mask channel.
  The hole's truth enters only through x_t."""
  return jnp.concatenate([jnp.where(mask > 0, x_t, x_known), mask.astype(x_t.dtype)], axis=-1)


def make_task(config, guess=None) -> Task:
  """The diffusion task for `config` (see configs/diffusion.py).

  `guess(images01, mask)`: another run's frozen inpainting (from `config.context_run`), the
  conditional net's first guess of the hole in place of `diffusion.first_fill`'s classical fill.
  """
  if 'diffusion' not in config:
    raise ConfigError("task 'diffusion' needs a config.diffusion section (mode, schedule, "
                      'timesteps, ...): start from configs/diffusion.py.')
  cfg = config.diffusion
  hole = masks.parse_hole(config.hole)
  context = int(cfg.context)
  if context and hole.kind != 'center':
    raise ConfigError(f'diffusion.context={context} needs centre holes (the chain runs on the '
                      f'central window), got hole={config.hole!r}; set diffusion.context=0.')
  if context and hole.size > context:
    raise ConfigError(f'hole {config.hole!r} does not fit in the {context}×{context} '
                      'diffusion.context window.')
  # A run saved before the field existed read K = max(samples, 2), as it did then.
  eval_samples = int(cfg.get('eval_samples', max(int(cfg.samples), 2)))
  if eval_samples < 2:
    raise ConfigError(f'diffusion.eval_samples must be at least 2 (the spread between samples '
                      f'needs two), got {eval_samples}.')
  conditional = cfg.mode == 'conditional'
  first_fill = str(cfg.get('first_fill', ''))  # Runs saved before the field: none.
  # The repaint prior sees no known pixels: no first fill there (the field is ignored).
  if first_fill not in FIRST_FILLS:
    raise ConfigError(f'diffusion.first_fill must be one of {FIRST_FILLS}, got {first_fill!r}.')
  if guess is not None and not conditional:
    raise ConfigError(f'context_run={config.get("context_run")!r} gives a first guess to the '
                      "conditional net; diffusion.mode='repaint' sees no known pixels.")
  # Whether the net reads a first guess of the hole beside the noisy input.
  hinted = conditional and bool(first_fill or guess is not None)
  abar = diffusion.alpha_bars(cfg.schedule, cfg.timesteps)
  grid = diffusion.time_grid(cfg.timesteps, cfg.sample_steps)
  path = (diffusion.plain_path(len(grid)) if conditional else
          diffusion.repaint_path(len(grid), cfg.jump_length, cfg.jump_n_sample))
  eta = SAMPLERS[cfg.sampler]
  # Runs saved before the field get it from config_base.ADDED_FIELDS (with_defaults, wherever
  # a saved config or an export is read).
  temperature = float(cfg.temperature)
  if temperature < 0:
    raise ConfigError(f'diffusion.temperature must be ≥ 0, got {temperature}.')
  model = models.build(config.model, out_channels=config.data.channels,
                       dtype=models.compute_dtype(config))
  window = (lambda a: centre_crop(a, context)) if context else (lambda a: a)

  def hint(x_known, mask):
    """A classical fill of the hole from the known pixels alone (None without first_fill)."""
    return FILLS[first_fill](x_known, mask) if conditional and first_fill else None

  def first_guess(x, mask):
    """The net's first guess of the hole on [-1, 1], windowed (None when it reads none), from
    whole images `x` on [-1, 1]: the context run's fill (that run inpaints the whole image it
    was trained on) or first_fill's on the window. Deterministic: computed once per batch and
    shared by every sample and reverse step."""
    if not hinted:
      return None
    if guess is None:
      return hint(window(x), window(mask))
    known01 = jnp.where(mask > 0, 0.0, (x + 1.0) / 2.0)  # The hole's truth never reaches it.
    g = jax.lax.stop_gradient(guess(known01, mask)).astype(jnp.float32) * 2.0 - 1.0
    return window(jnp.where(mask > 0, g, x))

  def net_input(x_t, x_known, mask, guessed=None):
    if not conditional:
      return x_t
    inp = conditional_input(x_t, x_known, mask)
    if hinted:
      guessed = hint(x_known, mask) if guessed is None else guessed
      inp = jnp.concatenate([inp, guessed], axis=-1)
    return inp

  def loss_terms(params, x, mask, t, noise, train, rng=None, guessed=None):
    """Per-example MSE of the prediction: over the hole (conditional) or every pixel."""
    a = jnp.asarray(abar)[t]
    x_t = diffusion.q_sample(x, a, noise)
    out = model.apply({'params': params}, net_input(x_t, x, mask, guessed),
                      t.astype(jnp.float32),
                      train=train, rngs={'dropout': rng} if train else {})
    err = (out - diffusion.target(cfg.prediction, x, noise, a)) ** 2
    weight = jnp.broadcast_to(mask, err.shape) if conditional else jnp.ones_like(err)
    return jnp.sum(err * weight, axis=(1, 2, 3)) / jnp.maximum(jnp.sum(weight, axis=(1, 2, 3)), 1)

  def draws(keys, shape):
    """Per-image (timestep, noise) from per-image keys: an image's draw is its own."""
    def one(k):
      k_t, k_n = jax.random.split(k)
      return jax.random.randint(k_t, (), 0, cfg.timesteps), jax.random.normal(k_n, shape[1:])
    return jax.vmap(one)(keys)

  def init(rng, batch):
    if batch['image'].shape[-1] != config.data.channels:
      raise ValueError(f'The data has {batch["image"].shape[-1]} channels; config.data.channels '
                       f'is {config.data.channels}.')
    x = window(batch['image'].astype(jnp.float32) / 127.5 - 1.0)
    inp = net_input(x, x, jnp.zeros(x.shape[:3] + (1,)), x if hinted else None)
    params = model.init({'params': rng}, inp, jnp.zeros(x.shape[0]))['params']
    return train_state.TrainState.create(apply_fn=model.apply, params=params,
                                         tx=make_optimizer(config.optim, config.num_steps))

  def train_step(state, batch, rng):
    k_aug, k_mask, k_draw, k_drop = jax.random.split(rng, 4)
    x = augmented(k_aug, batch['image'], config.augment, signed=True)
    mask = masks.make_masks(hole, k_mask, *x.shape[:3])
    guessed = first_guess(x, mask)
    x, mask = window(x), window(mask)
    t, noise = draws(jax.random.split(k_draw, x.shape[0]), x.shape)

    def loss_fn(params):
      return jnp.mean(loss_terms(params, x, mask, t, noise, True, k_drop, guessed))

    loss, grads = jax.value_and_grad(loss_fn)(state.params)
    return state.apply_gradients(grads=grads), {'loss': loss}

  def eval_step(state, batch):
    """Per-example readings: the denoising loss at a timestep and noise drawn from the
    image's own key, and the samples' (`sample_readings`)."""
    x = batch['image'].astype(jnp.float32) / 127.5 - 1.0
    guessed = first_guess(x, batch['mask'])
    x = window(x)
    t, noise = draws(batch['key'], x.shape)
    out = {'loss': loss_terms(state.params, x, window(batch['mask']), t, noise, False,
                              guessed=guessed)}
    return {**out, **sample_readings(state, batch, guessed)}

  def sample_readings(state, batch, guessed):
    """K = diffusion.eval_samples samples per image, keyed by the image's own key: one
    sample's hole PSNR and sharpness (`sample_hole_psnr`, `sample_sharpness`), the K-sample
    mean's hole PSNR (`sample_mean_hole_psnr`) and the spread between the samples
    (`sample_spread`: the per-pixel standard deviation over the K, averaged over the hole's
    pixels and channels, on [0, 1])."""
    images = batch['image'].astype(jnp.float32) / 255.0
    mask = batch['mask']
    k = eval_samples
    drawn = jax.lax.map(lambda i: fill_keyed(state, images, mask,
                                             jax.vmap(jax.random.fold_in, (0, None))(
                                                 batch['key'], i), guessed),
                        jnp.arange(k))
    hole = jnp.broadcast_to(mask, images.shape)
    spread = jnp.sum(jnp.std(drawn, axis=0) * hole, axis=(1, 2, 3)) / jnp.maximum(
        jnp.sum(hole, axis=(1, 2, 3)), 1)
    return {'sample_hole_psnr': metrics.hole_metrics(drawn[0], images, mask)['hole_psnr'],
            'sample_sharpness': metrics.sharpness_ratio(drawn[0], images, mask),
            'sample_mean_hole_psnr': metrics.hole_metrics(jnp.mean(drawn, axis=0), images,
                                                          mask)['hole_psnr'],
            'sample_spread': spread}

  def sample_window(params, x_known, mask, keys, guessed=None):
    if guessed is None:
      guessed = hint(x_known, mask)  # Once per chain, not at every reverse step.

    def predict(x_t, t):
      return model.apply({'params': params}, net_input(x_t, x_known, mask, guessed), t,
                         train=False)
    return diffusion.sample(predict, x_known, mask, keys, abar, grid, path, cfg.prediction, eta,
                            repaint=not conditional, temperature=temperature)

  def fill_keyed(state, images, mask, keys, guessed):
    """One sample per image in [0, 1] from per-image keys (N, 2), the known pixels exact;
    `guessed`: first_guess of these images."""
    x = images.astype(jnp.float32) * 2.0 - 1.0
    out = sample_window(state.params, window(x), window(mask), keys, guessed)
    out = jnp.clip(((paste_centre(x, out) if context else out) + 1.0) / 2.0, 0.0, 1.0)
    return jnp.where(mask > 0, out, images)  # Known pixels exact, not through the [-1, 1] scale.

  def fill(state, images, mask, key, num_samples=1):
    """(num_samples, N, H, W, C) samples in [0, 1], the known pixels untouched."""
    keys = jax.random.split(key, images.shape[0])
    guessed = first_guess(images.astype(jnp.float32) * 2.0 - 1.0, mask)
    return jax.lax.map(lambda i: fill_keyed(state, images, mask,
                                            jax.vmap(jax.random.fold_in, (0, None))(keys, i),
                                            guessed),
                       jnp.arange(num_samples))

  def inpaint(state, images, mask, rng):
    """One sample per image, or the mean of `diffusion.samples`."""
    return jnp.mean(fill(state, images, mask, rng, max(int(cfg.samples), 1)), axis=0)

  return Task(init=init, train_step=train_step, eval_step=eval_step, inpaint=inpaint, hole=hole,
              parts={'model': model, 'fill': fill, 'sample_window': sample_window,
                     'loss_terms': loss_terms, 'alpha_bars': abar, 'grid_samples': 3})
