"""Trains and evaluates one config: `python -m inpaintjax.main --config=configs/unet.py`.

  --config=configs/x.py[:variant]   an ml_collections config file (locked: a misspelt
                                    `--config.a.b=v` override is an error)
  --workdir=DIR                     checkpoints, logs, grids; the same DIR resumes.
                                    Default: runs/<config name>[_<variant>].

Exit status: 0 done; 2 bad input (one line `error: ...`: a config value, a missing file, a
workdir that holds another config's run or cannot be written); 75 preempted (SIGTERM or
SIGINT: the step reached was saved, and the same command resumes from it).
"""

from __future__ import annotations

import logging as py_logging
import re
import sys

from absl import app, flags, logging
from ml_collections import config_flags

from inpaintjax import config_base, config_check, parallel, train
from inpaintjax.errors import ConfigError, DataError, RunError
from inpaintjax.tasks import deconvolution

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file('config', None, 'Experiment config file.', lock_config=True)
flags.DEFINE_string('workdir', '', 'Run folder (default runs/<config name>).')
flags.mark_flags_as_required(['config'])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {argv[1:]}')
  config = FLAGS.config
  name = config_base.config_name(config_flags.get_config_filename(FLAGS['config']))
  try:
    config_check.validate(config)
    if config.task == 'deconvolution':  # A learning-rate sweep that writes tables, not a model.
      deconvolution.run_sweep(config, FLAGS.workdir or config.workdir or f'runs/{name}')
      return
    workdir = FLAGS.workdir or f'runs/{name}'
    # Device layout must be fixed before JAX creates its backend.
    parallel.configure_cpu_devices(config.cpu_devices)
    parallel.maybe_initialize_distributed(config.distributed)
    logging.info('workdir: %s', workdir)
    train.train_and_evaluate(config, workdir)
  except train.Preempted as e:
    logging.warning('%s; rerun the same command to resume.', e)
    sys.exit(train.EXIT_PREEMPTED)
  except (ConfigError, DataError, RunError, FileNotFoundError, NotADirectoryError) as e:
    print(f'error: {e}', file=sys.stderr)
    sys.exit(2)


class _QuietOrbax(py_logging.Filter):
  """Drops orbax's per-save INFO chatter (dozens of lines per checkpoint) from the terminal."""

  def filter(self, record):
    return record.levelno >= py_logging.WARNING or '/orbax/' not in record.pathname


def _flag_error(e: Exception, argv) -> str:
  """One line for a flag-parsing failure: the override or config file it concerns, and why."""
  if isinstance(e, (AttributeError, KeyError)):  # A misspelt --config.a.b override.
    field = re.match(r'''['"\\]*(\w*)''', str(e))[1]
    hint = re.search(r'Did you mean "([^"]+)"', str(e))
    flag = next((a.split('=')[0] for a in argv[1:] if a.split('=')[0].endswith(f'.{field}')),
                f'--config.{field}')
    return (f'{flag}: the config has no field {field!r}'
            + (f' (did you mean {hint[1]!r}?)' if hint else ''))
  lines = [line.strip() for line in str(e).splitlines() if line.strip()]
  # A config file's own error (an unknown variant) arrives as a whole traceback: its last line.
  last = lines[-1] if lines else repr(e)
  return re.sub(r'^\w+(Error|Exception): ', '', last) if len(lines) > 1 else last


def parse_flags(argv):
  """absl's flag parsing, with a bad --config or --config.x override as one line, status 2.

  (ml_collections reports a misspelt override as an AttributeError deep in absl's parser, a
  missing config file only when the config is first read, and absl prints other flag errors
  with a usage hint and status 1.)
  """
  try:
    args = FLAGS(argv)
    FLAGS.config.get('task')  # A config file that failed to load says so here.
  except (flags.Error, AttributeError, KeyError, ValueError, OSError) as e:
    print(f'error: {_flag_error(e, argv)}', file=sys.stderr)
    sys.exit(2)
  return args


def run():
  """Console entry point."""
  py_logging.getLogger('absl').addFilter(_QuietOrbax())
  app.run(main, flags_parser=parse_flags)


if __name__ == '__main__':
  run()
