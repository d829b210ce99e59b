"""The conditional PixelCNN: causal over the hole, and it sees the known pixels on every side."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inpaintjax import autoregressive, config_base, models, tasks
from inpaintjax.data import masks, sources
from tests.conftest import load

H = W = 6
# A centre-8 hole on four 16×16 images, (4, 16, 16, 1).
_CENTRE = np.broadcast_to(np.asarray(masks.center_mask(16, 16, 8)), (4, 16, 16, 1))


def _model():
  model = models.build(dict(name='pixelcnn', features=6, layers=2, residual=True, act='elu',
                            context=8))
  x = jnp.round(jax.random.uniform(jax.random.PRNGKey(0), (2, H, W, 3)) * 255) / 255
  mask = jnp.zeros((2, H, W, 1)).at[:, 2:4, 1:4].set(1.0).at[1, 4, 5].set(1.0)
  variables = model.init(jax.random.PRNGKey(1), x,
                         context=autoregressive.context_input(x, mask))
  # The context projections start at zero (a warm start begins as the unconditional model);
  # give them weights, as training would, so that the context is seen.
  params = dict(variables['params'])
  for i, name in enumerate(n for n in params if n.startswith('context_proj')):
    kernel = params[name]['kernel']
    params[name] = {**params[name],
                    'kernel': jax.random.normal(jax.random.PRNGKey(10 + i), kernel.shape)}
  return model, {'params': params}, x, mask


def test_hole_logits_depend_on_earlier_hole_subpixels_and_on_context_below_only():
  model, variables, x, mask = _model()
  x, mask = x[:1], mask[:1]
  proj = jax.random.normal(jax.random.PRNGKey(2), (256,))

  def scores(z):  # The context is built from z itself, as in training: no hole pixel may leak.
    logits = model.apply(variables, z, context=autoregressive.context_input(z, mask))[0]
    return jnp.einsum('hwck,k->hwc', logits, proj)

  jac = np.abs(np.asarray(jax.jit(jax.jacrev(scores))(x)))[:, :, :, 0]  # (h, w, 3, h, w, 3)
  order = np.arange(H * W * 3).reshape(H, W, 3)
  hole = np.broadcast_to(np.asarray(mask[0]) > 0, (H, W, 3))
  for r, c in zip(*np.nonzero(np.asarray(mask[0, ..., 0]))):
    for ch in range(3):
      g = jac[r, c, ch]
      later_in_hole = hole & (order >= order[r, c, ch])
      assert np.all(g[later_in_hole] == 0.0), (r, c, ch)
      # Unlike an unconditional PixelCNN, it sees a known pixel after it (below the hole).
      assert g[5, 0].max() > 0, (r, c, ch)


def test_fast_fill_equals_the_plain_loop_and_point_updates_match_the_model():
  model, variables, x, mask = _model()
  fast = np.asarray(jax.jit(lambda x, m: autoregressive.fill(model, variables, x, m))(x, mask))
  np.testing.assert_array_equal(fast, autoregressive.plain_fill(model, variables, x, mask))
  known = np.asarray(mask)[..., 0] == 0
  np.testing.assert_array_equal(fast[known], np.asarray(x)[known])
  context = autoregressive.context_input(x, mask)
  full = np.asarray(model.apply(variables, x, context=context))
  cache = model.apply(variables, x, 0, context, method=model.prefill)
  point = model.apply(variables, cache, x, 3, 2, method=model.point)[0]
  np.testing.assert_allclose(np.asarray(point), full[:, 3, 2], atol=1e-4)


def test_a_fresh_conditional_model_starts_as_the_unconditional_one():
  model, _, x, mask = _model()
  fresh = model.init(jax.random.PRNGKey(1), x, context=autoregressive.context_input(x, mask))
  other = autoregressive.context_input(1.0 - x, jnp.zeros_like(mask))
  np.testing.assert_array_equal(model.apply(fresh, x, context=autoregressive.context_input(x, mask)),
                                model.apply(fresh, x, context=other))


def test_the_context_is_required_exactly_when_the_model_is_conditional():
  model, variables, x, mask = _model()
  with pytest.raises(ValueError, match='conditional'):
    model.apply(variables, x)
  plain = models.build(dict(name='pixelcnn', features=6, layers=1))
  params = plain.init(jax.random.PRNGKey(0), x)
  with pytest.raises(ValueError, match='unconditional'):
    plain.apply(params, x, context=autoregressive.context_input(x, mask))


def test_conditional_task_trains_on_the_hole_and_reports_hole_bits_per_dim():
  config = load('pixelcnn.py:conditional_smoke', **{'optim.learning_rate': 3e-3})
  task = tasks.make(config)
  batch = {'image': jnp.asarray(sources.embedded('train', 16, 3, 8).images)}
  state = jax.jit(task.init)(jax.random.PRNGKey(0), batch)
  step = jax.jit(task.train_step)
  state, first = step(state, batch, jax.random.PRNGKey(1))
  # An untrained model spreads its mass over 256 values: about 8 bits per hole sub-pixel.
  assert abs(float(first['hole_bits_per_dim']) - 8.0) < 0.5 and 'bits_per_dim' not in first
  for _ in range(10):
    state, metrics = step(state, batch, jax.random.PRNGKey(1))
  assert float(metrics['hole_bits_per_dim']) < float(first['hole_bits_per_dim'])


def test_context_run_puts_another_runs_fill_in_the_context(tmp_path):
  from inpaintjax import classifier_test, runs, train  # pylint: disable=g-import-not-at-top
  unet_dir = str(tmp_path / 'unet')
  train.train_and_evaluate(load('unet.py:smoke', **{'data.image_size': 16}), unet_dir)
  config = load('pixelcnn.py:conditional_smoke', context_run=unet_dir)
  task = runs.make_task(config)
  images = jnp.asarray(sources.embedded('train', 16, 3, 4).images)
  state = jax.jit(task.init)(jax.random.PRNGKey(0), {'image': images})
  state, metrics = jax.jit(task.train_step)(state, {'image': images}, jax.random.PRNGKey(1))
  assert np.isfinite(float(metrics['hole_bits_per_dim']))
  filled = task.inpaint(state, images / 255.0, jnp.asarray(_CENTRE), jax.random.PRNGKey(2))
  known = np.broadcast_to(_CENTRE == 0, filled.shape)
  np.testing.assert_allclose(np.asarray(filled)[known], np.asarray(images / 255.0)[known],
                             atol=1e-6)
  # The guess is the U-Net's own inpainting, hole only; the harmonic fill is something else.
  _, unet_task, unet_state = classifier_test.load_run(unet_dir)
  x = images / 255.0
  mask = jnp.asarray(_CENTRE)
  unet_fill = unet_task.inpaint(unet_state, x, mask, None)
  ctx = autoregressive.context_input(x, mask, unet_fill)
  hole = np.broadcast_to(_CENTRE > 0, unet_fill.shape)
  np.testing.assert_allclose(np.asarray(ctx[..., :3])[hole],
                             np.asarray(2.0 * unet_fill - 1.0)[hole], atol=1e-5)
  np.testing.assert_allclose(np.asarray(ctx[..., :3])[~hole], np.asarray(2.0 * x - 1.0)[~hole],
                             atol=1e-5)
  assert np.abs(np.asarray(ctx - autoregressive.context_input(x, mask))).max() > 1e-3
  with pytest.raises(ValueError, match='conditional'):
    runs.make_task(load('pixelcnn.py:smoke', context_run=unet_dir))


def test_conditional_mixed_trains_on_one_hole_kind_per_image():
  assert load('pixelcnn.py:conditional_mixed').hole == config_base.MIXED_HOLES
  config = load('pixelcnn.py:conditional_smoke', hole='center-8,thin,box')
  task = tasks.make(config)
  assert task.hole.kind == 'mix' and len(task.hole.parts) == 3
  images = jnp.asarray(sources.embedded('train', 16, 3, 8).images)
  state = jax.jit(task.init)(jax.random.PRNGKey(0), {'image': images})
  state, metrics = jax.jit(task.train_step)(state, {'image': images}, jax.random.PRNGKey(1))
  assert np.isfinite(float(metrics['hole_bits_per_dim']))
  # A free-form mask it was trained on: only its sub-pixels are scored, and filled.
  mask = masks.make_masks('thin', jax.random.PRNGKey(3), 8, 16, 16)
  out = jax.jit(task.eval_step)(state, {'image': images, 'mask': mask})
  assert out['hole_bits_per_dim'].shape == (8,) and np.all(np.isfinite(out['hole_bits_per_dim']))
  filled = np.asarray(task.inpaint(state, images / 255.0, mask, jax.random.PRNGKey(2)))
  known = np.broadcast_to(np.asarray(mask) == 0, filled.shape)
  np.testing.assert_allclose(filled[known], np.asarray(images / 255.0)[known], atol=1e-6)
  assert np.abs(filled[~known] - np.asarray(images / 255.0)[~known]).max() > 0
