"""Reverse-convolution deconvolution: filters, learners, the inverse, metrics, sweep, bad input."""

import json
import os
import subprocess
import sys

import chex
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.ndimage

from inpaintjax import deconvolution as dc
from inpaintjax import tasks
from inpaintjax.tasks import deconvolution as sweep
from tests.conftest import REPO, load

ASYMMETRIC = np.array([[0.1, 0.5, 0.0], [0.2, 0.3, 0.05], [0.0, 0.15, 0.4]], np.float32)


def _smooth(n=2, h=20, w=24, c=3, seed=0):
  """Natural-ish images in [0, 1]: random smooth waves, different per channel."""
  rng = np.random.default_rng(seed)
  yy, xx = np.mgrid[:h, :w] / 8
  out = np.zeros((n, h, w, c), np.float32)
  for idx in np.ndindex(n, c):
    a, b, p = rng.uniform(0.3, 1.5, 3)
    out[idx[0], ..., idx[1]] = 0.5 + 0.25 * np.sin(a * yy + p) * np.cos(b * xx) + 0.1 * (yy / h)
  return out


def test_named_filters_are_the_sources():
  np.testing.assert_allclose(dc.get_filter('blur'), np.full((3, 3), 1 / 9), rtol=1e-6)
  np.testing.assert_array_equal(dc.get_filter('sharpen'), [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
  np.testing.assert_array_equal(dc.get_filter('edge'), 9 * np.eye(3)[1][:, None] * np.eye(3)[1]
                                - np.ones((3, 3)))
  np.testing.assert_array_equal(dc.get_filter('custom', ASYMMETRIC.tolist()), ASYMMETRIC)


def test_apply_filter_is_scipy_correlate_per_channel():
  images = np.random.default_rng(1).uniform(size=(2, 7, 9, 3)).astype(np.float32)
  out = np.asarray(dc.apply_filter(images, ASYMMETRIC))
  chex.assert_shape(out, images.shape)
  for n, c in np.ndindex(2, 3):
    ref = scipy.ndimage.correlate(images[n, ..., c], ASYMMETRIC, mode='reflect')
    np.testing.assert_allclose(out[n, ..., c], ref, atol=1e-6)
    # Correlation = convolution with the filter turned 180°.
    ref = scipy.ndimage.convolve(images[n, ..., c], ASYMMETRIC[::-1, ::-1], mode='reflect')
    np.testing.assert_allclose(out[n, ..., c], ref, atol=1e-6)
  per_channel = np.stack([ASYMMETRIC, dc.get_filter('sharpen'), dc.get_filter('edge')])
  out = np.asarray(dc.apply_filter(images[0], per_channel, clip=True))
  for c in range(3):
    ref = scipy.ndimage.correlate(images[0, ..., c], per_channel[c], mode='reflect')
    np.testing.assert_allclose(out[..., c], np.clip(ref, 0, 1), atol=1e-5)


def test_batch_learner_recovers_a_known_filters_proportions():
  image = np.random.default_rng(2).uniform(size=(1, 24, 24, 3)).astype(np.float32)
  filtered = dc.apply_filter(image, ASYMMETRIC)  # Non-negative: relu is the identity on it.
  w = np.asarray(dc.learn_batch(image, filtered, 0.5, steps=400))
  chex.assert_shape(w, (3, 3, 3))
  for c in range(3):
    np.testing.assert_allclose(w[c] / w[c].sum(), ASYMMETRIC / ASYMMETRIC.sum(), atol=1e-4)


def test_sgd_learner_is_the_per_block_rule_and_lowers_its_loss():
  x = _smooth(n=1, h=6, w=5, c=1)
  y = np.asarray(dc.apply_filter(x, dc.get_filter('blur')))
  w0 = np.full((1, 3, 3), 0.1, np.float32)
  w = w0[0].ravel().copy()
  for i in range(4):  # The source's rule, block by block in raster order.
    for j in range(3):
      block, target = y[0, i:i + 3, j:j + 3, 0].ravel(), x[0, i + 1, j + 1, 0]
      s = w @ block
      w -= 0.3 * (max(s, 0) - target) * (s > 0) * block
  np.testing.assert_allclose(dc.learn_sgd(y, x, 0.3, init=w0)[0].ravel(), w, rtol=1e-5)

  x = _smooth()
  y = dc.apply_filter(x, dc.get_filter('blur'), clip=True)
  src, tgt = dc.training_pairs(y, x)  # The source's direction: filtered -> original.
  w0 = dc.init_filters(3, 'random')
  before = float(dc.mean_loss(w0, src, tgt))
  w = dc.learn_sgd(y, x, [0.1, 0.01], epochs=2, init='random')
  chex.assert_shape(w, (2, 3, 3, 3))
  for wl in w:
    assert float(dc.mean_loss(wl, src, tgt)) < 0.2 * before


def test_inverse_undoes_an_exactly_invertible_case():
  # A causal filter (no weight on the right or below) needs no missing pixel inside the
  # image; a 2-pixel zero frame makes the padded border exact too.
  x = np.zeros((1, 12, 14, 2), np.float32)
  x[:, 2:-2, 2:-2] = np.random.default_rng(3).uniform(size=(1, 8, 10, 2))
  causal = np.array([[0.1, -0.2, 0.15], [0.3, 1.0, 0], [0, 0, 0]], np.float32)
  y = dc.apply_filter(x, causal)
  np.testing.assert_allclose(dc.deconvolve(y, causal, clip=False), x, atol=1e-5)
  # A centre-only filter in either order; a flat image under blur (all neighbours equal).
  np.testing.assert_allclose(dc.deconvolve(0.5 * x, 0.5 * np.eye(3)[1][:, None] * np.eye(3)[1],
                                           order='parallel'), x, atol=1e-6)
  flat = np.full((6, 7, 3), 0.4, np.float32)
  np.testing.assert_allclose(dc.deconvolve(dc.apply_filter(flat, dc.get_filter('blur')),
                                           dc.get_filter('blur')), flat, atol=1e-4)
  # Layout: one restored pixel per filtered pixel; a sweep axis in front.
  sweep_w = jnp.stack([causal[None].repeat(2, 0)] * 4)
  chex.assert_shape(dc.deconvolve(y, sweep_w, clip=False), (4, 1, 12, 14, 2))
  np.testing.assert_allclose(dc.deconvolve(y, sweep_w, clip=False)[3], x, atol=1e-5)


def test_classical_deconvolvers_use_the_filter_as_correlation():
  x = _smooth(n=1)
  shift = np.zeros((3, 3), np.float32)
  shift[1, 2] = 1  # Correlation: out[i, j] = in[i, j + 1]; the PSF must be turned to match.
  y = dc.apply_filter(x, shift)
  inner = (slice(None), slice(2, -2), slice(2, -2))
  np.testing.assert_allclose(dc.richardson_lucy(y, shift, num_iter=1)[inner], x[inner], atol=1e-4)
  np.testing.assert_allclose(dc.wiener(y, shift, balance=1e-6)[inner], x[inner], atol=1e-3)
  assert not dc.richardson_lucy_applies(dc.get_filter('edge'))
  with pytest.raises(ValueError, match='non-negative'):
    dc.richardson_lucy(y, dc.get_filter('sharpen'))


def test_metrics_on_hand_made_arrays():
  original = np.zeros((2, 2, 2, 1), np.float32)
  filtered = np.stack([np.full((2, 2, 1), 0.1), np.full((2, 2, 1), 0.2)]).astype(np.float32)
  restored = np.stack([np.full((2, 2, 1), 0.05), np.full((2, 2, 1), 0.3)]).astype(np.float32)
  np.testing.assert_allclose(dc.mae(filtered, original), [0.1, 0.2], rtol=1e-6)
  np.testing.assert_allclose(dc.loss_ratio(jnp.array([0.05, 0.3]), jnp.array([0.1, 0.2])),
                             [0.5, 0.5], rtol=1e-6)
  s = dc.score(original, filtered, restored)
  np.testing.assert_allclose([s['mae0'], s['mae'], s['ratio']], [0.15, 0.175, 0.5], rtol=1e-6)
  s = dc.score(original, filtered, np.stack([restored, filtered]))  # A sweep axis.
  np.testing.assert_allclose(s['ratio'], [0.5, 0.0], atol=1e-6)
  assert np.isnan(dc.loss_ratio(0.1, 0.0))


def test_cli_smoke_sweep_writes_the_tables(tmp_path):
  env = dict(os.environ, PYTHONPATH=REPO)
  cmd = [sys.executable, '-m', 'inpaintjax.main',
         f'--config={REPO}/configs/deconv.py:smoke', f'--workdir={tmp_path}']
  run = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
  assert run.returncode == 0, run.stderr[-3000:]
  table = (tmp_path / 'tables.md').read_text()
  for name in ('blur', 'sharpen', 'edge', 'custom'):
    assert f': {name} [[' in table
  assert table.count('| learned (sgd, backward, equation) |') == 4 * 3
  assert 'does not apply: needs a non-negative PSF' in table  # RL on sharpen and edge.
  assert '## Table 2' in table and '| mean over rates |' in table and 'Learned filters' in table
  assert 'Learned filters per channel' in run.stdout
  results = json.loads((tmp_path / 'results.json').read_text())
  assert np.asarray(results['filters'][0]['learned'], float).shape == (3, 3, 3, 3)
  typo = subprocess.run(cmd + ['--config.learning_rate=(0.1,)'], cwd=tmp_path, env=env,
                        capture_output=True, text=True, timeout=300)
  assert typo.returncode != 0 and 'learning_rate' in typo.stderr


def test_divergence_is_reported_not_raised(tmp_path):
  config = load('deconv.py:smoke', filters=('custom',), custom=((0, 0, 0), (0, 1e30, 0), (0, 0, 0)),
                clip=False, learning_rates=(1.0,), num_images=1, crop_height=8, crop_width=8)
  results = sweep.run_sweep(config, str(tmp_path))
  assert results['filters'][0]['rows'][0]['note'].startswith('diverged')
  assert 'diverged: inf/NaN filter' in (tmp_path / 'tables.md').read_text()


def test_image_sources(tmp_path):
  images = sweep.embedded_images(10, 24, 32)
  chex.assert_shape(images, (10, 24, 32, 3))
  assert images.dtype == np.uint8 and len({im.tobytes() for im in images}) == 10
  path = tmp_path / 'grey.npz'
  np.savez(path, images=np.zeros((5, 6, 7), np.uint8))
  config = load('deconv.py:smoke', images=f'npz:{path}', num_images=3)
  chex.assert_shape(sweep.load_images(config), (3, 6, 7, 1))


def test_bad_input_gives_clear_errors(tmp_path):
  ok = np.zeros((5, 5, 3), np.float32)
  with pytest.raises(ValueError, match='floating-point'):
    dc.apply_filter(np.zeros((5, 5, 3), np.uint8), 'blur')
  with pytest.raises(ValueError, match='H×W×C'):
    dc.apply_filter(np.zeros((5, 5), np.float32), dc.get_filter('blur'))
  with pytest.raises(ValueError, match='3×3'):
    dc.apply_filter(ok, np.ones((5, 5)))
  with pytest.raises(ValueError, match='3×3'):
    dc.get_filter('custom', [[1, 2], [3, 4]])
  with pytest.raises(ValueError, match="Unknown filter 'gauss'"):
    dc.get_filter('gauss')
  with pytest.raises(ValueError, match='differ in shape'):
    dc.learn_sgd(ok, np.zeros((5, 6, 3), np.float32), 0.1)
  with pytest.raises(ValueError, match='order'):
    dc.deconvolve(ok, dc.get_filter('blur'), order='spiral')
  with pytest.raises(ValueError, match='config.method'):
    sweep.check_config(load('deconv.py:smoke', method='adam'))
  with pytest.raises(ValueError, match='Unknown filter'):
    sweep.check_config(load('deconv.py:smoke', filters=('blur', 'blurr')))
  with pytest.raises(ValueError, match='1 to 10'):
    sweep.embedded_images(11)
  path = tmp_path / 'bad.npz'
  np.savez(path, images=np.zeros((2, 6, 7, 3), np.float32))
  with pytest.raises(ValueError, match='uint8'):
    sweep.load_images(load('deconv.py:smoke', images=f'npz:{path}'))
  with pytest.raises(KeyError, match='learning_rate'):
    load('deconv.py', learning_rate=0.1)
  with pytest.raises(ValueError, match='python -m inpaintjax.main --config=configs/deconv.py'):
    tasks.make(load('deconv.py:smoke'))  # The trainer points to the command.
