"""Bad input to `main` and `sweep`: one line `error: ...` naming the field, exit status 2,
nothing written; every check of config_check.validate, in-process."""

import os
import subprocess
import sys

import pytest

from inpaintjax import config_check, train
from inpaintjax.errors import ConfigError
from tests.conftest import REPO, load


def run_main(tmp_path, *flags, config='unet.py:smoke'):
  workdir = tmp_path / 'run'
  env = dict(os.environ, PYTHONPATH=REPO)
  cmd = [sys.executable, '-m', 'inpaintjax.main', f'--config={REPO}/configs/{config}',
         f'--workdir={workdir}', *flags]
  return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300), workdir


@pytest.mark.parametrize('flag, named', [
    ('--config.batch_size=0', 'batch_size=0 must be positive'),
    ('--config.num_steps=-3', 'num_steps=-3 must be positive'),
    ('--config.data.name=npz:/nonexistent.npz', '/nonexistent.npz'),
    ('--config.hole=center-40', "hole='center-40' does not fit the data's 32×32 images"),
    ('--config.augment.flipp=true', "--config.augment.flipp: the config has no field 'flipp' "
                                    "(did you mean 'flip'?)"),
    ('--config.batch_size=abc', "--config.batch_size=abc: invalid literal for int()"),
])
def test_main_ends_bad_input_with_one_line_and_status_2(tmp_path, flag, named):
  proc, workdir = run_main(tmp_path, flag)
  assert proc.returncode == 2, proc.stderr[-2000:]
  errors = [line for line in proc.stderr.splitlines() if line.startswith('error:')]
  assert len(errors) == 1 and named in errors[0], proc.stderr[-2000:]
  assert 'Traceback' not in proc.stderr
  assert not workdir.exists()  # Nothing written: the check comes before the run starts.


@pytest.mark.parametrize('config, named', [
    ('unet.py:bogus', "Unknown config variant 'bogus'"),
    ('nothere.py', 'No such file or directory'),
])
def test_main_ends_a_bad_config_file_with_one_line(tmp_path, config, named):
  proc, _ = run_main(tmp_path, config=config)
  assert proc.returncode == 2 and 'Traceback' not in proc.stderr, proc.stderr[-2000:]
  assert proc.stderr.startswith('error: ') and named in proc.stderr


def test_sweep_checks_every_member_before_training(tmp_path):
  env = dict(os.environ, PYTHONPATH=REPO)
  cmd = [sys.executable, '-m', 'inpaintjax.sweep', f'--config={REPO}/configs/patch_cnn.py:smoke',
         '--sweep=patch_size', f'--workdir={tmp_path / "sweep"}', '--set', 'num_steps=0']
  proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 2, proc.stderr[-2000:]
  assert proc.stderr.strip().startswith('error: member ') and 'num_steps=0' in proc.stderr
  assert not (tmp_path / 'sweep').exists()


@pytest.mark.parametrize('overrides, named', [
    ({'eval_batch_size': 0}, 'eval_batch_size=0 must be positive'),
    ({'log_every': 0}, 'log_every=0'),
    ({'eval_every': -1}, 'eval_every=-1'),
    ({'checkpoint_every': 0}, 'checkpoint_every=0'),
    ({'keep_checkpoints': 0}, 'keep_checkpoints=0'),
    ({'data.image_size': 0}, 'data.image_size=0'),
    ({'data.limit': -1}, 'data.limit=-1 must be >= 0'),
    ({'data.holdout': 1.0}, 'data.holdout=1.0 must be a fraction in [0, 1)'),
    ({'data.channels': 2}, 'data.channels=2'),
    ({'ema_decay': 1.5}, 'ema_decay=1.5'),
    ({'cpu_devices': 3}, 'batch_size=8 does not split over cpu_devices=3'),
    ({'compute_dtype': 'float16'}, "compute_dtype='float16' is not known; allowed: float32, "
                                   'bfloat16'),
    ({'task': 'regresion'}, "task='regresion' is not known"),
    ({'model.name': 'unett'}, "model.name='unett' is not known"),
    ({'optim.name': 'adamm'}, "optim.name='adamm' is not known"),
    ({'optim.schedule': 'linear'}, "optim.schedule='linear'"),
    ({'loss.kind': 'huber2'}, "loss.kind='huber2'"),
    ({'hole': 'circle'}, "hole='circle'"),
    ({'hole_fill': 'median'}, "hole_fill='median'"),
])
def test_each_check_names_the_field_the_value_and_what_is_allowed(overrides, named):
  config = load('unet.py:smoke', **overrides)
  with pytest.raises(ConfigError) as caught:
    config_check.validate(config)
  assert named in str(caught.value)


def test_every_shipped_config_passes_the_check():
  for name in ('classifier.py:smoke', 'context_encoder.py:wgan_gp_smoke', 'correcting_ae.py:smoke',
               'deconv.py:smoke', 'patch_cnn.py:smoke', 'pixelcnn.py:smoke', 'pixelrnn.py:smoke',
               'unet.py:best', 'context_encoder.py:l2_residual'):
    config_check.validate(load(name))


def test_the_trainer_checks_before_reading_data(tmp_path):
  with pytest.raises(ConfigError, match='adversary.kind'):
    train.train_and_evaluate(load('context_encoder.py:smoke', **{'adversary.kind': 'lsgan'}),
                             str(tmp_path / 'run'))
  assert not (tmp_path / 'run').exists()
