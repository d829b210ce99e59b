"""Launch scripts: each runs the one `python -m inpaintjax.main` (dry runs print the commands)."""

import os
import subprocess
import sys

from tests.conftest import REPO

LAUNCH = os.path.join(REPO, 'launch')


def _run(args, **env):
  path = os.path.dirname(sys.executable) + os.pathsep + os.environ['PATH']
  return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120,
                        env=dict(os.environ, PATH=path, PYTHONPATH=REPO, **env))


def test_tpu_vm_script_creates_installs_and_runs_main_on_every_worker():
  result = _run([os.path.join(LAUNCH, 'tpu_vm.sh'), 'configs/pixelcnn.py:paper', 'gs://b/run',
                 '--config.num_steps=5'], DRY_RUN='1', REPO='https://example.com/r.git', REF='abc')
  assert result.returncode == 0, result.stderr
  lines = result.stdout.strip().splitlines()
  assert lines[0].startswith('gcloud compute tpus tpu-vm create inpaintjax')
  assert all('--worker=all' in line for line in lines[1:])
  train = lines[-1].replace('\\', '')
  for part in ('python -m inpaintjax.main', '--config=configs/pixelcnn.py:paper',
               '--workdir=gs://b/run', '--config.distributed=True', '--config.num_steps=5'):
    assert part in train
  assert 'git checkout -q abc' in lines[1].replace('\\', '')


def test_slurm_script_runs_main_once_per_task():
  result = _run(['bash', os.path.join(LAUNCH, 'slurm.sbatch'), 'configs/unet.py', '/tmp/r',
                 '--config.seed=1'], DRY_RUN='1')
  assert result.returncode == 0, result.stderr
  assert result.stdout.split() == ['srun', 'python', '-m', 'inpaintjax.main',
                                   '--config=configs/unet.py', '--workdir=/tmp/r',
                                   '--config.distributed=True', '--config.cpu_devices=0',
                                   '--config.seed=1']
  usage = _run(['bash', os.path.join(LAUNCH, 'slurm.sbatch')])
  assert usage.returncode == 2 and 'sbatch' in usage.stdout


def test_sweep_script_prints_a_command_per_member(tmp_path):
  result = _run([os.path.join(LAUNCH, 'sweep.sh'), 'configs/patch_cnn.py', 'patch_size',
                 str(tmp_path), '--print'])
  assert result.returncode == 0, result.stderr
  lines = result.stdout.strip().splitlines()
  assert len(lines) == 6
  assert all(line.startswith('python -m inpaintjax.main --config=configs/patch_cnn.py')
             for line in lines)
  assert [f'--config.hole=center-{m}' in line for m, line in zip(range(1, 7), lines)] == [True] * 6
