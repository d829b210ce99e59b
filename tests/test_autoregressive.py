"""Autoregressive models: causality by gradients, the masks, bits/dim, and the hole sampler."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inpaintjax import autoregressive, losses, models
from inpaintjax.models import pixelcnn, pixelrnn

# Tiny members of every family. ELU, not ReLU: a dead unit would zero a gradient that
# causality allows.
MODELS = {
    'pixelcnn': dict(name='pixelcnn', features=6, layers=2, act='elu'),
    'pixelcnn_residual': dict(name='pixelcnn', features=6, layers=2, residual=True, act='elu'),
    'gated_pixelcnn': dict(name='gated_pixelcnn', features=6, layers=2, act='elu'),
    'row_lstm': dict(name='row_lstm', features=6, layers=2, act='elu'),
    'diagonal_bilstm': dict(name='diagonal_bilstm', features=6, layers=2, act='elu'),
    'flat_lstm': dict(name='flat_lstm', hidden=8),
}


def _build(name, h=4, w=4, seed=0):
  model = models.build(MODELS[name])
  x = jnp.round(jax.random.uniform(jax.random.PRNGKey(seed), (2, h, w, 3)) * 255) / 255
  return model, model.init(jax.random.PRNGKey(1), x), x


def _order(r, c, ch, width, colours=3):
  return (r * width + c) * colours + ch


@pytest.mark.parametrize('name', [m for m in MODELS if m != 'flat_lstm'])
def test_logits_depend_only_on_earlier_subpixels(name):
  """Gradient of the logits of every sub-pixel: zero for it and all later, non-zero before."""
  model, variables, x = _build(name)
  x = x[:1]
  _, h, w, _ = x.shape
  proj = jax.random.normal(jax.random.PRNGKey(2), (256,))
  # One Jacobian of every sub-pixel's (projected) logits against every input sub-pixel.
  scores = lambda z: jnp.einsum('hwck,k->hwc', model.apply(variables, z)[0], proj)
  jac = np.abs(np.asarray(jax.jit(jax.jacrev(scores))(x)))[:, :, :, 0]  # (h, w, 3, h, w, 3)
  order = np.array([[[_order(r, c, k, w) for k in range(3)] for c in range(w)] for r in range(h)])
  for r in range(h):
    for c in range(w):
      for ch in range(3):
        later = order >= order[r, c, ch]
        g = jac[r, c, ch]
        assert np.all(g[later] == 0.0), (name, r, c, ch)
        if order[r, c, ch] > 0:
          assert np.any(g[~later] > 0), (name, r, c, ch)


def test_flat_lstm_logits_depend_only_on_earlier_subpixels():
  """The flat LSTM reads integer tokens, so causality is checked by changing values instead:
  the logits of sub-pixel t never move when sub-pixels ≥ t change, and do when earlier ones do."""
  model, variables, x = _build('flat_lstm')
  x = x[:1]
  base = np.asarray(model.apply(variables, x))[0].reshape(-1, 256)
  flat = np.asarray(x).reshape(-1)
  for t in (0, 5, 17, flat.size - 1):
    changed = flat.copy()
    changed[t:] = 1.0 - changed[t:]
    out = np.asarray(model.apply(variables, jnp.asarray(changed.reshape(x.shape))))[0]
    out = out.reshape(-1, 256)
    np.testing.assert_array_equal(out[:t + 1], base[:t + 1])
    if t + 1 < flat.size:
      assert np.abs(out[t + 1] - base[t + 1]).max() > 0


@pytest.mark.parametrize('name', list(MODELS))
def test_point_updates_match_the_full_model(name):
  """The sampler's cached one-pixel updates give the full model's logits, row by row."""
  model, variables, x = _build(name, 5, 6)
  full = model.apply(variables, x)
  # Prefill on a corrupted image: the rows from row 2 down are recomputed in order anyway.
  corrupted = x.at[:, 2:].set(0.5)
  cache = model.apply(variables, corrupted, 2, method=model.prefill)
  for r in range(2, 5):
    for c in range(6):
      logits, cache = model.apply(variables, cache, x, r, c, method=model.point)
      np.testing.assert_allclose(logits, full[:, r, c], atol=2e-5, rtol=1e-5)
    cache = model.apply(variables, cache, x, r, method=model.row_end)


@pytest.mark.parametrize('name', ['pixelcnn', 'pixelcnn_residual', 'gated_pixelcnn', 'row_lstm'])
def test_row_refresh_matches_the_full_model(name):
  """`refresh_row` brings a whole row's states up to date at once: a point at its last column,
  which reads every state to its left, then gives the full model's logits."""
  model, variables, x = _build(name, 5, 6)
  full = model.apply(variables, x)
  cache = model.apply(variables, x.at[:, 2:].set(0.5), 2, method=model.prefill)
  for r in range(2, 5):
    cache = model.apply(variables, cache, x, r, method=model.refresh_row)
    logits, _ = model.apply(variables, cache, x, r, 5, method=model.point)
    np.testing.assert_allclose(logits, full[:, r, 5], atol=2e-5, rtol=1e-5)
    cache = model.apply(variables, cache, x, r, method=model.row_end)


def _hole(n=2, h=6, w=6):
  mask = np.zeros((n, h, w, 1), np.float32)
  mask[:, 2:4, 1:4] = 1.0
  mask[1, 4, 5] = 1.0           # The second image has one more missing pixel, lower down.
  return jnp.asarray(mask)


@pytest.mark.parametrize('name', list(MODELS))
def test_fast_fill_equals_the_plain_loop_and_keeps_known_pixels(name):
  model, variables, x = _build(name, 6, 6)
  mask = _hole()
  fill = jax.jit(lambda x, m, k: autoregressive.fill(model, variables, x, m, k))
  fast = np.asarray(fill(x, mask, jax.random.PRNGKey(0)))
  plain = autoregressive.plain_fill(model, variables, x, mask)
  np.testing.assert_array_equal(fast, plain)
  known = np.asarray(mask)[..., 0] == 0
  np.testing.assert_array_equal(fast[known], np.asarray(x)[known])   # Bit for bit.
  assert np.any(fast[~known] != np.asarray(x)[~known])
  # Generated values are 8-bit levels.
  np.testing.assert_allclose(fast * 255, np.round(fast * 255), atol=1e-4)


def test_greedy_is_deterministic_and_low_temperature_equals_greedy():
  model, variables, x = _build('pixelcnn', 6, 6)
  mask = _hole()
  fill = jax.jit(lambda k, t: autoregressive.fill(model, variables, x, mask, k, t),
                 static_argnums=1)
  greedy = np.asarray(fill(jax.random.PRNGKey(0), 0.0))
  np.testing.assert_array_equal(greedy, np.asarray(fill(jax.random.PRNGKey(7), 0.0)))
  np.testing.assert_array_equal(greedy, np.asarray(fill(jax.random.PRNGKey(3), 1e-6)))
  a = np.asarray(fill(jax.random.PRNGKey(1), 1.0))
  b = np.asarray(fill(jax.random.PRNGKey(2), 1.0))
  assert np.any(a != b)     # Sampling at temperature 1 depends on the key.
  known = np.asarray(mask)[..., 0] == 0
  np.testing.assert_array_equal(a[known], np.asarray(x)[known])


def test_skew_round_trips():
  x = jnp.arange(2 * 3 * 4 * 1, dtype=jnp.float32).reshape(2, 3, 4, 1)
  s = pixelrnn.skew(x)
  assert s.shape == (2, 3, 6, 1)
  np.testing.assert_array_equal(s[0, 1, 1:5, 0], x[0, 1, :, 0])
  assert s[0, 1, 0, 0] == 0 and s[0, 1, 5, 0] == 0  # Row 1's padding, either side.
  np.testing.assert_array_equal(s[1, 2, 2:6, 0], x[1, 2, :, 0])
  np.testing.assert_array_equal(pixelrnn.unskew(s, 4), x)


def test_masks_follow_the_colour_order():
  a = pixelcnn.causal_mask(3, 3, 6, 3, 'A')
  b = pixelcnn.causal_mask(3, 3, 6, 3, 'B')
  # Centre position: output groups (R R G G B B) from inputs (R G B).
  np.testing.assert_array_equal(a[1, 1], [[0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1],
                                          [0, 0, 0, 0, 0, 0]])
  np.testing.assert_array_equal(b[1, 1], [[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1],
                                          [0, 0, 0, 0, 1, 1]])
  assert a[2].sum() == 0 and a[1, 2].sum() == 0 and a[0].min() == 1
  # Gates split in chunks keep the grouping per chunk; a vertical stack sees rows ≤ centre.
  np.testing.assert_array_equal(pixelcnn.channel_groups(12, 3, tile=2),
                                [0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2])
  v = pixelcnn.causal_mask(3, 3, 6, 3, 'V')
  assert v[:2].min() == 1 and v[2].max() == 0
  with pytest.raises(ValueError, match='mask_type'):
    pixelcnn.causal_mask(3, 3, 6, 3, 'C')
  with pytest.raises(ValueError, match='colour groups'):
    pixelcnn.channel_groups(8, 3)


def test_bits_per_dim_of_uniform_logits_is_exactly_eight():
  images = jnp.asarray(np.random.default_rng(0).integers(0, 256, (2, 4, 4, 3)), jnp.uint8)
  logits = jnp.zeros((2, 4, 4, 3, 256))
  np.testing.assert_allclose(losses.bits_per_dim(logits, images), 8.0, rtol=1e-6)
  np.testing.assert_allclose(losses.bits_per_dim(logits, images, per_example=True), [8.0, 8.0],
                             rtol=1e-6)


def test_weighted_bits_per_dim_counts_only_the_weighted_sub_pixels():
  images = jnp.asarray(np.random.default_rng(1).integers(0, 256, (2, 4, 4, 3)), jnp.uint8)
  logits = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 3, 256))
  mask = jnp.zeros((2, 4, 4, 1)).at[:, 1:3, 1:3].set(1.0)
  per_pixel = np.asarray(losses.bits_per_dim(logits[:, 1:3, 1:3], images[:, 1:3, 1:3], True))
  np.testing.assert_allclose(losses.bits_per_dim(logits, images, True, mask), per_pixel,
                             rtol=1e-5)
  assert abs(float(losses.bits_per_dim(logits, images)) - per_pixel.mean()) > 1e-3
