"""Multi-process training: two processes with jax.distributed on localhost (CPU collectives)
end with exactly the parameters of one process that trains on the same global batches."""

import os
import re
import socket
import subprocess
import sys

import numpy as np

from tests.conftest import REPO

DRIVER = os.path.join(REPO, 'tests', 'distributed_driver.py')


def _env(devices, **extra):
  env = dict(os.environ, PYTHONPATH=REPO, **extra)
  env['XLA_FLAGS'] = (f'--xla_force_host_platform_device_count={devices} '
                      '--xla_backend_optimization_level=0')
  return env


def _two_processes(workdir, out, **extra):
  """Runs the driver as two processes of one run; returns [(exit status, output)] per process."""
  with socket.socket() as s:  # A free port for the coordinator.
    s.bind(('localhost', 0))
    port = s.getsockname()[1]
  procs = [subprocess.Popen([sys.executable, DRIVER, str(workdir), str(out)],
                            env=_env(1, JAX_COORDINATOR_ADDRESS=f'localhost:{port}',
                                     JAX_NUM_PROCESSES='2', JAX_PROCESS_ID=str(i), **extra),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
           for i in range(2)]
  return [(p.returncode, log) for p, log in
          zip(procs, [p.communicate(timeout=480)[0] for p in procs])]


def test_two_processes_equal_one_and_agree_on_the_preempted_step(tmp_path):
  out = tmp_path / 'out'
  out.mkdir()
  for status, log in _two_processes(tmp_path / 'two', out):
    assert status == 0, log[-3000:]
  single = subprocess.run([sys.executable, DRIVER, str(tmp_path / 'one'), str(out)],
                          env=_env(2), capture_output=True, text=True, timeout=480)
  assert single.returncode == 0, single.stderr[-3000:]
  first, second, alone = (np.load(out / f) for f in
                          ('params_0_of_2.npz', 'params_1_of_2.npz', 'params_0_of_1.npz'))
  assert len(alone.files) > 2
  for k in alone.files:
    np.testing.assert_allclose(first[k], alone[k], rtol=1e-6, atol=1e-7, err_msg=k)
    np.testing.assert_array_equal(first[k], second[k], err_msg=k)
  # The two processes wrote one shared checkpoint, at the last step.
  assert (tmp_path / 'two' / 'checkpoints' / '4').exists()
  # Resumed to train on, process 0 alone gets SIGTERM: both stop after the same step and save it.
  saved = []
  for status, log in _two_processes(tmp_path / 'two', out, PREEMPT_AFTER='10'):
    assert status == 75, log[-3000:]
    saved.append(int(re.search(r'preempted at step (\d+)', log)[1]))
  assert saved[0] == saved[1] and (tmp_path / 'two' / 'checkpoints' / str(saved[0])).exists()
