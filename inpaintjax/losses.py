"""Loss functions as plain module-level functions: import them into a notebook and call them.

Each pixel error (`squared`, `absolute`, `euclidean`) maps predictions and
targets of the same NHWC shape to an error per element (or per pixel, for the
Euclidean colour distance); `weighted_mean` averages it under a per-pixel
weight map (e.g. a hole mask), over the batch or per example. Binary and
softmax cross-entropy take logits; the penalties are the optional L1/L2
regularisers on weights, biases or activations.
"""

from __future__ import annotations

import flax
import jax
import jax.numpy as jnp
import optax


def squared_error(pred: jnp.ndarray, target: jnp.ndarray) -> jnp.ndarray:
  """(pred - target)² per element."""
  return jnp.square(pred - target)


def absolute_error(pred: jnp.ndarray, target: jnp.ndarray) -> jnp.ndarray:
  """|pred - target| per element."""
  return jnp.abs(pred - target)


def euclidean_error(pred: jnp.ndarray, target: jnp.ndarray, eps: float = 1e-3) -> jnp.ndarray:
  """Colour distance per pixel, sqrt(Σ_c (pred - target)² + eps²), shape (..., 1).

  The training counterpart of PROTOCOL's `rgb_dist`; `eps` keeps the gradient
  finite at zero error (a Charbonnier loss).
  """
  return jnp.sqrt(jnp.sum(jnp.square(pred - target), axis=-1, keepdims=True) + eps ** 2)


PIXEL_ERRORS = {'mse': squared_error, 'l1': absolute_error, 'rgb_dist': euclidean_error}


def weighted_mean(errors: jnp.ndarray, weights: jnp.ndarray | None = None,
                  per_example: bool = False) -> jnp.ndarray:
  """Σ w·e / Σ w over everything (a scalar) or per example (shape (N,)).

  Normalising by the weight sum keeps the scale of the plain mean whatever the
  weighting, so learning rates carry over between whole-image and hole-only loss.
  """
  weights = jnp.ones_like(errors) if weights is None else jnp.broadcast_to(weights, errors.shape)
  axes = tuple(range(1, errors.ndim)) if per_example else None
  return (jnp.sum(weights * errors, axis=axes) /
          jnp.maximum(jnp.sum(weights, axis=axes), 1e-8))


def log_mse(pred: jnp.ndarray, target: jnp.ndarray, weights: jnp.ndarray | None = None,
            per_example: bool = False, eps: float = 1e-5) -> jnp.ndarray:
  """10·log10(weighted MSE + eps) per example (dB), or its mean over the batch.

  The negative of each image's PSNR (up to a constant set by the pixel scale), so its batch
  mean is what PROTOCOL's `hole_psnr` averages: unlike the plain MSE, where the images with
  the largest errors dominate, every image's relative improvement counts the same. `eps`
  caps an image's contribution near zero error.
  """
  per_image = weighted_mean(squared_error(pred, target), weights, per_example=True)
  db = 10.0 * jnp.log10(per_image + eps)
  return db if per_example else jnp.mean(db)


LOSS_KINDS = (*PIXEL_ERRORS, 'log_mse')


def pixel_loss(kind: str, pred, target, weights=None, per_example: bool = False):
  """The weighted mean of the pixel error `kind` ('mse', 'l1', 'rgb_dist'), or 'log_mse'."""
  if kind not in LOSS_KINDS:
    raise ValueError(f'Unknown loss kind {kind!r}; known: {LOSS_KINDS}.')
  if kind == 'log_mse':
    return log_mse(pred, target, weights, per_example)
  errors = PIXEL_ERRORS[kind](pred, target)
  if weights is not None and weights.shape[-1] != errors.shape[-1]:
    weights = weights[..., :1]
  return weighted_mean(errors, weights, per_example)


def mse(pred: jnp.ndarray, target: jnp.ndarray) -> jnp.ndarray:
  """Mean squared error over every element."""
  return jnp.mean(squared_error(pred, target))


def weighted_mse(pred: jnp.ndarray, target: jnp.ndarray, weights: jnp.ndarray) -> jnp.ndarray:
  """Σ w·(pred-target)² / Σ w, with `weights` broadcast to the prediction's shape."""
  return weighted_mean(squared_error(pred, target), weights)


def per_example_mse(pred: jnp.ndarray, target: jnp.ndarray,
                    weights: jnp.ndarray | None = None) -> jnp.ndarray:
  """Weighted MSE per example, shape (N,): what evaluation averages without batch bias."""
  return weighted_mean(squared_error(pred, target), weights, per_example=True)


def binary_cross_entropy(logits: jnp.ndarray, target: jnp.ndarray,
                         per_example: bool = False) -> jnp.ndarray:
  """Mean binary cross-entropy of sigmoid(logits) against targets in [0, 1].

  Takes logits, not probabilities: log-sigmoid is exact where a clipped log(p)
  saturates, so a confident wrong pixel still has a gradient.
  """
  errors = optax.sigmoid_binary_cross_entropy(logits, target)
  return weighted_mean(errors, None, per_example)


def l1_l2_penalty(tree, kind: str) -> jnp.ndarray:
  """Σ|x| ('l1') or Σx² ('l2') over every array in a pytree."""
  if kind not in ('l1', 'l2'):
    raise ValueError(f"Unknown penalty {kind!r}; known: 'l1', 'l2'.")
  fn = jnp.abs if kind == 'l1' else jnp.square
  return sum((jnp.sum(fn(x)) for x in jax.tree.leaves(tree)), jnp.zeros(()))


def parameter_penalty(params, kind: str, which: str) -> jnp.ndarray:
  """L1/L2 penalty on a Flax model's 'weights' (kernels) or 'biases'."""
  leaf = {'weights': 'kernel', 'biases': 'bias'}
  if which not in leaf:
    raise ValueError(f"Unknown penalty target {which!r}; known: 'weights', 'biases', "
                     "'activations'.")
  flat = flax.traverse_util.flatten_dict(params)
  return l1_l2_penalty([v for k, v in flat.items() if k[-1] == leaf[which]], kind)


def activity_penalty(activations: jnp.ndarray, kind: str) -> jnp.ndarray:
  """L1/L2 penalty on activations (e.g. an autoencoder's code), summed per example, batch mean."""
  return l1_l2_penalty(activations, kind) / activations.shape[0]


def softmax_cross_entropy(logits: jnp.ndarray, labels: jnp.ndarray) -> jnp.ndarray:
  """Cross-entropy per example (N,) of integer `labels` under `logits` (N, K)."""
  return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


def bits_per_dim(logits: jnp.ndarray, images_u8: jnp.ndarray, per_example: bool = False,
                 weights: jnp.ndarray | None = None) -> jnp.ndarray:
  """Mean negative log2-likelihood per sub-pixel of 8-bit images under 256-way logits.

  logits: (N, H, W, C, 256); images_u8: (N, H, W, C) integers in 0..255. `weights` (e.g. a hole
  mask (N, H, W, 1)) makes it the weighted mean, as `weighted_mean`: a conditional model's
  bits per hole sub-pixel.
  """
  nll = optax.softmax_cross_entropy_with_integer_labels(logits, images_u8.astype(jnp.int32))
  return weighted_mean(nll, weights, per_example) / jnp.log(2.0)
