"""Trains and evaluates one config: `python -m inpaintjax.main --config=configs/unet.py`.

  --config=configs/x.py[:variant]   an ml_collections config file (locked: a misspelt
                                    `--config.a.b=v` override is an error)
  --workdir=DIR                     checkpoints, logs, grids; the same DIR resumes.
                                    Default: runs/<config name>[_<variant>].
"""

from __future__ import annotations

import logging as py_logging

from absl import app, flags, logging
from ml_collections import config_flags

from inpaintjax import config_base, parallel

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file('config', None, 'Experiment config file.', lock_config=True)
flags.DEFINE_string('workdir', '', 'Run folder (default runs/<config name>).')
flags.mark_flags_as_required(['config'])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {argv[1:]}')
  config = FLAGS.config
  name = config_base.config_name(config_flags.get_config_filename(FLAGS['config']))
  if config.task == 'deconvolution':  # A learning-rate sweep that writes tables, not a model.
    from inpaintjax.tasks import deconvolution  # pylint: disable=g-import-not-at-top
    deconvolution.run_sweep(config, FLAGS.workdir or config.workdir or f'runs/{name}')
    return
  workdir = FLAGS.workdir or f'runs/{name}'
  # Device layout must be fixed before JAX creates its backend.
  parallel.configure_cpu_devices(config.cpu_devices)
  parallel.maybe_initialize_distributed(config.distributed)
  from inpaintjax import train  # pylint: disable=g-import-not-at-top
  logging.info('workdir: %s', workdir)
  train.train_and_evaluate(config, workdir)


class _QuietOrbax(py_logging.Filter):
  """Drops orbax's per-save INFO chatter (dozens of lines per checkpoint) from the terminal."""

  def filter(self, record):
    return record.levelno >= py_logging.WARNING or '/orbax/' not in record.pathname


def run():
  """Console entry point."""
  py_logging.getLogger('absl').addFilter(_QuietOrbax())
  app.run(main)


if __name__ == '__main__':
  run()
