"""Run by tests/test_distributed.py in each process: trains patch_cnn.py:smoke, saves params.

  python tests/distributed_driver.py WORKDIR OUT   (JAX_* variables make it one of several)
"""

import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from inpaintjax import config_base, parallel  # noqa: E402

parallel.maybe_initialize_distributed('JAX_NUM_PROCESSES' in os.environ)

import jax  # noqa: E402

from inpaintjax import train  # noqa: E402

config = config_base.load_config(os.path.join(REPO, 'configs', 'patch_cnn.py:smoke'))
config = config_base.apply_overrides(config, {'model.dense_dropout': 0.0})
workdir, out = sys.argv[1], sys.argv[2]
metrics = train.train_and_evaluate(config, workdir)
_, _, state = train.read_run(workdir)  # What the checkpoint holds, restored on every process.
leaves = jax.tree_util.tree_leaves_with_path(state.params)
params = {jax.tree_util.keystr(k): np.asarray(v.addressable_data(0)) for k, v in leaves}
np.savez(os.path.join(out, f'params_{jax.process_index()}_of_{jax.process_count()}.npz'),
         eval_loss=np.float64(metrics['loss']), **params)
