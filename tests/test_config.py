"""Configs: every file loads, is locked, and rejects typos and unknown names clearly."""

import glob
import os
import subprocess
import sys

import pytest

from inpaintjax import config_base, models, tasks
from inpaintjax.tasks import deconvolution
from tests.conftest import REPO, load

CONFIGS = sorted(glob.glob(os.path.join(REPO, 'configs', '*.py')))


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_every_config_and_variant_builds_its_task(path):
  text = open(path).read()
  assert 'get_config' in text and 'Results' in text  # Docstring records the results.
  for variant in ('', 'smoke'):
    config = config_base.load_config(f'{path}:{variant}' if variant else path)
    assert config.is_locked
    if config.task == 'deconvolution':  # A sweep run by main, not a trained task.
      deconvolution.check_config(config)
    else:
      tasks.make(config)


def test_misspelt_key_is_an_error():
  config = load('unet.py:smoke')
  with pytest.raises(AttributeError, match='lerning_rate'):
    config.optim.lerning_rate = 0.1


def test_misspelt_override_on_the_command_line_is_an_error(tmp_path):
  result = subprocess.run(
      [sys.executable, '-m', 'inpaintjax.main', '--config=configs/unet.py:smoke',
       f'--workdir={tmp_path}', '--config.optim.lerning_rate=0.1'],
      cwd=REPO, capture_output=True, text=True, timeout=120)
  assert result.returncode != 0
  assert 'lerning_rate' in result.stderr


def test_unknown_variant_model_task_and_activation():
  with pytest.raises(ValueError, match="Unknown config variant 'tiny'"):
    config_base.load_config(os.path.join(REPO, 'configs', 'unet.py:tiny'))
  config = load('unet.py:smoke')
  config.model.name = 'transformer'
  with pytest.raises(ValueError, match="Unknown model name 'transformer'"):
    models.build(config.model, out_channels=3)
  config = load('unet.py:smoke')
  config.task = 'telepathy'
  with pytest.raises(ValueError, match="Unknown task 'telepathy'"):
    tasks.make(config)
  config.task = 'diffusion'  # A known task without its section: named, not a KeyError.
  with pytest.raises(ValueError, match='config.diffusion section'):
    tasks.make(config)
  with pytest.raises(ValueError, match="Unknown activation 'swishy'"):
    models.layers.activation('swishy')


def test_unknown_model_field_is_named():
  config = load('patch_cnn.py:smoke')
  config.model.unlock()
  config.model.kernel = 7
  with pytest.raises(ValueError, match=r"no field\(s\) \['kernel'\]"):
    models.build(config.model, out_channels=3, patch_size=4)


def test_missing_config_file():
  with pytest.raises(FileNotFoundError, match='Config file not found'):
    config_base.load_config('configs/nope.py')


def test_config_name():
  assert config_base.config_name('configs/unet.py:smoke') == 'unet_smoke'
  assert config_base.config_name('configs/pixelcnn.py') == 'pixelcnn'


def test_a_saved_run_reads_fields_added_since_at_their_defaults():
  saved = load('unet.py:best').to_dict()
  del saved['flip_average'], saved['augment']['flip']
  restored = config_base.with_defaults(saved)
  base = config_base.base_config()
  assert restored['flip_average'] == base.flip_average
  assert restored['augment']['flip'] == base.augment.flip
  assert restored['model'] == saved['model'] and restored['optim'] == saved['optim']
  assert 'flip' not in saved['augment']  # The saved dict itself is left as it was.
