"""The regression task's inference options (test-time flip averaging)."""

import jax
import numpy as np

from inpaintjax import parallel, runs, tasks
from tests.conftest import load
from tests.test_train import fixed_batch


def test_flip_average_is_mirror_symmetric_and_differs_from_one_pass():
  config = load('unet.py:smoke')
  batch = fixed_batch(config, size=4)
  mesh = parallel.make_mesh()
  images = batch['image'].astype(np.float32) / 255.0
  # An off-centre box, so the mirrored mask differs from the mask.
  mask = np.zeros(images.shape[:3] + (1,), np.float32)
  mask[:, 3:9, 2:6] = 1.0
  plain_task = tasks.make(config)
  state = runs.create_state(plain_task, config, {'image': batch['image']}, mesh)
  key = jax.random.PRNGKey(0)
  plain = np.asarray(jax.jit(plain_task.inpaint)(state, images, mask, key))
  config.flip_average = True
  task = tasks.make(config)
  fa = jax.jit(task.inpaint)
  out = np.asarray(fa(state, images, mask, key))
  mirrored = np.asarray(fa(state, images[:, :, ::-1], mask[:, :, ::-1], key))
  # The average of a pass and the mirrored pass of the mirror image is mirror-equivariant.
  np.testing.assert_allclose(mirrored[:, :, ::-1], out, atol=1e-5)
  assert np.abs(out - plain).max() > 1e-4  # A random net is not mirror-symmetric by itself.
  # And it is the mean of the two passes.
  flipped_pass = np.asarray(jax.jit(plain_task.inpaint)(state, images[:, :, ::-1],
                                                         mask[:, :, ::-1], key))[:, :, ::-1]
  np.testing.assert_allclose(out, 0.5 * (plain + flipped_pass), atol=1e-5)


def test_flip_averaging_mirrors_the_input_and_the_prediction_back():
  """A prediction that adds each pixel's column index becomes, flip-averaged, the mean index."""
  import chex
  import jax.numpy as jnp
  from inpaintjax.tasks.regression import flip_averaged
  x = jnp.asarray(np.random.default_rng(0).uniform(size=(2, 4, 6, 3)), jnp.float32)
  mask = jnp.zeros((2, 4, 6, 1))
  by_column = lambda x, mask: x + jnp.arange(6.0)[None, None, :, None] + mask
  chex.assert_trees_all_close(flip_averaged(by_column)(x, mask), x + 2.5)
