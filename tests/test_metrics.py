"""Tests of inpaintjax.metrics against independent numpy / scikit-image references."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from skimage.metrics import structural_similarity

from inpaintjax import metrics


def _random_case(seed, n=4, h=16, w=16, c=3):
  """Random images in [0, 1] and a random rectangular hole per image."""
  rng = np.random.default_rng(seed)
  pred = rng.uniform(-0.1, 1.1, (n, h, w, c)).astype(np.float32)
  truth = (rng.integers(0, 256, (n, h, w, c)) / 255.0).astype(np.float32)
  mask = np.zeros((n, h, w, 1), np.float32)
  for i in range(n):
    top, left = rng.integers(0, h - 3), rng.integers(0, w - 3)
    mask[i, top:top + rng.integers(1, 4), left:left + rng.integers(1, 4)] = 1.0
  return pred, truth, mask


def _numpy_reference(pred, truth, mask):
  """Straightforward per-image loop of PROTOCOL.md's hole metrics."""
  out = {k: [] for k in ('hole_psnr', 'hole_mse', 'hole_l1', 'rgb_dist', 'maem')}
  comp = np.where(mask > 0.5, pred, truth)
  p8 = np.round(np.clip(comp, 0, 1) * 255).astype(np.int64)
  t8 = np.round(np.clip(truth, 0, 1) * 255).astype(np.int64)
  for i in range(len(pred)):
    hole = mask[i, ..., 0] > 0.5
    d = (p8[i][hole] - t8[i][hole]).astype(np.float64)  # (pixels, C)
    mse = np.mean((d / 255) ** 2)
    out['hole_mse'].append(mse)
    out['hole_psnr'].append(10 * np.log10(1 / max(mse, 1e-10)))
    out['hole_l1'].append(np.mean(np.abs(d) / 255))
    out['rgb_dist'].append(np.mean(np.sqrt(np.sum(d**2, axis=-1))))
    out['maem'].append(np.mean(np.abs(d) <= 5))
  return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize('channels', [3, 1])
def test_hole_metrics_match_numpy(channels):
  pred, truth, mask = _random_case(0, c=channels)
  got = jax.jit(metrics.hole_metrics)(pred, truth, mask)
  want = _numpy_reference(pred, truth, mask)
  for name, values in want.items():
    chex.assert_shape(got[name], (len(pred),))
    np.testing.assert_allclose(got[name], values, rtol=1e-5, atol=1e-6, err_msg=name)


def test_grey_rgb_dist_is_absolute_difference():
  truth = np.full((1, 12, 12, 1), 100 / 255, np.float32)
  pred = np.full_like(truth, 130 / 255)
  mask = np.zeros((1, 12, 12, 1), np.float32)
  mask[0, 4:8, 4:8] = 1
  got = metrics.hole_metrics(pred, truth, mask)
  np.testing.assert_allclose(got['rgb_dist'], [30.0], rtol=1e-6)
  np.testing.assert_allclose(got['hole_l1'], [30 / 255], rtol=1e-6)


def test_maem_boundary_is_inclusive_at_five_levels():
  truth = np.full((1, 12, 12, 1), 100 / 255, np.float32)
  mask = np.zeros((1, 12, 12, 1), np.float32)
  mask[0, 0, :2] = 1
  pred = truth.copy()
  pred[0, 0, 0] = 105 / 255  # counts
  pred[0, 0, 1] = 94 / 255  # 6 levels off: does not count
  np.testing.assert_allclose(metrics.hole_metrics(pred, truth, mask)['maem'], [0.5])


@pytest.mark.parametrize('channels', [3, 1])
def test_ssim_matches_scikit_image(channels):
  pred, truth, mask = _random_case(1, n=3, h=24, w=20, c=channels)
  # Smooth truth and a mildly wrong hole make SSIM land mid-range, not near 0.
  truth = np.clip(truth * 0.2 + np.linspace(0, 0.8, 20)[None, None, :, None], 0, 1)
  truth = truth.astype(np.float32)
  got = np.asarray(metrics.hole_metrics(pred, truth, mask)['ssim'])
  comp = np.asarray(metrics.quantize(metrics.composite(pred, truth, mask)))
  truth_q = np.asarray(metrics.quantize(truth))
  for i in range(len(pred)):
    want = structural_similarity(
        comp[i].astype(np.float64), truth_q[i].astype(np.float64), gaussian_weights=True,
        sigma=1.5, use_sample_covariance=False, data_range=1, channel_axis=-1)
    assert abs(got[i] - want) < 1e-4, (i, got[i], want)


def test_composite_keeps_known_pixels_bit_identical():
  pred, truth, mask = _random_case(2)
  truth = truth + np.float32(1e-7)  # off the 8-bit grid, so a blend would show
  comp = np.asarray(metrics.composite(pred, truth, mask))
  known = mask[..., 0] < 0.5
  np.testing.assert_array_equal(comp[known], truth[known])
  np.testing.assert_array_equal(comp[~known], pred[~known])


def test_quantize_rounds_to_nearest_level_and_clips():
  levels = np.arange(256, dtype=np.float32)
  below = (levels[:-1] + 0.5 - 1e-3) / 255
  above = (levels[:-1] + 0.5 + 1e-3) / 255
  grid = levels / 255

  def level(x):
    return np.round(np.asarray(metrics.quantize(x), np.float64) * 255)

  np.testing.assert_array_equal(level(below), levels[:-1])
  np.testing.assert_array_equal(level(above), levels[1:])
  # XLA divides via the reciprocal, so allow 1 ulp against numpy's k / 255.
  np.testing.assert_allclose(metrics.quantize(below), grid[:-1], rtol=2e-7, atol=0)
  np.testing.assert_array_equal(metrics.quantize(grid), metrics.quantize(metrics.quantize(grid)))
  np.testing.assert_array_equal(metrics.quantize(np.array([-0.3, 1.7], np.float32)), [0.0, 1.0])


def test_perfect_prediction_scores_100_db_and_ssim_one():
  _, truth, mask = _random_case(3)
  got = metrics.hole_metrics(truth, truth, mask)
  np.testing.assert_allclose(got['hole_psnr'], 100.0, rtol=1e-6)
  np.testing.assert_allclose(got['ssim'], 1.0, atol=1e-6)
  np.testing.assert_array_equal(got['maem'], 1.0)
  np.testing.assert_array_equal(got['rgb_dist'], 0.0)


def test_ssim_seed_identical_images_is_one():
  _, truth, _ = _random_case(4)
  got = jax.jit(metrics.ssim_seed)(truth, truth)
  chex.assert_shape(got, (len(truth),))
  np.testing.assert_allclose(got, 1.0, atol=1e-6)


def test_sharpness_ratio():
  _, truth, mask = _random_case(5)
  np.testing.assert_allclose(metrics.sharpness_ratio(truth, truth, mask), 1.0, rtol=1e-6)
  flat = np.full_like(truth, 0.5)
  # A flat hole inside a textured image still has edges at the hole border, but it is
  # smoother than random texture.
  assert np.all(np.asarray(metrics.sharpness_ratio(flat, truth, mask)) < 1.0)


def test_mean_metrics():
  got = metrics.mean_metrics({'a': jnp.array([1.0, 2.0]), 'b': np.array([0.5])})
  assert got == {'a': 1.5, 'b': 0.5}
  assert all(isinstance(v, float) for v in got.values())


def test_bad_shapes_raise():
  pred, truth, mask = _random_case(6)
  with pytest.raises(ValueError, match='shapes disagree'):
    metrics.hole_metrics(pred[:, :8], truth, mask)
  with pytest.raises(ValueError, match='rank 4'):
    metrics.hole_metrics(pred[0], truth[0], mask[0])
  with pytest.raises(ValueError, match='mask shape'):
    metrics.hole_metrics(pred, truth, mask[..., 0:1].repeat(3, -1))
  with pytest.raises(ValueError, match='must share one'):
    metrics.ssim_seed(pred, truth[:2])


def test_empty_hole_raises():
  pred, truth, mask = _random_case(7)
  mask[2] = 0
  with pytest.raises(ValueError, match=r'no hole pixel .*\[2\]'):
    metrics.hole_metrics(pred, truth, mask)
  with pytest.raises(ValueError, match='no hole pixel'):
    metrics.validate(pred, truth, mask)


def test_image_metrics_whole_image_psnr_l1_and_hole_ssim():
  pred, truth, mask = _random_case(5)
  got = metrics.image_metrics(pred, truth, mask)
  comp = np.asarray(metrics.quantize(metrics.composite(pred, truth, mask)))
  diff = comp - np.asarray(metrics.quantize(truth))
  np.testing.assert_allclose(got['image_psnr'], -10 * np.log10(np.mean(diff ** 2, axis=(1, 2, 3))),
                             rtol=1e-4)
  np.testing.assert_allclose(got['image_l1'], np.mean(np.abs(diff), axis=(1, 2, 3)), rtol=1e-4)
  hole = metrics.hole_metrics(pred, truth, mask)
  assert np.all(np.asarray(got['image_psnr']) > np.asarray(hole['hole_psnr']))  # Known = exact.
  centre = np.zeros_like(mask)
  centre[:, 6:10, 6:10] = 1  # Inside the 6×6 block of window centres that fit in 16×16.
  perfect = metrics.image_metrics(truth, truth, centre)
  np.testing.assert_allclose(perfect['hole_ssim'], 1.0, atol=1e-5)
  np.testing.assert_allclose(perfect['image_psnr'], 100.0, rtol=1e-6)
  assert np.all(np.asarray(metrics.image_metrics(pred, truth, centre)['hole_ssim']) < 0.9)
  border = np.zeros_like(mask)
  border[:, :3, :3] = 1  # No 11×11 window centred in this hole fits: undefined, not 0 or 1.
  assert np.all(np.isnan(np.asarray(metrics.image_metrics(pred, truth, border)['hole_ssim'])))
