"""Loss functions and the regression task's weighting (losses.py, tasks/regression.py)."""

import chex
import jax.numpy as jnp
import numpy as np

from inpaintjax import losses, runs
from inpaintjax.data import masks
from inpaintjax.tasks import regression


def test_mse_and_weighted_mse():
  pred = jnp.array([[0.0, 1.0], [2.0, 4.0]])
  target = jnp.zeros((2, 2))
  chex.assert_trees_all_close(losses.mse(pred, target), (0 + 1 + 4 + 16) / 4)
  weights = jnp.array([[0.0, 1.0], [0.0, 3.0]])
  chex.assert_trees_all_close(losses.weighted_mse(pred, target, weights), (1 + 3 * 16) / 4)
  chex.assert_trees_all_close(losses.weighted_mse(pred, target, jnp.ones((2, 2))),
                              losses.mse(pred, target))


def test_per_example_mse_matches_numpy():
  rng = np.random.default_rng(0)
  pred, target = rng.random((3, 4, 4, 2)), rng.random((3, 4, 4, 2))
  w = (rng.random((3, 4, 4, 1)) > 0.5).astype(np.float64)
  w[:, 0, 0] = 1
  got = losses.per_example_mse(jnp.asarray(pred), jnp.asarray(target), jnp.asarray(w))
  wb = np.broadcast_to(w, pred.shape)
  want = (wb * (pred - target) ** 2).sum(axis=(1, 2, 3)) / wb.sum(axis=(1, 2, 3))
  np.testing.assert_allclose(got, want, rtol=1e-5)


def test_hole_only_loss_ignores_known_pixels():
  x = jnp.zeros((1, 8, 8, 1))
  mask = masks.make_masks('center-2', None, 1, 8, 8)
  out = x + (1 - mask) * 5.0 + mask * 0.5  # Wrong outside the hole, 0.5 off inside.
  loss = regression.reconstruction_loss(out, x, mask, hole_weight=1.0, known_weight=0.0)
  chex.assert_trees_all_close(loss, 0.25)


def test_patch_output_is_scored_against_the_centre_patch():
  x = jnp.arange(64, dtype=jnp.float32).reshape(1, 8, 8, 1)
  mask = masks.make_masks('center-2', None, 1, 8, 8)
  patch = regression.centre_crop(x, 2)
  chex.assert_trees_all_equal(patch[0, :, :, 0], jnp.array([[27.0, 28.0], [35.0, 36.0]]))
  chex.assert_trees_all_close(regression.reconstruction_loss(patch, x, mask, 1.0, 1.0), 0.0)
  pasted = regression.paste_centre(jnp.zeros_like(x), patch)
  chex.assert_trees_all_close(jnp.sum(pasted), 27.0 + 28 + 35 + 36)


def test_overlap_weighting():
  """A 4×4 patch over a 2×2 hole: weight 10 on the overlap ring, 1 inside the hole."""
  x = jnp.zeros((1, 8, 8, 1))
  mask = masks.make_masks('center-2', None, 1, 8, 8)
  out = jnp.ones((1, 4, 4, 1))
  loss = regression.reconstruction_loss(out, x, mask, hole_weight=1.0, known_weight=10.0)
  # 4 hole pixels weight 1, 12 ring pixels weight 10, error 1 everywhere → weighted mean 1.
  chex.assert_trees_all_close(loss, 1.0)
  out = out.at[:, 1:3, 1:3].set(0.0)  # Perfect in the hole, wrong on the ring.
  loss = regression.reconstruction_loss(out, x, mask, hole_weight=1.0, known_weight=10.0)
  chex.assert_trees_all_close(loss, 120.0 / 124.0)


def test_pixel_loss_kinds():
  pred = jnp.zeros((1, 1, 2, 3))
  target = jnp.array([[[[3.0, 4.0, 0.0], [0.0, 0.0, 0.0]]]])
  chex.assert_trees_all_close(losses.pixel_loss('mse', pred, target), 25.0 / 6)
  chex.assert_trees_all_close(losses.pixel_loss('l1', pred, target), 7.0 / 6)
  # Euclidean colour distance: 5 for the first pixel, ~0 (eps) for the second.
  chex.assert_trees_all_close(losses.pixel_loss('rgb_dist', pred, target), 2.5, atol=1e-3)
  weights = jnp.array([[[[1.0], [0.0]]]])
  chex.assert_trees_all_close(losses.pixel_loss('rgb_dist', pred, target, weights), 5.0,
                              atol=1e-3)
  chex.assert_shape(losses.pixel_loss('l1', pred, target, per_example=True), (1,))
  # log_mse: 10·log10(MSE) per image, then the batch mean: the mean of negative PSNRs, so
  # halving one image's error moves it as much as halving another's, whatever its size.
  two = jnp.concatenate([target, 10 * target])
  per_image = losses.pixel_loss('log_mse', jnp.zeros_like(two), two, per_example=True)
  chex.assert_trees_all_close(per_image, 10 * jnp.log10(jnp.array([25 / 6, 2500 / 6]) + 1e-5))
  chex.assert_trees_all_close(losses.pixel_loss('log_mse', jnp.zeros_like(two), two),
                              per_image.mean())
  import pytest
  with pytest.raises(ValueError, match='Unknown loss kind'):
    losses.pixel_loss('huber', pred, target)


def test_residual_patch_model_starts_from_the_harmonic_fill():
  """With a zero correction, the residual patch CNN's inpainting is the harmonic fill."""
  import jax

  from inpaintjax import parallel, tasks
  from tests.conftest import load
  config = load('patch_cnn.py:smoke', hole_fill='harmonic', residual=True, mask_channel=True,
                **{'model.output': 'linear'})
  task = tasks.make(config)
  images = np.random.default_rng(0).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
  state = runs.create_state(task, config, {'image': images}, parallel.make_mesh())
  state = state.replace(params=jax.tree.map(jnp.zeros_like, state.params))
  x = images.astype(np.float32) / 255
  mask = masks.make_masks('center-4', None, 8, 32, 32)
  out = task.inpaint(state, jnp.asarray(x), mask, None)
  chex.assert_trees_all_close(out, masks.harmonic_fill(jnp.asarray(x), mask), atol=1e-6)
