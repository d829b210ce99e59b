"""The models shipped inside the package: they load, stay small, and beat biharmonic."""

import os

import numpy as np
import pytest
from PIL import Image

from inpaintjax import evaluate, export, inpaint, runs

HERE = os.path.dirname(os.path.abspath(__file__))
# 64 MNIST digits that the shipped MNIST model never trained on (README, "Exported models").
DIGITS = 'npz:' + os.path.join(HERE, 'data', 'mnist_holdout64.npz')


@pytest.mark.parametrize('name,data,limit_mb', [('cifar10', 'embedded', 5.0),
                                                ('mnist', DIGITS, 1.0)])
def test_a_shipped_model_loads_is_small_and_beats_biharmonic(name, data, limit_mb, tmp_path):
  path = export.resolve(f'shipped:{name}')
  assert os.path.getsize(path) <= limit_mb * 1e6
  head = export.header(path)
  assert head['version'] <= export.VERSION and head['dtype'] == 'float16'
  config, task, _ = runs.read_run(f'shipped:{name}')
  assert task.inpaint is not None and str(task.hole) == 'center-8'
  model = evaluate.run(workdir=f'shipped:{name}', data=data, hole='center-8', limit=64,
                       out=str(tmp_path / 'model'))
  classical = evaluate.run(baseline='biharmonic', data=data, hole='center-8', limit=64,
                           out=str(tmp_path / 'classical'))
  if name == 'mnist':  # The baseline reads the digits at their own size and channels.
    assert config.data.image_size == 28 and config.data.channels == 1
  assert model['hole_psnr'] > classical['hole_psnr'] + 0.3  # Seen: +0.65 (photos), +6.8 (digits).


def test_inpaint_uses_the_shipped_model_without_a_workdir(tmp_path, capsys):
  rng = np.random.default_rng(0)
  image = np.clip(np.add.outer(np.arange(48), np.arange(40))[..., None] * 2
                  + rng.integers(0, 20, (48, 40, 3)), 0, 255).astype(np.uint8)
  mask = np.zeros((48, 40), np.uint8)
  mask[20:26, 10:30] = 255
  Image.fromarray(image).save(tmp_path / 'in.png')
  Image.fromarray(mask).save(tmp_path / 'm.png')
  out = str(tmp_path / 'out.png')
  notes = inpaint.run(str(tmp_path / 'in.png'), str(tmp_path / 'm.png'), out)
  assert any('shipped:cifar10' in n for n in notes)
  filled = np.asarray(Image.open(out))
  assert np.array_equal(filled[mask == 0], image[mask == 0])
  with pytest.raises(ValueError, match='Unknown shipped model'):
    runs.read_run('shipped:imagenet')
