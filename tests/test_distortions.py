"""Image distortions for the correcting autoencoder (data/distortions.py)."""

import functools
import math

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from inpaintjax.data import distortions as D

N_KEYS = 4000  # Frequencies over 4000 keys have a std of at most 0.008: a 0.03 tolerance is ~4σ.
TOL = 0.03
SIGMA = 30 / 255

SHAPES = {'grey': (28, 28, 1), 'colour': (32, 32, 3)}

# Compiling dominates this file's time (each jax.random call compiles its own hash), so each
# function is jitted once per (config, shape) and tests share shapes: the 16x16 probability
# tests, 8 grey 28x28 examples for batch tests. Probabilities and Distortions are static.
batch_info = jax.jit(D.distort_batch_with_info, static_argnums=2)
batch = jax.jit(D.distort_batch, static_argnums=2)
one_info = jax.jit(D.distort, static_argnums=2)
geometric_many = jax.jit(jax.vmap(D.geometric, in_axes=(0, None, None)), static_argnums=2)
noise_many = jax.jit(jax.vmap(D.noise, in_axes=(0, None)))


def _image(shape, seed=0, low=0.0):
  """A random float32 image in [low, 1), from numpy: each new shape would compile a jax draw."""
  return np.random.default_rng(seed).uniform(low, 1.0, shape).astype(np.float32)


_ALL_KEYS = np.asarray(jax.random.split(jax.random.PRNGKey(0), N_KEYS))


def _keys(n):
  """n distinct PRNG keys; slices of one numpy array, so no compile per n."""
  return _ALL_KEYS[:n]


@functools.partial(jax.jit, static_argnums=2)
def _every_function(key, x, d):
  """Each per-example function's image output on x, one jitted call per shape."""
  ks = jax.random.split(key, 6)
  return {
      'vertical_flip': D.vertical_flip(x),
      'horizontal_flip': D.horizontal_flip(x),
      'rotate90': D.rotate90(x, 1),
      'geometric': D.geometric(ks[0], x, d.geometric_probs)[0],
      'gaussian_noise': D.gaussian_noise(ks[1], x, d.noise_sigma),
      'brightness_gradient': D.brightness_gradient(ks[2], x, d.gradient_max, d.gradient_falloff),
      'noise': D.noise(ks[3], x, d.noise_probs, d.noise_sigma, d.gradient_max,
                       d.gradient_falloff)[0],
      'occlude': D.occlude(ks[4], x, d.occlusion_min, d.occlusion_max),
      'distort': D.distort(ks[5], x, d)[0],
  }


@pytest.mark.parametrize('name', SHAPES)
def test_every_function_keeps_shape_dtype_and_range(name):
  shape = SHAPES[name]
  x = _image(shape)
  outs = _every_function(jax.random.PRNGKey(1), x, D.Distortions())
  assert len(outs) == 9
  for fn, out in outs.items():
    chex.assert_shape(out, shape, custom_message=fn)
    chex.assert_type(out, jnp.float32, custom_message=fn)
    assert np.min(out) >= 0.0 and np.max(out) <= 1.0, fn
  # The checks above would pass for the identity; noise at least must change the image.
  assert not np.array_equal(outs['gaussian_noise'], x)


@pytest.mark.parametrize('name', SHAPES)
def test_distort_batch_under_jit(name):
  shape = SHAPES[name]
  x = _image((8, *shape))
  d = D.Distortions()
  out, info = batch_info(jax.random.PRNGKey(2), x, d)
  chex.assert_shape(out, (8, *shape))
  chex.assert_type(out, jnp.float32)
  assert np.min(out) >= 0.0 and np.max(out) <= 1.0
  assert not np.array_equal(out, x)
  chex.assert_shape(list(info.values()), (8,))
  chex.assert_type(list(info.values()), jnp.int32)
  assert set(info) == {'geometric', 'noise', 'occlusion'}


def test_distort_batch_is_the_image_of_distort_batch_with_info():
  x = _image((8, 28, 28, 1))
  d = D.Distortions()
  chex.assert_trees_all_equal(batch(jax.random.PRNGKey(2), x, d),
                              batch_info(jax.random.PRNGKey(2), x, d)[0])


def test_batch_key_i_is_for_example_i():
  x = _image((8, 28, 28, 1))
  d = D.Distortions()
  key = jax.random.PRNGKey(5)
  out, info = jax.tree.map(np.asarray, batch_info(key, x, d))
  for i, k in enumerate(jax.random.split(key, 8)):
    one, info_one = one_info(k, x[i], d)
    np.testing.assert_allclose(out[i], one, atol=1e-6)
    chex.assert_trees_all_equal(jax.tree.map(lambda v, i=i: v[i], info), info_one)


def test_same_key_same_output_different_key_different_output():
  x = _image((8, 28, 28, 1))
  d = D.Distortions()
  a = batch(jax.random.PRNGKey(3), x, d)
  b = batch(jax.random.PRNGKey(3), x, d)
  c = batch(jax.random.PRNGKey(4), x, d)
  chex.assert_trees_all_equal(a, b)
  assert not np.array_equal(a, c)
  # Within a batch the keys differ too: the same image distorts differently in each row.
  same = np.asarray(batch(jax.random.PRNGKey(3), np.broadcast_to(x[:1], x.shape), d))
  assert not np.array_equal(same[0], same[1])
  # Every per-example function, through the jitted call of the shape test.
  one = _every_function(jax.random.PRNGKey(0), x[0], d)
  chex.assert_trees_all_equal(one, _every_function(jax.random.PRNGKey(0), x[0], d))
  two = _every_function(jax.random.PRNGKey(1), x[0], d)
  for fn in ('gaussian_noise', 'brightness_gradient', 'noise', 'occlude', 'distort'):
    assert not np.array_equal(one[fn], two[fn]), fn


@pytest.mark.parametrize('shape', [(28, 28, 1), (32, 32, 3), (24, 32, 1)])
def test_flips_match_numpy(shape):
  x = _image(shape)
  np.testing.assert_array_equal(D.vertical_flip(x), np.flipud(x))
  np.testing.assert_array_equal(D.horizontal_flip(x), np.fliplr(x))


def test_rotations_match_numpy_static_and_traced():
  x = _image((32, 32, 3))
  traced = jax.jit(D.rotate90)
  for k in (1, 2, 3):
    np.testing.assert_array_equal(D.rotate90(x, k), np.rot90(x, k))
    np.testing.assert_array_equal(traced(x, jnp.int32(k)), np.rot90(x, k))
  assert not np.array_equal(np.rot90(x, 1), np.rot90(x, 3))  # The direction is tested.


def test_geometric_op_matches_its_image():
  x = _image((16, 16, 1))
  outs, ops = geometric_many(_keys(100), x, (1 / 3, 1 / 3, 1 / 3))
  chex.assert_type(ops, jnp.int32)
  refs = [np.flipud(x), np.fliplr(x), np.rot90(x, 1), np.rot90(x, 2), np.rot90(x, 3)]
  for out, op in zip(np.asarray(outs), np.asarray(ops)):
    np.testing.assert_array_equal(out, refs[op])
  assert set(np.asarray(ops)) == {0, 1, 2, 3, 4}


def test_rotation_of_non_square_image_raises():
  x = _image((24, 32, 1))
  with pytest.raises(ValueError, match=r'square.*\(24, 32, 1\)'):
    D.rotate90(x, 1)
  with pytest.raises(ValueError, match=r'square.*\(24, 32, 1\)'):
    jax.jit(D.rotate90)(x, 2)
  with pytest.raises(ValueError, match=r'square.*\(24, 32, 1\)'):
    D.geometric(jax.random.PRNGKey(0), x)
  # Without rotation, a non-square image flips fine.
  outs, ops = map(np.asarray, geometric_many(_keys(100), x, (0.5, 0.5, 0.0)))
  chex.assert_shape(outs, (100, *x.shape))
  assert set(ops) == {0, 1}
  for out, op in zip(outs, ops):
    np.testing.assert_array_equal(out, np.flipud(x) if op == 0 else np.fliplr(x))
  # A disabled kind is never traced, so its square-only rotation doesn't get in the way.
  d = D.Distortions(kinds=('noise', 'occlusion'))
  chex.assert_shape(one_info(jax.random.PRNGKey(0), x, d)[0], x.shape)


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4))
def _boxes(keys, height, width, min_frac, max_frac):
  """occlusion_box for each key: the (unclipped, clipped) (top, left, box_h, box_w) tuples."""
  def both(k):
    return tuple(D.occlusion_box(k, height, width, min_frac, max_frac, clip=clip)
                 for clip in (False, True))
  return jax.vmap(both)(keys)


@pytest.mark.parametrize('height,width', [(28, 28), (32, 32), (24, 32)])
def test_occlusion_box_corner_and_sides(height, width):
  keys = _keys(N_KEYS)
  drawn, clipped = _boxes(keys, height, width, 0.25, 0.5)
  top, left, box_h, box_w = map(np.asarray, drawn)
  chex.assert_type([top, left, box_h, box_w], jnp.int32)
  bottom = top + box_h - 1
  # The bottom-left corner lies in the bottom-left quadrant, and reaches its every edge.
  assert bottom.min() == height // 2 and bottom.max() == height - 1
  assert left.min() == 0 and left.max() == width // 2 - 1
  # Sides before clipping lie in [ceil(S/4), floor(S/2)], and take both extremes.
  assert box_h.min() == math.ceil(height / 4) and box_h.max() == height // 2
  assert box_w.min() == math.ceil(width / 4) and box_w.max() == width // 2
  # Sides of at most a half never leave the image, so clipping changes nothing.
  assert top.min() >= 0 and (left + box_w).max() <= width
  chex.assert_trees_all_equal(clipped, (top, left, box_h, box_w))


def test_occlusion_box_clips_to_the_image():
  height, width = 24, 32
  keys = _keys(N_KEYS)
  drawn, clipped = _boxes(keys, height, width, 0.5, 1.0)
  top, left, box_h, box_w = map(np.asarray, drawn)
  c_top, c_left, c_h, c_w = map(np.asarray, clipped)
  assert box_h.min() == 12 and box_h.max() == 24 and box_w.max() == 32
  bottom = top + box_h - 1
  # The clipped box is the drawn box intersected with the image.
  np.testing.assert_array_equal(c_top, np.maximum(top, 0))
  np.testing.assert_array_equal(c_left, left)
  np.testing.assert_array_equal(c_top + c_h - 1, bottom)
  np.testing.assert_array_equal(c_left + c_w, np.minimum(left + box_w, width))
  assert c_top.min() == 0 and (c_left + c_w).max() == width  # Both clips happen.
  assert (top < 0).any() and (left + box_w > width).any()


@pytest.mark.parametrize('shape', [(28, 28, 1), (32, 32, 3), (24, 32, 1)])
def test_occlude_blacks_out_exactly_the_box(shape):
  height, width, channels = shape
  x = _image(shape, low=0.1)  # No pixel is 0 before occlusion.
  keys = _keys(200)
  out = np.asarray(jax.jit(jax.vmap(lambda k: D.occlude(k, x)))(keys))
  top, left, box_h, box_w = map(np.asarray, _boxes(keys, height, width, 0.25, 0.5)[1])
  rows = np.arange(height)[:, None]
  cols = np.arange(width)[None, :]
  for i in range(len(keys)):
    inside = ((rows >= top[i]) & (rows < top[i] + box_h[i]) & (cols >= left[i])
              & (cols < left[i] + box_w[i]))
    assert inside.sum() == box_h[i] * box_w[i]
    np.testing.assert_array_equal(out[i][inside], 0.0)
    np.testing.assert_array_equal(out[i][~inside], np.asarray(x)[~inside])
    assert (out[i] == 0).sum() == box_h[i] * box_w[i] * channels


def test_gradient_field_at_known_points():
  field = np.asarray(D.gradient_field(28, 28, 10, 5, 30.0, 0.1))
  chex.assert_shape(field, (28, 28, 1))
  chex.assert_type(field, jnp.float32)
  peak = 30 / 255
  np.testing.assert_allclose(field[10, 5, 0], peak, rtol=1e-6)
  np.testing.assert_allclose(field[10, 15, 0], peak / 2, rtol=1e-6)  # r = 10 along the row.
  np.testing.assert_allclose(field[0, 5, 0], peak / 2, rtol=1e-6)  # r = 10 along the column.
  np.testing.assert_allclose(field[13, 9, 0], peak / 1.5, rtol=1e-6)  # r = 5: a 3-4-5 triangle.
  np.testing.assert_allclose(field[6, 2, 0], peak / 1.5, rtol=1e-6)
  assert field.argmax() == np.ravel_multi_index((10, 5, 0), field.shape)
  assert field.min() > 0
  # Traced peak and magnitude, a different falloff, a non-square image.
  traced = jax.jit(D.gradient_field, static_argnums=(0, 1))
  field = np.asarray(traced(24, 32, jnp.int32(23), jnp.int32(31), jnp.float32(12.0), 0.5))
  np.testing.assert_allclose(field[23, 31, 0], 12 / 255, rtol=1e-6)
  np.testing.assert_allclose(field[23, 29, 0], 12 / 255 / 2, rtol=1e-6)


def test_brightness_gradient_only_brightens_and_peaks_at_most_30():
  keys = _keys(500)
  grad = jax.jit(jax.vmap(D.brightness_gradient))
  mid = np.full((500, 32, 32, 3), 0.5, np.float32)
  diff = np.asarray(grad(keys, mid)) - 0.5
  assert diff.min() >= 0.0
  peaks = diff.max(axis=(1, 2, 3))
  assert peaks.max() <= SIGMA + 1e-6
  assert peaks.max() > 0.9 * SIGMA and peaks.min() < 0.1 * SIGMA  # Magnitude ~ U[0, 30].
  # One peak per image, spread over the whole image.
  where = np.array([np.unravel_index(d[..., 0].argmax(), (32, 32)) for d in diff])
  assert where.min() <= 1 and where.max() >= 30
  x = _image((500, 32, 32, 3))
  out = np.asarray(grad(keys, x))
  assert (out >= np.asarray(x)).all()
  # The same field is added to every channel (below the clip at 1).
  diff = out - np.asarray(x)
  unclipped = (out < 1).all(axis=-1)
  np.testing.assert_allclose(diff[..., 0][unclipped], diff[..., 2][unclipped], atol=1e-6)


def test_gaussian_noise_std_is_30_over_255():
  mid = np.full((32, 32, 3), 0.5, np.float32)
  # sigma is traced here, so both sigmas share one compile.
  gauss = jax.jit(jax.vmap(D.gaussian_noise, in_axes=(0, None, None)))
  diff = np.asarray(gauss(_keys(16), mid, 30.0)) - 0.5
  assert abs(diff.std() / SIGMA - 1) < 0.05
  assert abs(diff.mean()) < 0.05 * SIGMA
  out = gauss(_keys(16), mid, 60.0)
  assert abs((np.asarray(out) - 0.5).std() / (60 / 255) - 1) < 0.05


def _freq(values, n):
  return np.bincount(np.asarray(values), minlength=n) / len(values)


def test_geometric_frequencies():
  x = _image((16, 16, 1))
  ops = geometric_many(_keys(N_KEYS), x, (1 / 3, 1 / 3, 1 / 3))[1]
  np.testing.assert_allclose(_freq(ops, 5), [1 / 3, 1 / 3, 1 / 9, 1 / 9, 1 / 9], atol=TOL)
  ops = geometric_many(_keys(N_KEYS), x, (0.0, 0.2, 0.6))[1]
  np.testing.assert_allclose(_freq(ops, 5), [0, 0.25, 0.25, 0.25, 0.25], atol=TOL)
  assert (np.asarray(ops) != 0).all()  # A zero weight is never drawn.


def test_noise_frequencies_and_ops():
  mid = np.full((16, 16, 1), 0.5, np.float32)
  out, ops = noise_many(_keys(N_KEYS), mid)
  chex.assert_type(ops, jnp.int32)
  np.testing.assert_allclose(_freq(ops, 2), [0.5, 0.5], atol=TOL)
  # The op names the noise: a gradient only brightens, Gaussian noise darkens some pixels too.
  darkened = (np.asarray(out) < 0.5).any(axis=(1, 2, 3))
  np.testing.assert_array_equal(darkened, np.asarray(ops) == 0)


PROB_IMAGE = _image((16, 16, 1), low=0.1)  # No pixel is 0 before occlusion.


def _distort_many(d):
  """distort_batch_with_info on N_KEYS copies of PROB_IMAGE, as numpy."""
  x = np.broadcast_to(PROB_IMAGE, (N_KEYS, *PROB_IMAGE.shape))
  return jax.tree.map(np.asarray, batch_info(jax.random.PRNGKey(7), x, d))


def _info(d):
  return _distort_many(d)[1]


def _applied(info):
  return np.stack([info['geometric'] >= 0, info['noise'] >= 0, info['occlusion'] == 1])


def test_multiple_mode_defaults_two_or_three_distortions():
  info = _info(D.Distortions())
  geo, noi, occ = _applied(info)
  assert geo.all() and noi.all()
  assert abs(occ.mean() - 0.5) < TOL
  count = geo.astype(int) + noi + occ
  assert set(np.unique(count)) == {2, 3}
  np.testing.assert_allclose(_freq(info['geometric'], 5), [1 / 3, 1 / 3, 1 / 9, 1 / 9, 1 / 9],
                             atol=TOL)
  np.testing.assert_allclose(_freq(info['noise'], 2), [0.5, 0.5], atol=TOL)
  assert set(np.unique(info['occlusion'])) == {0, 1}


def test_multiple_mode_custom_probabilities():
  info = _info(D.Distortions(multiple_probs=(0.2, 1.0, 0.0)))
  geo, noi, occ = _applied(info)
  assert abs(geo.mean() - 0.2) < TOL
  assert noi.all() and not occ.any()


def test_single_mode_exactly_one_kind():
  info = _info(D.Distortions(mode='single'))
  applied = _applied(info)
  assert (applied.sum(axis=0) == 1).all()
  np.testing.assert_allclose(applied.mean(axis=1), [1 / 3, 1 / 3, 1 / 3], atol=TOL)


def test_single_mode_only_enabled_kinds():
  info = _info(D.Distortions(mode='single', kinds=('noise',)))
  geo, noi, occ = _applied(info)
  assert noi.all() and not geo.any() and not occ.any()
  # single_probs are renormalised over the enabled kinds: 0.2 : 0.6 -> 0.25 : 0.75.
  info = _info(D.Distortions(mode='single', kinds=('occlusion', 'geometric'),
                             single_probs=(0.2, 1.0, 0.6)))
  geo, noi, occ = _applied(info)
  assert not noi.any() and (geo ^ occ).all()
  assert abs(geo.mean() - 0.25) < TOL


def test_both_mode_is_single_or_multiple_by_a_fair_coin():
  """Image i in 'both' mode equals single or multiple mode with the key left after the coin."""
  keys = _keys(256)
  both = D.Distortions(mode='both')
  run = lambda d: jax.jit(jax.vmap(lambda k: D.distort(k, PROB_IMAGE, d)[0]))
  coin_and_rest = jax.vmap(jax.random.split)(keys)
  use_single = np.asarray(jax.vmap(jax.random.bernoulli)(coin_and_rest[:, 0]))
  rest = coin_and_rest[:, 1]
  expected = np.where(use_single[:, None, None, None],
                      run(D.Distortions(mode='single'))(rest),
                      run(D.Distortions(mode='multiple'))(rest))
  np.testing.assert_array_equal(run(both)(keys), expected)
  assert 0.35 < use_single.mean() < 0.65
  applied = _applied(_info(both)).sum(axis=0)
  assert abs((applied == 1).mean() - 0.5) < TOL  # Single mode: one kind; multiple: two or three.


def test_multiple_mode_draws_kinds_independently_and_info_agrees_with_the_image():
  out, info = _distort_many(D.Distortions(multiple_probs=(0.5, 0.5, 0.5)))
  geo, noi, occ = _applied(info)
  # Each of the 8 subsets of kinds comes up an eighth of the time.
  subsets = geo * 4 + noi * 2 + occ
  np.testing.assert_allclose(_freq(subsets, 8), [1 / 8] * 8, atol=TOL)
  # Nothing applied: the image is unchanged.
  x = np.asarray(PROB_IMAGE)
  nothing = ~geo & ~noi & ~occ
  np.testing.assert_array_equal(out[nothing], np.broadcast_to(x, out[nothing].shape))
  # Occlusion blacks out at least a 4x4 box; without it (or noise, which clips) nothing is 0.
  zeros = (out == 0).sum(axis=(1, 2, 3))
  assert (zeros[occ] >= 16).all() and (zeros[~occ & ~noi] == 0).all()
  # Geometric alone gives numpy's flip or rotation.
  refs = [np.flipud(x), np.fliplr(x), np.rot90(x, 1), np.rot90(x, 2), np.rot90(x, 3)]
  only_geo = np.flatnonzero(geo & ~noi & ~occ)
  assert len(only_geo) > 400
  for i in only_geo:
    np.testing.assert_array_equal(out[i], refs[info['geometric'][i]])


@pytest.mark.parametrize('kwargs,match', [
    ({'mode': 'several'}, r"mode.*'several'"),
    ({'kinds': ('noise', 'blur')}, r"unknown kind.*'blur'.*geometric.*noise.*occlusion"),
    ({'kinds': ()}, r'kinds must name at least one'),
    ({'multiple_probs': (1.0, 1.5, 0.5)}, r'multiple_probs.*1\.5.*\[0, 1\]'),
    ({'geometric_probs': (-0.1, 0.5, 0.5)}, r'geometric_probs.*-0\.1'),
    ({'noise_probs': (0.5, 0.25, 0.25)}, r'noise_probs must have 2 entries'),
    ({'geometric_probs': (0, 0, 0)}, r'geometric_probs must not all be zero'),
    ({'mode': 'single', 'kinds': ('noise',), 'single_probs': (1, 0, 1)},
     r'single_probs.*no probability.*enabled kinds'),
    ({'occlusion_min': 0.6, 'occlusion_max': 0.5}, r'occlusion_min <= occlusion_max'),
    ({'occlusion_min': 0.0}, r'0 < occlusion_min'),
    ({'noise_sigma': -1.0}, r'noise_sigma'),
])
def test_invalid_distortions_raise(kwargs, match):
  with pytest.raises(ValueError, match=match):
    D.Distortions(**kwargs)


def test_from_config():
  cfg = ml_collections.ConfigDict({'mode': 'single', 'kinds': ['noise', 'occlusion'],
                                   'single_probs': [0.5, 0.5, 0.5]})
  d = D.from_config(cfg, occlusion_max=0.4)
  assert d.mode == 'single' and d.occlusion_max == 0.4
  assert d.kinds == ('noise', 'occlusion') and d.single_probs == (0.5, 0.5, 0.5)
  hash(d)  # Lists became tuples, so it can be a static jit argument.
  assert D.from_config({}) == D.Distortions() == D.from_config(None)
  with pytest.raises(ValueError, match=r"unknown distortion field.*'blur_sigma'.*known fields.*"
                     r'occlusion_max'):
    D.from_config({'blur_sigma': 1.0})
  with pytest.raises(ValueError, match=r"'occlusion_frac'"):
    D.from_config(cfg, occlusion_frac=0.3)
