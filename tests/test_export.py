"""Exported models: one file, read back wherever a run is, bad files refused in one line."""

import json
import os

import numpy as np
import pytest
from flax import serialization
from PIL import Image

from inpaintjax import evaluate, export, inpaint, leaderboard, runs, train
from inpaintjax.errors import RunError
from tests.conftest import load


@pytest.fixture
def unet_run(unet_smoke_run):
  return unet_smoke_run


def test_an_export_scores_as_its_run_and_keeps_no_optimiser_state(unet_run, tmp_path):
  path = str(tmp_path / 'model.msgpack')
  assert export.main(['--workdir', unet_run, '--out', path]) == 0
  want = evaluate.run(workdir=unet_run, data='embedded', hole='center-8', limit=64,
                      out=str(tmp_path / 'a'))
  got = evaluate.run(workdir=path, data='embedded', hole='center-8', limit=64,
                     out=str(tmp_path / 'b'))
  for key in ('hole_psnr', 'ssim', 'rgb_dist'):
    np.testing.assert_allclose(got[key], want[key], rtol=1e-6)
  with open(path, 'rb') as f:
    payload = serialization.msgpack_restore(f.read())
  assert 'opt_state' not in payload['state'] and 'params' in payload['state']
  head = export.header(path)
  assert head['version'] == export.VERSION and head['image_shape'] == [32, 32, 3]
  assert head['step'] == 4 and head['weights'] == 'raw' and head['config']['task'] == 'regression'
  assert head['figures']['last_eval']['step'] == 4
  assert head['run_commit'] == runs.read_data_info(unet_run)['commit']
  # The leaderboard takes the file beside the run; half-size storage reads back close.
  half = str(tmp_path / 'half.msgpack')
  assert export.main(['--workdir', unet_run, '--out', half, '--dtype', 'bfloat16']) == 0
  assert os.path.getsize(half) < 0.6 * os.path.getsize(path)
  rows = leaderboard.run([unet_run, half], data='embedded', hole='center-8', limit=64,
                         out=str(tmp_path / 'board'))
  assert abs(rows['half.msgpack']['hole_psnr'] - rows['unet']['hole_psnr']) < 0.1


def test_inpaint_takes_an_export(unet_run, tmp_path):
  path = str(tmp_path / 'model.msgpack')
  export.export(unet_run, path, dtype='float16')
  image = np.random.default_rng(0).integers(0, 256, (40, 50, 3), np.uint8)
  mask = np.zeros((40, 50), np.uint8)
  mask[10:18, 20:28] = 255
  Image.fromarray(image).save(tmp_path / 'in.png')
  Image.fromarray(mask).save(tmp_path / 'm.png')
  out = str(tmp_path / 'out.png')
  inpaint.run(str(tmp_path / 'in.png'), str(tmp_path / 'm.png'), out, workdir=path)
  filled = np.asarray(Image.open(out))
  assert np.array_equal(filled[mask == 0], image[mask == 0])
  assert not np.array_equal(filled[mask > 0], image[mask > 0])


def test_bad_exports_are_refused_in_one_line(unet_run, tmp_path, capsys):
  path = str(tmp_path / 'model.msgpack')
  export.export(unet_run, path)
  blob = open(path, 'rb').read()
  cut = tmp_path / 'cut.msgpack'
  cut.write_bytes(blob[:len(blob) // 2])
  with pytest.raises(RunError, match='truncated or corrupt'):
    runs.read_run(str(cut))
  payload = serialization.msgpack_restore(blob)
  newer = tmp_path / 'newer.msgpack'
  newer.write_bytes(serialization.msgpack_serialize({**payload, 'version': export.VERSION + 1}))
  with pytest.raises(RunError, match='upgrade inpaintjax'):
    runs.read_run(str(newer))
  foreign = tmp_path / 'other.msgpack'
  foreign.write_bytes(serialization.msgpack_serialize({'params': {'w': np.zeros(3)}}))
  with pytest.raises(RunError, match='not an inpaintjax export'):
    runs.read_run(str(foreign))
  with pytest.raises(ValueError, match='holds the raw weights'):
    runs.read_run(path, weights='ema')
  assert evaluate.main(['--workdir', str(cut), '--data', 'embedded']) == 2
  err = capsys.readouterr().err.strip()
  assert err.startswith('error:') and '\n' not in err and 'truncated' in err
  assert export.main(['--workdir', str(tmp_path / 'missing'), '--out', path]) == 2
  assert export.main(['--show', path]) == 0
  shown = json.loads(capsys.readouterr().out)
  assert shown['config'] == 'regression / unet' and 'state' not in shown


def test_an_adversarial_run_exports_its_generator_and_critic_weights(tmp_path):
  """A GAN state (generator and critic, each with its optimiser state) round-trips too."""
  workdir = str(tmp_path / 'wgan')
  train.train_and_evaluate(load('context_encoder.py:wgan_smoke'), workdir)
  path = str(tmp_path / 'wgan.msgpack')
  export.export(workdir, path)
  with open(path, 'rb') as f:
    stored = serialization.msgpack_restore(f.read())['state']
  assert set(stored) >= {'gen', 'critic'} and 'opt_state' not in stored['gen']
  want = evaluate.run(workdir=workdir, data='embedded', limit=64, out=str(tmp_path / 'a'))
  got = evaluate.run(workdir=path, data='embedded', limit=64, out=str(tmp_path / 'b'))
  np.testing.assert_allclose(got['hole_psnr'], want['hole_psnr'], rtol=1e-6)
