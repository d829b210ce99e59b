"""Reconstruction by regression: the patch CNN, the U-Net, and every model trained with MSE.

The model sees the image with its hole filled (`config.hole_fill`: a constant
in the model's pixel scale, 'mean', 'harmonic' — a smooth Laplace fill — or 'biharmonic') and,
if `config.mask_channel`, the mask as one more input channel. With
`config.residual` the model's (linear) output is added to the filled image, so
it learns a correction to the fill rather than the pixels themselves. It outputs either the whole image or a centre patch (a smaller
output is a patch centred like a PROTOCOL hole, and is pasted back there).
The loss (`loss.kind`: mse, l1, rgb_dist — the Euclidean colour distance —, or log_mse, the
negative per-image PSNR) is weighted per pixel: `loss.hole_weight` inside the hole and
`loss.known_weight` outside it (0 for a hole-only loss; larger than the hole
weight for the context-encoder overlap trick).
With `config.flip_average` the inpainted image is the mean of the prediction for the image and
the mirrored prediction for its left-right mirror image (and mirrored mask): test-time flip
averaging, the same symmetry the flip augmentation teaches; it changes inference only, so it can
be switched on for a run trained without it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax.training import train_state

from inpaintjax import losses, models
from inpaintjax.data import augment, masks
from inpaintjax.tasks.base import Task, make_optimizer

# What config_check accepts for this task's config fields.
CONFIG_CHOICES = {'loss.kind': losses.LOSS_KINDS}
FILLS_HOLES = True  # config.hole_fill: what the model sees in the hole.


class RegressionState(train_state.TrainState):
  """Flax TrainState plus the hole fill value (per channel, in the model's pixel scale)."""
  fill: jnp.ndarray


def to_model_scale(images_u8: jnp.ndarray, signed: bool) -> jnp.ndarray:
  """uint8 → float in [0, 1], or [-1, 1] when `signed`."""
  x = images_u8.astype(jnp.float32) / 255.0
  return 2.0 * x - 1.0 if signed else x


def from_model_scale(x: jnp.ndarray, signed: bool) -> jnp.ndarray:
  """Model scale → [0, 1]."""
  return (x + 1.0) / 2.0 if signed else x


def centre_crop(x: jnp.ndarray, size: int) -> jnp.ndarray:
  """The `size`×`size` patch where a PROTOCOL centre hole of that size sits."""
  top, left = masks.center_box(x.shape[1], x.shape[2], size)
  return x[:, top:top + size, left:left + size]


def paste_centre(x: jnp.ndarray, patch: jnp.ndarray) -> jnp.ndarray:
  """Pastes a square patch into `x` where a centre hole of its size sits."""
  top, left = masks.center_box(x.shape[1], x.shape[2], patch.shape[1])
  return jax.lax.dynamic_update_slice(x, patch.astype(x.dtype), (0, top, left, 0))


def augmented(key, images_u8: jnp.ndarray, augment_cfg, signed: bool) -> jnp.ndarray:
  """uint8 images augmented in [0, 1] (colour changes need that range), then in model scale."""
  x = augment.augment(key, images_u8.astype(jnp.float32) / 255.0, **augment_cfg)
  return 2.0 * x - 1.0 if signed else x


def add_fill(out: jnp.ndarray, filled: jnp.ndarray) -> jnp.ndarray:
  """A residual output plus the filled image (its centre, when the output is a patch)."""
  return out + (centre_crop(filled, out.shape[1]) if out.shape[1:3] != filled.shape[1:3]
                else filled)


def full_image(out: jnp.ndarray, filled: jnp.ndarray) -> jnp.ndarray:
  """The output as a whole image: a patch is pasted into the filled image's centre."""
  return paste_centre(filled, out) if out.shape[1:3] != filled.shape[1:3] else out


def fill_hole(fill: jnp.ndarray, x: jnp.ndarray, mask: jnp.ndarray, kind: str):
  """The image with its hole filled by the constant `fill`, or (`kind`, a config's
  `hole_fill`: 'harmonic' / 'biharmonic') by that interpolation of the known pixels."""
  if kind == 'harmonic':
    return masks.harmonic_fill(x, mask)
  if kind == 'biharmonic':
    return masks.biharmonic_fill(x, mask)
  return masks.apply_mask(x, mask, fill)


def model_input(filled: jnp.ndarray, mask: jnp.ndarray, mask_channel: bool) -> jnp.ndarray:
  """The filled image, plus the mask as a channel when asked."""
  return jnp.concatenate([filled, mask], axis=-1) if mask_channel else filled


def reconstruction_loss(out: jnp.ndarray, x: jnp.ndarray, mask: jnp.ndarray, hole_weight: float,
                        known_weight: float, per_example: bool = False,
                        kind: str = 'mse') -> jnp.ndarray:
  """Weighted pixel loss (`kind`: mse, l1, rgb_dist) of a full-image or centre-patch output."""
  weights = known_weight * (1.0 - mask) + hole_weight * mask
  if out.shape[1:3] != x.shape[1:3]:
    x, weights = centre_crop(x, out.shape[1]), centre_crop(weights, out.shape[1])
  return losses.pixel_loss(kind, out, x, weights, per_example)


def flip_averaged(predict):
  """`predict(x, mask)` averaged with its mirror: the prediction for the left-right mirrored
  image and mask, mirrored back (test-time flip averaging)."""
  flip = lambda a: a[:, :, ::-1]
  return lambda x, mask: 0.5 * (predict(x, mask) + flip(predict(flip(x), flip(mask))))


def make_task(config) -> Task:
  """The regression task for `config` (see configs/unet.py and configs/patch_cnn.py)."""
  hole = masks.parse_hole(config.hole)
  signed = config.signed
  loss_cfg = config.loss
  dtype = models.compute_dtype(config)

  def forward(state, params, x, mask, train, rng=None):
    """(model output — full image or centre patch —, the filled input image)."""
    filled = fill_hole(state.fill, x, mask, config.hole_fill)
    rngs = {'dropout': rng} if train else {}
    out = state.apply_fn({'params': params}, model_input(filled, mask, config.mask_channel),
                         train=train, rngs=rngs)
    return (add_fill(out, filled) if config.residual else out), filled

  def init(rng, batch):
    x = to_model_scale(batch['image'], signed)
    n, height, width, channels = x.shape
    model = models.build(config.model, out_channels=channels,
                         patch_size=hole.size if hole.kind == 'center' else 0, dtype=dtype)
    fill = jnp.broadcast_to(masks.fill_value(config.hole_fill, jnp.mean(x, axis=(0, 1, 2))),
                            (channels,))
    mask = masks.make_masks(hole, rng, n, height, width)
    inp = model_input(fill_hole(fill, x, mask, config.hole_fill), mask, config.mask_channel)
    params = model.init({'params': rng}, inp)['params']
    return RegressionState.create(apply_fn=model.apply, params=params,
                                  tx=make_optimizer(config.optim, config.num_steps), fill=fill)

  def train_step(state, batch, rng):
    k_aug, k_mask, k_drop = jax.random.split(rng, 3)
    x = augmented(k_aug, batch['image'], config.augment, signed)
    mask = masks.make_masks(hole, k_mask, *x.shape[:3])

    def loss_fn(params):
      out, _ = forward(state, params, x, mask, True, k_drop)
      return reconstruction_loss(out, x, mask, loss_cfg.hole_weight, loss_cfg.known_weight,
                                 kind=loss_cfg.kind)

    loss, grads = jax.value_and_grad(loss_fn)(state.params)
    return state.apply_gradients(grads=grads), {'loss': loss}

  def eval_step(state, batch):
    x = to_model_scale(batch['image'], signed)
    out, _ = forward(state, state.params, x, batch['mask'], False)
    return {'loss': reconstruction_loss(out, x, batch['mask'], loss_cfg.hole_weight,
                                        loss_cfg.known_weight, True, loss_cfg.kind)}

  def inpaint(state, images, mask, rng):
    del rng  # Deterministic model.
    x = 2.0 * images - 1.0 if signed else images

    def predict(x, mask):
      return full_image(*forward(state, state.params, x, mask, False))

    predict = flip_averaged(predict) if config.flip_average else predict
    return from_model_scale(predict(x, mask), signed)

  return Task(init=init, train_step=train_step, eval_step=eval_step, inpaint=inpaint, hole=hole,
              flip_averages=True)

