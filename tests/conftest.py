"""Test set-up: four XLA CPU devices, so every test also exercises batch sharding, compiled fast.

The flag must be set before JAX creates its backend, hence here, before any import of jax.
"""

import os

# Tests run tiny programs many times: XLA's CPU backend optimisations cost far more compile time
# (a 25× slower compile for a small conv net) than they save in run time here.
os.environ.setdefault('XLA_FLAGS', '--xla_force_host_platform_device_count=4 '
                      '--xla_backend_optimization_level=0')
os.environ.setdefault('TFDS_DATA_DIR', os.path.join(os.path.dirname(__file__), '.tfds_empty'))

import jax
import pytest

from inpaintjax import config_base, train

# Tests build the same small models many times (every run of the trainer makes new closures,
# which jax's in-memory cache can't match); the persistent cache matches them by HLO.
jax.config.update('jax_compilation_cache_dir',
                  os.environ.get('INPAINTJAX_TEST_CACHE', '/tmp/inpaintjax_test_jax_cache'))
jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.0)
jax.config.update('jax_persistent_cache_min_entry_size_bytes', 0)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(name: str, **overrides):
  """A locked config from configs/, with dotted-key overrides applied like --config.a.b=v."""
  config = config_base.load_config(os.path.join(REPO, 'configs', name))
  return config_base.apply_overrides(config, overrides)


@pytest.fixture
def smoke_config():
  """The patch-CNN smoke config: the cheapest model that runs the whole trainer."""
  return load('patch_cnn.py:smoke')


@pytest.fixture(scope='session')
def unet_smoke_run(tmp_path_factory):
  """A finished U-Net smoke run (a regression state: weights plus the learned fill value),
  trained once per test process and only read by the tests that share it."""
  workdir = str(tmp_path_factory.mktemp('unet_smoke') / 'unet')
  train.train_and_evaluate(load('unet.py:smoke'), workdir)
  return workdir
