"""Run by tests/test_distributed.py in each process: trains patch_cnn.py:smoke, saves params.

  python tests/distributed_driver.py WORKDIR OUT   (JAX_* variables make it one of several)
  PREEMPT_AFTER=K ...: trains on to step 400, and process 0 alone sends itself SIGTERM once a
                       checkpoint past step K is on disk (the others must stop at its step).
"""

import os
import signal
import sys
import threading
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from inpaintjax import config_base, parallel, runs  # noqa: E402

parallel.maybe_initialize_distributed('JAX_NUM_PROCESSES' in os.environ)

import jax  # noqa: E402

from inpaintjax import train  # noqa: E402

config = config_base.load_config(os.path.join(REPO, 'configs', 'patch_cnn.py:smoke'))
config = config_base.apply_overrides(config, {'model.dense_dropout': 0.0})
workdir, out = sys.argv[1], sys.argv[2]
preempt_after = int(os.environ.get('PREEMPT_AFTER', '0'))
if preempt_after:
  config = config_base.apply_overrides(config, {'num_steps': 400, 'checkpoint_every': 10})

  def signal_self():
    folder = os.path.join(workdir, 'checkpoints')
    while not any(n.isdigit() and int(n) > preempt_after for n in os.listdir(folder)):
      time.sleep(0.01)
    os.kill(os.getpid(), signal.SIGTERM)

  if jax.process_index() == 0:
    threading.Thread(target=signal_self, daemon=True).start()
  try:
    train.train_and_evaluate(config, workdir)
  except train.Preempted as e:
    print(e, flush=True)
    sys.exit(train.EXIT_PREEMPTED)
  sys.exit(0)  # Not preempted: the test fails on the status.
metrics = train.train_and_evaluate(config, workdir)
_, _, state = runs.read_run(workdir)  # What the checkpoint holds, restored on every process.
leaves = jax.tree_util.tree_leaves_with_path(state.params)
params = {jax.tree_util.keystr(k): np.asarray(v.addressable_data(0)) for k, v in leaves}
np.savez(os.path.join(out, f'params_{jax.process_index()}_of_{jax.process_count()}.npz'),
         eval_loss=np.float64(metrics['loss']), **params)
