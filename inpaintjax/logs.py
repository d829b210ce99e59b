"""Run logs: TensorBoard events (tensorboardX), a plain text log and metrics.jsonl in the workdir."""

from __future__ import annotations

import json
import logging
import os
import time


class MetricLogger:
  """Writes scalars to TensorBoard, `log.txt` and `metrics.jsonl`; messages to log.txt too.

  Only process 0 writes (`enabled`), so a multi-host run has one set of logs.
  """

  def __init__(self, workdir: str, enabled: bool = True):
    self.enabled = enabled
    self._tb = None
    self._text = self._jsonl = None
    if not enabled:
      return
    from tensorboardX import SummaryWriter  # pylint: disable=g-import-not-at-top
    os.makedirs(workdir, exist_ok=True)
    self._tb = SummaryWriter(os.path.join(workdir, 'tensorboard'))
    self._text = open(os.path.join(workdir, 'log.txt'), 'a', buffering=1)
    self._jsonl = open(os.path.join(workdir, 'metrics.jsonl'), 'a', buffering=1)

  def info(self, message: str) -> None:
    """A line in the text log and on the terminal."""
    logging.info(message)
    if self.enabled:
      self._text.write(f'{time.strftime("%Y-%m-%d %H:%M:%S")} {message}\n')

  def scalars(self, step: int, values: dict[str, float]) -> None:
    """One point per scalar at `step`."""
    if not self.enabled:
      return
    for k, v in values.items():
      self._tb.add_scalar(k, v, step)
    self._tb.flush()
    self._jsonl.write(json.dumps({'step': step, **values}) + '\n')
    self.info(f'step {step}: ' + ', '.join(f'{k}={v:.5g}' for k, v in sorted(values.items())))

  def close(self) -> None:
    """Flushes and closes every file."""
    if self.enabled:
      self._tb.close()
      self._text.close()
      self._jsonl.close()
