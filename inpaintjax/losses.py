"""Loss functions as plain module-level functions: import them into a notebook and call them.

All take predictions and targets of the same shape and return a scalar; the
`weights` variants broadcast a per-pixel weight map (e.g. a hole mask).
"""

from __future__ import annotations

import jax.numpy as jnp


def mse(pred: jnp.ndarray, target: jnp.ndarray) -> jnp.ndarray:
  """Mean squared error over every element."""
  return jnp.mean(jnp.square(pred - target))


def weighted_mse(pred: jnp.ndarray, target: jnp.ndarray, weights: jnp.ndarray) -> jnp.ndarray:
  """Σ w·(pred-target)² / Σ w, with `weights` broadcast to the prediction's shape.

  Normalising by the weight sum keeps the scale of plain MSE whatever the
  weighting, so learning rates carry over between whole-image and hole-only loss.
  """
  weights = jnp.broadcast_to(weights, pred.shape)
  return jnp.sum(weights * jnp.square(pred - target)) / jnp.maximum(jnp.sum(weights), 1e-8)


def per_example_mse(pred: jnp.ndarray, target: jnp.ndarray,
                    weights: jnp.ndarray | None = None) -> jnp.ndarray:
  """Weighted MSE per example, shape (N,): what evaluation averages without batch bias."""
  weights = jnp.ones_like(pred) if weights is None else jnp.broadcast_to(weights, pred.shape)
  axes = tuple(range(1, pred.ndim))
  return (jnp.sum(weights * jnp.square(pred - target), axis=axes) /
          jnp.maximum(jnp.sum(weights, axis=axes), 1e-8))
