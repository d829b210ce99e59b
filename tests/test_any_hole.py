"""Box and stroke holes: every family that takes any hole trains on them and is scored on them."""

import numpy as np
import pytest

from inpaintjax import evaluate, train
from tests.conftest import load


@pytest.mark.parametrize('name', ['unet.py:smoke', 'context_encoder.py:smoke',
                                  'pixelcnn.py:smoke', 'pixelrnn.py:smoke'])
def test_trains_on_strokes_and_is_scored_on_boxes(tmp_path, name):
  workdir = str(tmp_path / 'run')
  trained = train.train_and_evaluate(load(name, hole='strokes', num_steps=2, eval_every=2),
                                     workdir)
  assert np.isfinite(trained['hole_psnr']) and np.isfinite(trained['loss'])
  boxes = evaluate.run(workdir=workdir, hole='box', limit=8, seed=3)
  assert boxes['num_images'] == 8 and np.isfinite(boxes['hole_psnr'])
  assert boxes['hole_psnr'] != trained['hole_psnr']  # Other holes, other numbers.


def test_trains_on_a_mix_of_hole_kinds_and_is_scored_on_each(tmp_path):
  workdir = str(tmp_path / 'run')
  trained = train.train_and_evaluate(load('unet.py:smoke', hole='center-8,box',
                                          num_steps=2, eval_every=2), workdir)
  assert np.isfinite(trained['hole_psnr'])
  scores = [evaluate.run(workdir=workdir, hole=kind, limit=8)['hole_psnr']
            for kind in ('center-8', 'box')]
  assert all(np.isfinite(scores)) and scores[0] != scores[1]
