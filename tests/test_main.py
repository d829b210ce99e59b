"""The command line: the bare smoke command runs, writes to runs/<config name>, and resumes."""

import os
import subprocess
import sys

from tests.conftest import REPO


def test_main_smoke_runs_and_resumes(tmp_path):
  env = dict(os.environ, PYTHONPATH=REPO)
  cmd = [sys.executable, '-m', 'inpaintjax.main', f'--config={REPO}/configs/unet.py:smoke']
  first = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
  assert first.returncode == 0, first.stderr[-3000:]
  run = tmp_path / 'runs' / 'unet_smoke'
  assert (run / 'checkpoints' / '4').exists()
  assert 'step 4: eval/' in (run / 'log.txt').read_text()
  again = subprocess.run(cmd + ['--config.num_steps=6'], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
  assert again.returncode == 0, again.stderr[-3000:]
  log = (run / 'log.txt').read_text()
  assert 'Resumed from step 4' in log and 'step 6: train/loss' in log
