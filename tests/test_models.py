"""Model shapes, output ranges and input checks (models/)."""

import chex
import jax
import jax.numpy as jnp
import pytest

from inpaintjax.models import PatchCNN, UNet


@pytest.mark.parametrize('m', [1, 6])
def test_patch_cnn_outputs_the_patch_in_unit_range(m):
  model = PatchCNN(patch_size=m, out_channels=3, channels=4, dense_width=8)
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 32, 32, 3)) * 10
  params = model.init(jax.random.PRNGKey(1), x)
  y = model.apply(params, x)
  chex.assert_shape(y, (2, m, m, 3))
  assert float(y.min()) >= 0 and float(y.max()) <= 1


def test_patch_cnn_context_window():
  model = PatchCNN(patch_size=4, out_channels=1, channels=4, dense_width=8, context=16, pool=2,
                   extra_convs=1)
  x = jnp.zeros((1, 28, 28, 2))
  params = model.init(jax.random.PRNGKey(0), x)
  chex.assert_shape(model.apply(params, x), (1, 4, 4, 1))
  # Pixels outside the central 16×16 do not influence the output.
  grad = jax.grad(lambda x: model.apply(params, x).sum())(jax.random.normal(
      jax.random.PRNGKey(1), (1, 28, 28, 2)))
  assert float(jnp.abs(grad[:, :6]).max()) == 0.0
  assert float(jnp.abs(grad[:, 6:22, 6:22]).max()) > 0.0
  with pytest.raises(ValueError, match='context 40 is larger'):
    PatchCNN(patch_size=4, out_channels=1, context=40).init(jax.random.PRNGKey(0), x)


def test_unet_shape_range_and_dropout():
  model = UNet(out_channels=3, base_channels=4, levels=3, max_channels=8, dropout=0.5)
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 32, 32, 4))
  params = model.init(jax.random.PRNGKey(1), x)
  y = model.apply(params, x)
  chex.assert_shape(y, (2, 32, 32, 3))
  assert float(jnp.abs(y).max()) <= 1
  kernels = [v.shape[-1] for k, v in jax.tree_util.tree_leaves_with_path(params)
             if 'kernel' in str(k[-1])]
  assert max(kernels) == 8  # max_channels caps the deep levels.
  a = model.apply(params, x, train=True, rngs={'dropout': jax.random.PRNGKey(2)})
  b = model.apply(params, x, train=True, rngs={'dropout': jax.random.PRNGKey(3)})
  assert not jnp.allclose(a, b)
  chex.assert_trees_all_close(model.apply(params, x), y)  # Eval mode is deterministic.


def test_unet_rejects_indivisible_sizes():
  with pytest.raises(ValueError, match='divisible by 8'):
    UNet(out_channels=1, levels=3).init(jax.random.PRNGKey(0), jnp.zeros((1, 28, 28, 1)))


def test_unet_context_window_crops_and_checks_size():
  model = UNet(out_channels=3, base_channels=4, levels=2, context=16, output='linear')
  x = jax.random.normal(jax.random.PRNGKey(0), (1, 32, 32, 4))
  params = model.init(jax.random.PRNGKey(1), x)
  chex.assert_shape(model.apply(params, x), (1, 16, 16, 3))
  # Only the central 16×16 window reaches the output.
  grad = jax.grad(lambda x: model.apply(params, x).sum())(x)
  assert float(jnp.abs(grad[:, :8]).max()) == 0.0 and float(jnp.abs(grad[:, :, 24:]).max()) == 0.0
  assert float(jnp.abs(grad[:, 8:24, 8:24]).max()) > 0.0
  with pytest.raises(ValueError, match='context 40 is larger than the 32×32 input'):
    UNet(out_channels=3, context=40).init(jax.random.PRNGKey(0), x)
