"""The evaluator command: baselines and trained runs, tables, JSON, grids and clear errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from inpaintjax import evaluate, leaderboard, scoring, train
from tests.conftest import REPO, load


@pytest.fixture(scope='module')
def cifar_like(tmp_path_factory):
  """Smooth 32×32 colour images (so inpainting is meaningful) in an npz file."""
  rng = np.random.default_rng(0)
  y, x = np.mgrid[0:32, 0:32] / 31.0
  images = []
  for _ in range(12):
    a, b, c = rng.random(3), rng.random(3), rng.random(3)
    images.append(a * x[..., None] + b * y[..., None] + c * (1 - x[..., None]) * 0.5)
  images = np.round(np.clip(np.stack(images) / 2, 0, 1) * 255).astype(np.uint8)
  path = tmp_path_factory.mktemp('data') / 'smooth.npz'
  np.savez(path, images=images, labels=np.zeros(12, np.int64))
  return str(path)


def test_baseline_scores_and_report(cifar_like, tmp_path, capsys):
  out = str(tmp_path / 'report')
  means = evaluate.run(baseline='biharmonic', data=f'npz:{cifar_like}', hole='center-8',
                       batch_size=5, out=out)
  assert means['num_images'] == 12
  # Biharmonic fills a linear ramp almost exactly.
  assert means['hole_psnr'] > 35 and means['ssim'] > 0.99
  assert 0.5 < means['sharpness'] < 1.5  # A ramp filled as a ramp: the truth's gradients.
  printed = capsys.readouterr().out
  assert '| biharmonic |' in printed and 'hole_psnr' in printed
  report = json.load(open(os.path.join(out, 'eval_center-8_smooth.json')))
  assert report['hole'] == 'center-8' and report['num_images'] == 12
  assert any(f.endswith('.png') for f in os.listdir(out))
  ring = evaluate.run(baseline='ring_mean', data=f'npz:{cifar_like}', hole='center-8', out=out)
  assert ring['hole_psnr'] < means['hole_psnr']


def test_random_holes_are_the_same_for_every_method():
  a = scoring.eval_masks('strokes', 3, 5, 32, 32)
  b = scoring.eval_masks('strokes', 3, 1200, 32, 32)[:5]
  np.testing.assert_array_equal(a, b)


def test_trained_run_is_scored_from_its_workdir(tmp_path, cifar_like):
  config = load('unet.py:smoke')
  workdir = str(tmp_path / 'run')
  trained = train.train_and_evaluate(config, workdir)
  # Same images and holes as the trainer's last evaluation → the same numbers.
  again = evaluate.run(workdir=workdir, batch_size=16)
  for k in ('hole_psnr', 'ssim', 'rgb_dist', 'ssim_seed'):
    np.testing.assert_allclose(again[k], trained[k], rtol=1e-5)
  other = evaluate.run(workdir=workdir, data=f'npz:{cifar_like}', hole='box', limit=10)
  assert other['num_images'] == 10 and np.isfinite(other['hole_psnr'])
  # The same weights with the mirror image's prediction averaged in, and explicitly without.
  flip = {setting: evaluate.run(workdir=workdir, data=f'npz:{cifar_like}', hole='box', limit=10,
                                flip_average=setting) for setting in ('on', 'off')}
  assert flip['on']['hole_psnr'] != other['hole_psnr']
  np.testing.assert_allclose(flip['off']['hole_psnr'], other['hole_psnr'], rtol=1e-6)
  # A --limit reading is named for it: it never overwrites the reading of every image.
  assert os.path.exists(os.path.join(workdir, 'eval', 'eval_box_smooth_flip-on_first-10.json'))
  assert os.path.exists(os.path.join(workdir, 'eval', 'eval_box_smooth_first-10.json'))
  # The leaderboard: the same run and every baseline on the same images and holes.
  out = tmp_path / 'board'
  assert evaluate.main(['--runs', workdir, '--baselines=all', f'--data=npz:{cifar_like}',
                        '--hole=box', '--limit=10', f'--out={out}']) == 0
  board = json.loads((out / 'leaderboard.json').read_text())['methods']
  assert set(board) == {'run', 'ring_mean', 'telea', 'navier_stokes', 'biharmonic'}
  np.testing.assert_allclose(board['run']['hole_psnr'], other['hole_psnr'], rtol=1e-5)
  alone = evaluate.run(baseline='telea', data=f'npz:{cifar_like}', hole='box', limit=10,
                       out=str(tmp_path / 'telea'))
  np.testing.assert_allclose(board['telea']['hole_psnr'], alone['hole_psnr'], rtol=1e-6)
  table = (out / 'leaderboard.md').read_text()
  psnrs = [board[m]['hole_psnr'] for m in board]
  assert psnrs == sorted(psnrs, reverse=True) and table.count('\n| ') == 6  # Header + 5 rows.
  assert (out / 'leaderboard.png').exists()
  with pytest.raises(ValueError, match='Unknown baselines'):
    leaderboard.run([], 'biharmonic,magic', f'npz:{cifar_like}')


@pytest.mark.parametrize('args,message', [
    (['--baseline=telea'], '--baseline needs --data'),
    (['--baseline=telea', '--data=npz:/nonexistent.npz'], 'not found'),
    (['--workdir=/nonexistent_run'], 'is not a training run'),
    (['--baseline=telea', '--data=embedded', '--hole=circle'], 'Unknown hole kind'),
    (['--baseline=telea', '--data=embedded', '--flip_average=on'], 'applies to a trained run'),
])
def test_cli_errors_are_one_line(args, message):
  result = subprocess.run([sys.executable, '-m', 'inpaintjax.evaluate'] + args, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
  assert result.returncode == 2
  assert message in result.stderr and 'Traceback' not in result.stderr


def test_bad_arrays_are_refused():
  good = np.zeros((2, 8, 8, 3), np.uint8)
  mask = np.zeros((2, 8, 8, 1), np.float32)
  mask[:, 3:5, 3:5] = 1
  predict = scoring.baseline_predictor('ring_mean')
  with pytest.raises(ValueError, match='uint8'):
    scoring.score(predict, good.astype(np.float32), mask, 2)
  with pytest.raises(ValueError, match='N×H×W×C'):
    scoring.score(predict, np.zeros((8, 8), np.uint8), mask, 2)
  with pytest.raises(ValueError, match='empty'):
    scoring.score(predict, good, np.zeros_like(mask), 2)
  with pytest.raises(ValueError, match='covers the whole image'):
    scoring.score(predict, good, np.ones_like(mask), 2)
  with pytest.raises(ValueError, match='Unknown baseline'):
    scoring.baseline_predictor('photoshop')
