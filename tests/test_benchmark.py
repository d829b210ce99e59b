"""The benchmark across hole kinds: every table, grid and figure, on smoke runs."""

import json
import os

import numpy as np

from inpaintjax import benchmark, train
from tests.conftest import load


def test_benchmark_on_smoke_runs_writes_every_table(tmp_path):
  # One run keeps the suite short; the hole bits/dim an autoregressive run adds are tested in
  # tests/test_autoregressive_task.py (leaderboard.score_all copies its eval's bits/dim keys).
  unet = str(tmp_path / 'unet')
  train.train_and_evaluate(load('unet.py:smoke'), unet)
  out = tmp_path / 'bench'
  results = benchmark.run([unet], 'biharmonic,telea', 'center-8,thin,box', 'embedded', limit=6,
                          out=str(out))
  assert list(results) == ['center-8', 'thin', 'box']
  text = (out / 'benchmark.md').read_text()
  for kind in results:
    rows = results[kind]
    assert set(rows) == {'unet', 'biharmonic', 'telea'}
    for name, r in rows.items():
      assert r['image_psnr'] > r['hole_psnr'] and r['num_images'] == 6, (kind, name)
    assert 'hole_bits_per_dim' not in rows['unet']
    assert f'### {kind}' in text and (out / f'grid_{kind}.png').stat().st_size > 0
  assert '| method | PSNR hole | PSNR image | SSIM hole |' in text
  saved = json.loads((out / 'benchmark.json').read_text())
  assert saved['holes'] == ['center-8', 'thin', 'box']
  np.testing.assert_allclose(saved['results']['thin']['telea']['hole_psnr'],
                             results['thin']['telea']['hole_psnr'])
  assert benchmark.main(['--runs', unet, '--holes=center-40', '--data=embedded']) == 2
  # --extend adds rows to the earlier JSON (the baselines not scored again); --flip_average=on
  # scores the run's mirror-image average: another figure, said in the JSON's settings.
  os.symlink(unet, tmp_path / 'unet_flip')
  more = out / 'more'
  extended = benchmark.run([str(tmp_path / 'unet_flip')], '', 'center-8', 'embedded', limit=6,
                           out=str(more), flip_average='on', extend=str(out / 'benchmark.json'))
  rows = extended['center-8']
  assert set(rows) == {'unet', 'unet_flip', 'biharmonic', 'telea'}
  assert rows['unet_flip']['hole_psnr'] != rows['unet']['hole_psnr']
  assert rows['telea'] == results['center-8']['telea']
  merged = json.loads((more / 'benchmark.json').read_text())
  assert merged['holes'] == ['center-8', 'thin', 'box']
  assert '### box' in (more / 'benchmark.md').read_text()
  assert merged['results']['box'] == saved['results']['box']
  assert merged['settings']['unet_flip']['flip_average'] == 'on'
  assert merged['settings']['telea']['flip_average'] == 'default'
  # Other images (another seed) would not compare: refused.
  assert benchmark.main(['--holes=center-8', '--data=embedded', '--limit=6', '--seed=1',
                         '--baselines=telea', f'--extend={out / "benchmark.json"}',
                         f'--out={tmp_path / "other"}']) == 2
