"""Hole placement, kinds, fill values and mask validation (data/masks.py)."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inpaintjax.data import masks


@pytest.mark.parametrize('size,hole,top', [(32, 8, 12), (32, 3, 14), (28, 8, 10), (28, 5, 11),
                                           (7, 2, 2), (5, 1, 2)])
def test_center_hole_placement(size, hole, top):
  """PROTOCOL: top = (H-M)//2, so an odd H-M puts the square one pixel up and left."""
  m = np.asarray(masks.center_mask(size, size, hole))[..., 0]
  rows, cols = np.nonzero(m)
  assert m.sum() == hole * hole
  assert rows.min() == top and cols.min() == top
  assert rows.max() == top + hole - 1 and cols.max() == top + hole - 1


def test_center_hole_non_square_image():
  m = np.asarray(masks.center_mask(6, 9, 3))[..., 0]
  rows, cols = np.nonzero(m)
  assert (rows.min(), cols.min()) == (1, 3)


def test_box_sides_and_bounds():
  ms = np.asarray(masks.make_masks('box', jax.random.PRNGKey(0), 300, 32, 32))[..., 0]
  for m in ms:
    rows, cols = np.nonzero(m)
    h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert 8 <= h <= 16 and 8 <= w <= 16
    assert m.sum() == h * w  # A filled rectangle.
  # Positions vary: anywhere in the image.
  tops = [np.nonzero(m)[0].min() for m in ms]
  assert min(tops) == 0 and max(tops) >= 14


def test_strokes_coverage():
  ms = np.asarray(masks.make_masks('strokes', jax.random.PRNGKey(1), 200, 32, 32))
  coverage = ms.mean(axis=(1, 2, 3))
  assert coverage.min() >= 0.10 and coverage.max() <= 0.40
  assert coverage.std() > 0.05  # The target is drawn per mask.
  assert set(np.unique(ms)) == {0.0, 1.0}


@pytest.mark.parametrize('kind', ['box', 'strokes'])
def test_random_holes_are_a_function_of_the_key(kind):
  a = masks.make_masks(kind, jax.random.PRNGKey(3), 4, 32, 32)
  b = masks.make_masks(kind, jax.random.PRNGKey(3), 4, 32, 32)
  c = masks.make_masks(kind, jax.random.PRNGKey(4), 4, 32, 32)
  chex.assert_trees_all_equal(a, b)
  assert not np.array_equal(a, c)
  chex.assert_shape(a, (4, 32, 32, 1))


def test_make_masks_is_jittable():
  f = jax.jit(masks.make_masks, static_argnums=(0, 2, 3, 4))
  chex.assert_trees_all_equal(f('box', jax.random.PRNGKey(0), 2, 16, 16),
                              masks.make_masks('box', jax.random.PRNGKey(0), 2, 16, 16))


@pytest.mark.parametrize('fill', ['-1', '0', '0.25'])
def test_apply_mask_scalar_fill(fill):
  images = jax.random.uniform(jax.random.PRNGKey(0), (2, 8, 8, 3))
  m = masks.make_masks('center-4', None, 2, 8, 8)
  out = masks.apply_mask(images, m, masks.fill_value(fill, None))
  hole = np.asarray(m[..., 0]) > 0
  np.testing.assert_array_equal(np.asarray(out)[hole], float(fill))
  np.testing.assert_array_equal(np.asarray(out)[~hole], np.asarray(images)[~hole])


def test_mean_fill_is_per_channel():
  channel_mean = jnp.array([0.1, 0.5, 0.9])
  fill = masks.fill_value('mean', channel_mean)
  images = jnp.zeros((1, 8, 8, 3))
  out = masks.apply_mask(images, masks.make_masks('center-2', None, 1, 8, 8), fill)
  np.testing.assert_allclose(out[0, 3, 3], [0.1, 0.5, 0.9])
  with pytest.raises(ValueError, match='hole_fill'):
    masks.fill_value('median', channel_mean)


@pytest.mark.parametrize('spec,msg', [('circle', 'Unknown hole kind'), ('center', 'positive size'),
                                      ('center-x', 'positive size'), ('box-3', 'only centre')])
def test_bad_hole_specs(spec, msg):
  with pytest.raises(ValueError, match=msg):
    masks.parse_hole(spec)


def test_center_hole_covering_everything_is_an_error():
  with pytest.raises(ValueError, match='covers the whole'):
    masks.center_mask(8, 8, 8)


def test_validate_mask_errors():
  ok = np.zeros((2, 8, 8, 1), np.float32)
  ok[:, 2:4, 2:4] = 1
  masks.validate_mask(ok, (2, 8, 8, 3))
  empty = ok.copy()
  empty[1] = 0
  with pytest.raises(ValueError, match='image 1 is empty'):
    masks.validate_mask(empty)
  with pytest.raises(ValueError, match='covers the whole image'):
    masks.validate_mask(np.ones((1, 8, 8, 1)))
  with pytest.raises(ValueError, match=r'\(N, H, W, 1\)'):
    masks.validate_mask(np.ones((8, 8)))
  with pytest.raises(ValueError, match='differs from the image size'):
    masks.validate_mask(ok, (2, 9, 9, 3))


def test_harmonic_fill_keeps_known_pixels_and_reproduces_linear_ramps():
  y, x = np.mgrid[0:16, 0:16].astype(np.float32)
  ramp = jnp.asarray((0.2 + 0.03 * x + 0.01 * y)[None, ..., None])
  mask = masks.make_masks('center-6', None, 1, 16, 16)
  filled = masks.harmonic_fill(ramp, mask)
  # A linear ramp is harmonic: the Laplace fill recovers it.
  np.testing.assert_allclose(filled, ramp, atol=2e-3)
  known = np.asarray(mask[..., 0]) == 0
  np.testing.assert_array_equal(np.asarray(filled)[0][known[0]], np.asarray(ramp)[0][known[0]])
  assert masks.fill_value('harmonic', None) == 0.0


@pytest.mark.parametrize('kind', ['thin', 'medium', 'thick'])
@pytest.mark.parametrize('size', [28, 32])
def test_lama_freeform_masks_are_deterministic_and_cover_at_most_half(kind, size):
  make = jax.jit(masks.make_masks, static_argnums=(0, 2, 3, 4))
  first = np.asarray(make(kind, jax.random.PRNGKey(3), 200, size, size))
  again = np.asarray(make(kind, jax.random.PRNGKey(3), 200, size, size))
  other = np.asarray(make(kind, jax.random.PRNGKey(4), 200, size, size))
  np.testing.assert_array_equal(first, again)
  assert first.shape == (200, size, size, 1) and set(np.unique(first)) <= {0.0, 1.0}
  assert np.any(first != other)
  coverage = first.mean(axis=(1, 2, 3))
  assert coverage.min() > 0 and coverage.max() <= 0.5
  assert 0.1 < coverage.mean() < 0.4  # Documented means: 22-27%.
  masks.validate_mask(first, (200, size, size, 3))


def test_a_hole_mix_draws_each_mask_from_one_of_its_kinds():
  hole = masks.parse_hole('center-8, thin,box')
  assert hole.kind == 'mix' and str(hole) == 'center-8,thin,box'
  made = np.asarray(jax.jit(masks.make_masks, static_argnums=(0, 2, 3, 4))(
      hole, jax.random.PRNGKey(0), 120, 32, 32))
  centre = masks.center_mask(32, 32, 8)
  is_centre = np.all(made == centre, axis=(1, 2, 3))
  assert 20 < is_centre.sum() < 60  # About a third of 120.
  coverage = made.mean(axis=(1, 2, 3))
  assert coverage.min() > 0 and coverage.max() <= 0.5
  with pytest.raises(Exception, match='does not fit'):
    masks.check_fits('thin,center-40', 32, 32)


def test_biharmonic_fill_reproduces_quadratics_that_the_harmonic_fill_bends():
  """x² has a constant Laplacian: biharmonic (its Δ² is 0), not harmonic. Known pixels kept;
  jitted with traced, per-image free-form masks it matches the eager fill."""
  y, x = np.mgrid[0:16, 0:16].astype(np.float32)
  bowl = jnp.asarray((0.1 + 0.002 * (x - 3) ** 2 + 0.01 * y)[None, ..., None])
  mask = masks.make_masks('center-6', None, 1, 16, 16)
  np.testing.assert_allclose(masks.biharmonic_fill(bowl, mask, iterations=64), bowl, atol=1e-4)
  assert float(jnp.max(jnp.abs(masks.harmonic_fill(bowl, mask) - bowl))) > 5e-3
  images = jax.random.uniform(jax.random.PRNGKey(0), (4, 16, 16, 3))
  free = masks.make_masks('thin', jax.random.PRNGKey(1), 4, 16, 16)
  jitted = jax.jit(masks.biharmonic_fill)(images, jnp.asarray(free))
  chex.assert_trees_all_close(jitted, masks.biharmonic_fill(images, free), atol=1e-5)
  chex.assert_trees_all_equal(jitted * (1 - free), images * (1 - free))
  assert masks.fill_value('biharmonic', None) == 0.0
