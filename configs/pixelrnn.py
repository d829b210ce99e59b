"""PixelRNN inpainters: Row LSTM, Diagonal BiLSTM and the source's flattened row LSTM.

Same task as configs/pixelcnn.py (likelihood training in bits/dim; the hole is
generated in raster order, R → G → B, greedily or with a temperature).

Variants (`--config=configs/pixelrnn.py:VARIANT`):
  row_lstm (default)   Row LSTM, CPU size: 2 layers of 48 units, 1×3 kernels, residual.
  diagonal_bilstm      Diagonal BiLSTM, CPU size: 2 layers of 48 units, residual.
  flat_lstm            the source's model: the image as a sequence of sub-pixels, each fed as a
                       256-way one-hot to an LSTM of 64 units, a dense softmax over 256.
  row_lstm_paper       the PixelRNN paper's CIFAR-10 Row LSTM (van den Oord et al., 2016,
                       Table 5: 3.07 bits/dim): 12 layers of 128 units; an accelerator run.
  diagonal_bilstm_paper  the paper's Diagonal BiLSTM (3.00 bits/dim): 12 layers of 128 units.
  smoke, diagonal_smoke, flat_smoke   tiny, for tests.

Speed (2026-12-02, 2-core CPU, one XLA device, python benchmarks/old_vs_new.py --base=1ecda2b):
the train step went from row_lstm 452 → 339 ms (1.33×), diagonal_bilstm 893 → 698 ms (1.28×) and
flat_lstm 506 → 502 ms (1.01×), with the shape-lowered layers of models/layers.py. Every
wall-clock time of a run below was measured before that change.

Results. Speed on this 2-core CPU (python benchmarks/families.py, train images/s, jitted
greedy fill of a centre 8×8 hole in images/s and its speed-up over the plain per-sub-pixel
loop): 2026-11-30, after the Row LSTM's row convolution became shifted matmuls and the
Diagonal BiLSTM's skew a reshape (--only=row_lstm,diagonal_bilstm, idle CPU): row_lstm 77.8,
135.2, 88×; diagonal_bilstm 44.4, 80.9, 99×. 2026-11-29: flat_lstm 71.0, 255.3, 225×.
The CPU configs in full (6,000 steps each), 2026-11-30 (bits/dim on the first 500 held-out
images during training; the runs resume from their checkpoints):
  python -m inpaintjax.main --config=configs/pixelrnn.py:row_lstm --workdir=runs/row_lstm_cpu \
    --config.data.name=npz:data/cifar10_train.npz --config.data.holdout=0.04
  row_lstm at 1k / 2k / 3k / 4k / 6k steps: 5.32 / 4.96 / 4.79 / 4.69 / 4.64 (the PixelCNN cpu
  config: 5.27 / 4.85 / 4.58 / 4.47 / 4.38); 1 h 45 min, most of it sharing the CPU.
  python -m inpaintjax.evaluate --workdir=runs/row_lstm_cpu --data=npz:data/cifar10_train.npz@48000: --hole=center-8
  on all 2,000 held-out images: test 4.64 bits/dim (the paper model: 3.07); greedy centre-8
  fill 16.18 dB hole_psnr, ssim 0.908, sharpness 0.78.
  flat_lstm, the same commands with :flat_lstm and --workdir=runs/flat_lstm_cpu: 5.83 / 5.47 /
  5.34 / 5.27 / 5.24 / 5.23 at 1k-6k steps; 1 h 50 min sharing the CPU with one or two other
  jobs (~50 min alone at 2 step/s). On all 2,000 held-out images: test 5.24 bits/dim; greedy
  centre-8 fill 15.07 dB hole_psnr, ssim 0.890, sharpness 1.01: the weakest model here, as
  expected of one LSTM of 64 units that must carry the rows above through 96 steps per row.
  diagonal_bilstm, the same commands with :diagonal_bilstm and --workdir=runs/diag_cpu: 5.65 /
  5.43 / 5.33 / 5.28 / 5.25 / 5.25 at 1k-6k steps; 2 h 01 min sharing the CPU with one or two
  other jobs (0.8-0.9 step/s; ~70 min alone at ~1.4 step/s). On all 2,000 held-out images:
  test 5.24 bits/dim; greedy centre-8 fill 16.16 dB hole_psnr, ssim 0.907, sharpness 0.77.
  At this size (2 layers of 48 units, 6,000 steps) it learns more slowly than the Row LSTM and
  ends 0.6 bits/dim behind it, the reverse of the paper's full-size ranking; its causality
  tests pass, and why it lags here was not investigated.
Quality: short runs so far, 2026-11-30 (flat_lstm, 10 min alone, 2.0 step/s):
  python -m inpaintjax.main --config=configs/pixelrnn.py:flat_lstm --workdir=runs/flat_lstm_1200 \
    --config.data.name=npz:data/cifar10_train.npz --config.data.holdout=0.04 \
    --config.num_steps=1200 --config.eval_every=600 --config.data.eval_limit=500
  on the first 500 of the 2,000 held-out images: 6.33 / 6.05 bits/dim at 600 / 1,200 steps;
  greedy centre-8 fill 14.09 / 14.51 dB, ssim 0.883 (biharmonic 19.10 on the 2,000).
  diagonal_bilstm, the same command with :diagonal_bilstm, --workdir=runs/diag_600,
  --config.num_steps=600 --config.eval_every=300 (15 min, sharing the CPU with one other job,
  2026-11-30): 6.36 / 6.11 bits/dim at 300 / 600 steps; greedy centre-8 fill 13.85 / 14.85 dB,
  ssim 0.889.
  row_lstm, the same with :row_lstm, --workdir=runs/row_lstm_300, --config.num_steps=300
  --config.eval_every=300 (15 min, 3.0 s/step sharing the CPU with two other jobs): 6.54
  bits/dim at 300 steps; greedy centre-8 fill 14.64 dB, ssim 0.886. All three are minutes-long
  probes, far from trained (the full CPU runs are the paragraph above).
Hole bits/dim (2026-12-06, prepare's split; the evaluator's reading: each centre-8 hole
sub-pixel given every sub-pixel before it in raster order), short probes re-run for it:
  python -m inpaintjax.main --config=configs/pixelrnn.py:flat_lstm --workdir=runs/flat_600 \
    --config.data.name=npz:data/cifar10_train.npz --config.data.holdout=0.04 \
    --config.num_steps=600 --config.eval_every=600
  python -m inpaintjax.evaluate --workdir=runs/flat_600 --data=npz:data/cifar10_train.npz@48000: \
    --hole=center-8 --limit=500
  and the same with :row_lstm / :diagonal_bilstm, --workdir=runs/row_300 / runs/diag_300,
  --config.num_steps=300 --config.eval_every=300 (4-9 min each beside another job). On the
  first 500 validation images, whole-image / hole bits/dim, greedy hole PSNR:
    flat_lstm, 600 steps         6.485 / 6.620, 14.26 dB
    row_lstm, 300 steps          6.568 / 6.581, 14.42 dB
    diagonal_bilstm, 300 steps   6.494 / 6.507, 13.91 dB
  The centre of an image is harder to predict than its average pixel from above and left alone
  (hole ≥ whole at every model). The public anchor, LMConv's 2.762 bits/dim for the hidden top
  half of CIFAR-10, is a full-size GPU model with context on every side; these are
  minutes-long CPU probes.
"""

import importlib.util
import os

from inpaintjax import config_base

VARIANTS = ('', 'row_lstm', 'diagonal_bilstm', 'flat_lstm', 'row_lstm_paper',
            'diagonal_bilstm_paper', 'smoke', 'diagonal_smoke', 'flat_smoke')


def _pixelcnn_config():
  """configs/pixelcnn.py, loaded by path (configs/ is not a package)."""
  path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'pixelcnn.py')
  spec = importlib.util.spec_from_file_location('pixelcnn_config', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def get_config(arg=None):
  """The PixelRNN config for variant `arg`."""
  arg = arg or 'row_lstm'
  config_base.check_variant(arg, VARIANTS)
  c = _pixelcnn_config().autoregressive_base()
  kind = {'smoke': 'row_lstm', 'diagonal_smoke': 'diagonal_bilstm',
          'flat_smoke': 'flat_lstm'}.get(arg, arg.replace('_paper', ''))
  if kind == 'flat_lstm':
    c.model = dict(name='flat_lstm', hidden=64)
    # `python benchmarks/train_step.py --config=configs/pixelrnn.py:flat_lstm --devices=1,2`,
    # 2-core host, 2026-12-02: 493.6 → 590.4 ms/step: one device is faster (row_lstm 332.2 →
    # 290.4, diagonal_bilstm 709.0 → 629.7: two, the autoregressive default).
    c.cpu_devices = 0
  elif kind == 'row_lstm':
    c.model = dict(name='row_lstm', features=48, layers=2, kernel=3, residual=True, act='relu')
  else:
    c.model = dict(name='diagonal_bilstm', features=48, layers=2, residual=True, act='relu')
  if arg.endswith('_paper'):
    c.model.update(features=128, layers=12)
    c.batch_size = 64
    c.num_steps = 200_000
    c.eval_every = 10_000
    c.checkpoint_every = 2000
    c.cpu_devices = 0
  if arg.endswith('smoke'):
    if kind == 'flat_lstm':
      c.model.update(hidden=8)
    else:
      c.model.update(features=6, layers=1)
    config_base.make_smoke(c)
    c.data.image_size = 12
  return c
