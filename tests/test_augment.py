"""Augmentation: off is the identity, each switch changes images within range, per-image keys."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inpaintjax.data import augment


@pytest.fixture(scope='module')
def images():
  rng = np.random.default_rng(0)
  y, x = np.mgrid[0:16, 0:16] / 15.0
  base = np.stack([x, y, 1 - x], -1)[None] * rng.uniform(0.5, 1.0, (4, 1, 1, 3))
  return jnp.asarray(base, jnp.float32)


def test_no_setting_is_the_identity(images):
  out = augment.augment(jax.random.PRNGKey(0), images)
  np.testing.assert_array_equal(out, images)


@pytest.mark.parametrize('setting', [dict(hue=0.1), dict(saturation=0.3), dict(contrast=0.3),
                                     dict(blur_sigma=1.5), dict(flip=True),
                                     dict(shift_px=3)])
def test_each_switch_changes_images_and_stays_in_range(images, setting):
  fn = jax.jit(lambda k, x: augment.augment(k, x, **setting))
  out = fn(jax.random.PRNGKey(1), images)
  chex.assert_equal_shape([out, images])
  assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
  changed = np.abs(np.asarray(out - images)).reshape(4, -1).max(-1) > 1e-4
  assert changed.any()
  np.testing.assert_array_equal(out, fn(jax.random.PRNGKey(1), images))  # Deterministic.


def test_blur_smooths_and_grey_images_skip_colour_changes(images):
  sharp = jnp.asarray(np.random.default_rng(1).uniform(size=(2, 16, 16, 1)), jnp.float32)
  blurred = augment.augment(jax.random.PRNGKey(3), sharp, blur_sigma=2.0)
  assert float(jnp.abs(jnp.diff(blurred, axis=1)).mean()) < float(
      jnp.abs(jnp.diff(sharp, axis=1)).mean())
  grey = augment.augment(jax.random.PRNGKey(3), sharp, hue=0.2, saturation=0.5)
  np.testing.assert_array_equal(grey, sharp)  # Hue and saturation have no meaning in grey.


def test_shift_translates_whole_images_by_at_most_the_setting():
  """A shifted image is the original moved by (dy, dx) with |dy|, |dx| <= shift_px."""
  x = jnp.asarray(np.random.default_rng(2).uniform(size=(6, 12, 12, 2)), jnp.float32)
  out = np.asarray(augment.augment(jax.random.PRNGKey(4), x, shift_px=2))
  moved = 0
  for original, shifted in zip(np.asarray(x), out):
    found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
             if np.array_equal(shifted[2:-2, 2:-2], original[2 - dy:10 - dy, 2 - dx:10 - dx])]
    assert found, 'the interior is not a translate of the original'
    moved += found[0] != (0, 0)
  assert moved > 0
  with pytest.raises(ValueError, match='shift_px'):
    augment.augment(jax.random.PRNGKey(4), x, shift_px=12)
