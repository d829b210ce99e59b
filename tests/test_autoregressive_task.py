"""The autoregressive task: quantisation, a step that learns, bits/dim in both evaluations."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inpaintjax import evaluate, losses, parallel, runs, tasks, train
from inpaintjax.tasks import autoregressive
from tests.conftest import load
from tests.test_train import fixed_batch


def test_quantise_gives_8_bit_levels_and_their_indices():
  x = jnp.array([0.0, 0.4 / 255, 0.6 / 255, 0.5, 1.0, 1.2, -0.1])
  levels, targets = autoregressive.quantise(x)
  np.testing.assert_array_equal(targets, [0, 0, 1, 128, 255, 255, 0])
  np.testing.assert_allclose(levels, np.asarray(targets) / 255.0, rtol=1e-6)
  assert targets.dtype == jnp.int32


@pytest.mark.parametrize('name', ['pixelcnn.py:smoke', 'pixelrnn.py:smoke',
                                  'pixelrnn.py:diagonal_smoke', 'pixelrnn.py:flat_smoke'])
def test_one_step_lowers_the_nll(name):
  config = load(name, **{'optim.learning_rate': 1e-2, 'optim.warmup_steps': 1})
  mesh = parallel.make_mesh()
  task = tasks.make(config)
  batch = fixed_batch(config)
  state = runs.create_state(task, config, {'image': batch['image']}, mesh)
  eval_step = jax.jit(task.eval_step)
  before = eval_step(state, batch)
  # A freshly initialised head is near uniform over 256 values: close to 8 bits/dim.
  assert 7.5 < float(np.mean(before['bits_per_dim'])) < 8.5
  np.testing.assert_allclose(before['bits_per_dim'], before['loss'] / np.log(2), rtol=1e-5)
  step = train.jit_train_step(task, mesh)
  for i in range(3):
    state, metrics = step(state, {'image': batch['image']}, jax.random.PRNGKey(i))
  after = eval_step(state, batch)
  assert np.isfinite(float(metrics['bits_per_dim']))
  assert float(np.mean(after['loss'])) < float(np.mean(before['loss']))


def test_hole_bits_per_dim_counts_only_the_hole_and_is_8_for_uniform_logits():

  rng = np.random.default_rng(0)
  targets = rng.integers(0, 256, (2, 8, 8, 3))
  mask = np.zeros((2, 8, 8, 1), np.float32)
  mask[:, 2:5, 3:6] = 1
  # Uniform in the hole, certain (and right) everywhere else.
  logits = np.where(mask[..., None] > 0, 0.0, 50.0 * np.eye(256)[targets])
  hole = losses.bits_per_dim(jnp.asarray(logits), jnp.asarray(targets), True, jnp.asarray(mask))
  np.testing.assert_allclose(hole, 8.0, rtol=1e-6)
  whole = losses.bits_per_dim(jnp.asarray(logits), jnp.asarray(targets), True)
  np.testing.assert_allclose(whole, 8.0 * 9 / 64, rtol=1e-4)
  # A plain model's evaluation reports both, from the same logits.
  config = load('pixelcnn.py:smoke')
  task = tasks.make(config)
  batch = fixed_batch(config)
  state = runs.create_state(task, config, {'image': batch['image']}, parallel.make_mesh())
  out = jax.jit(task.eval_step)(state, batch)
  assert {'bits_per_dim', 'hole_bits_per_dim', 'loss'} <= set(out)
  assert not np.allclose(out['bits_per_dim'], out['hole_bits_per_dim'])
  assert 7.5 < float(np.mean(out['hole_bits_per_dim'])) < 8.5


def test_fill_draws_samples_and_keeps_the_known_pixels():
  config = load('pixelcnn.py:smoke')
  task = tasks.make(config)
  batch = fixed_batch(config, size=2)
  state = task.init(jax.random.PRNGKey(0), {'image': batch['image']})
  images = jnp.asarray(batch['image'], jnp.float32) / 255.0
  mask = jnp.asarray(batch['mask'])
  out = task.parts['fill'](state, images, mask, jax.random.PRNGKey(1), temperature=1.0,
                           num_samples=3)
  chex.assert_shape(out, (3, 2) + images.shape[1:])
  known = np.broadcast_to(np.asarray(mask) == 0, out.shape)
  np.testing.assert_array_equal(np.asarray(out)[known],
                                np.broadcast_to(images, out.shape)[known])
  assert not np.array_equal(out[0], out[1])  # Different samples at temperature 1.
  greedy = task.inpaint(state, images, mask, jax.random.PRNGKey(2))
  chex.assert_trees_all_equal(greedy, task.inpaint(state, images, mask, jax.random.PRNGKey(3)))


def test_trainer_and_evaluator_report_bits_per_dim(tmp_path):
  workdir = str(tmp_path / 'run')
  trained = train.train_and_evaluate(load('pixelcnn.py:smoke'), workdir)
  for k in ('bits_per_dim', 'hole_psnr', 'ssim', 'rgb_dist'):
    assert np.isfinite(trained[k]), k
  again = evaluate.run(workdir=workdir, batch_size=16)
  np.testing.assert_allclose(again['bits_per_dim'], trained['bits_per_dim'], rtol=1e-5)
  np.testing.assert_allclose(again['hole_psnr'], trained['hole_psnr'], rtol=1e-5)
  # A raster-order sampler has no mirror-image average to switch on.
  with pytest.raises(ValueError, match='flip averaging applies to'):
    evaluate.run(workdir=workdir, batch_size=16, flip_average='on')
