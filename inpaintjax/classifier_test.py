"""The classifier test: how much recognisability a corrector gives back.

  python -m inpaintjax.evaluate --workdir=CORRECTOR_RUN --classifier=CLASSIFIER_RUN \
      [--data=npz:PATH] [--limit=N] [--seed=S] [--out=DIR]
  python -m inpaintjax.evaluate --workdir=CLASSIFIER_RUN      # the classifier alone

A classifier trained on clean images (configs/classifier.py) is scored on
held-out images (the corrector's evaluation split, or `--data`): clean, with
one distortion ('single'), with two or three ('multiple'), and each of those
after the corrector has repaired it. Every image gets its own key from `--seed`,
so every corrector is judged on the same damage. Writes `classifier_test.json`
(accuracies, per-class accuracies), `confusion.png` (one matrix per condition)
and `grid.png` (original / damaged / corrected) to `--out` (default
CORRECTOR_RUN/eval). `judge_metrics` is the same test inside training, when a
config names a classifier run in `config.judge`.
"""

from __future__ import annotations

import functools
import json
import os

import jax
import numpy as np

from inpaintjax import parallel, runs, scoring
from inpaintjax.data import distortions, pipeline, sources
from inpaintjax.visualize import save_grid

CONDITIONS = ('clean', 'single', 'multiple')


@functools.cache
def load_run(workdir: str, weights: str = ''):
  """(config, task, state) of a run; cached, so training evaluations load a judge once."""
  return runs.read_run(workdir, weights=weights)


def batched_predict(task, state, images01: np.ndarray, batch_size: int, mesh) -> np.ndarray:
  """task.predict over every image, batch sharded, the last batch padded then trimmed."""
  repl, data = parallel.replicated(mesh), parallel.batch_sharding(mesh)
  fn = jax.jit(task.predict, in_shardings=(repl, data), out_shardings=data)
  batch_size = -(-batch_size // jax.device_count()) * jax.device_count()
  out = [np.asarray(fn(state, batch['image']))[:n]
         for batch, n in pipeline.eval_batches(images01, batch_size)]
  return np.concatenate(out)


def distort_images(images01: np.ndarray, distort_cfg, mode: str, seed: int) -> np.ndarray:
  """The images damaged in `mode`; image i's key depends only on (seed, mode, i)."""
  d = distortions.from_config(distort_cfg, mode=mode) if distort_cfg is not None else (
      distortions.Distortions(mode=mode))
  keys = scoring.eval_keys(seed * 2 + (mode == 'multiple'), len(images01))
  fn = jax.jit(jax.vmap(lambda k, x: distortions.distort(k, x, d)[0]))
  return np.concatenate([np.asarray(fn(keys[i:i + 1000], images01[i:i + 1000]))
                         for i in range(0, len(images01), 1000)])


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
  """counts[true, predicted]."""
  counts = np.zeros((num_classes, num_classes), np.int64)
  np.add.at(counts, (labels, predicted), 1)
  return counts


def run_test(classifier, images_u8: np.ndarray, labels: np.ndarray, corrector=None,
             distort_cfg=None, seed: int = 0, batch_size: int = 250):
  """Accuracies of `classifier` = (task, state) on every condition; returns (report, images).

  `corrector` = (task, state) adds the 'corrected_*' conditions.
  """
  mesh = parallel.make_mesh()
  clean = sources.check_images(images_u8).astype(np.float32) / 255.0
  sets = {'clean': clean}
  for mode in ('single', 'multiple'):
    sets[mode] = distort_images(clean, distort_cfg, mode, seed)
  if corrector is not None:
    for name in CONDITIONS:
      sets[f'corrected_{name}'] = batched_predict(*corrector, sets[name], batch_size, mesh)
  num_classes = None
  report: dict = {'num_images': len(clean), 'accuracy': {}, 'per_class': {}, 'confusion': {}}
  for name, images in sets.items():
    logits = batched_predict(*classifier, images, batch_size, mesh)
    num_classes = logits.shape[-1]
    predicted = logits.argmax(-1)
    counts = confusion_matrix(labels, predicted, num_classes)
    report['accuracy'][name] = float(np.mean(predicted == labels))
    report['per_class'][name] = (np.diag(counts) / np.maximum(counts.sum(1), 1)).tolist()
    report['confusion'][name] = counts.tolist()
  acc = report['accuracy']
  report['multiple_over_clean'] = acc['multiple'] / max(acc['clean'], 1e-9)
  if corrector is not None:
    report['recovery_single'] = acc['corrected_single'] / max(acc['clean'], 1e-9)
    report['recovery_multiple'] = acc['corrected_multiple'] / max(acc['clean'], 1e-9)
  return report, sets


def save_confusion(path: str, report: dict) -> None:
  """One confusion-matrix panel per condition, rows = true class, columns = predicted."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  names = list(report['confusion'])
  fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.4))
  for ax, name in zip(np.atleast_1d(axes), names):
    counts = np.asarray(report['confusion'][name])
    ax.imshow(counts, cmap='Blues')
    ax.set_title(f'{name}: {report["accuracy"][name]:.3f}', fontsize=9)
    ax.set_xlabel('predicted')
    ax.set_ylabel('true')
  fig.tight_layout()
  fig.savefig(path)
  plt.close(fig)


def markdown(report: dict) -> str:
  """Accuracy per condition, then per-class accuracy, as markdown tables."""
  names = list(report['accuracy'])
  lines = ['| ' + ' | '.join(names) + ' |', '|---' * len(names) + '|',
           '| ' + ' | '.join(f'{report["accuracy"][n]:.4f}' for n in names) + ' |', '',
           '| class | ' + ' | '.join(names) + ' |', '|---' * (len(names) + 1) + '|']
  for c in range(len(report['per_class'][names[0]])):
    lines.append(f'| {c} | ' + ' | '.join(f'{report["per_class"][n][c]:.3f}' for n in names)
                 + ' |')
  return '\n'.join(lines)


def report(classifier_dir: str, corrector_dir: str = '', data: str = '', limit: int = 0,
           seed: int = 0, batch_size: int = 250, out: str = '', weights: str = '') -> dict:
  """The command: loads the runs, picks the held-out images, tests, prints and writes files.

  `weights` ('ema', 'raw', '') picks the corrector's weights (or the classifier's, alone).
  """
  cls_config, cls_task, cls_state = load_run(classifier_dir, '' if corrector_dir else weights)
  if cls_task.predicts != 'logits':
    raise ValueError(f'{classifier_dir} is a {cls_config.task!r} run, not a classifier.')
  corrector, distort_cfg, data_config = None, None, cls_config
  if corrector_dir:
    config, task, state = load_run(corrector_dir, weights)
    if task.predicts != 'images':
      raise ValueError(f'{corrector_dir} is a {config.task!r} run, not a corrector.')
    corrector, distort_cfg, data_config = (task, state), config.get('distort'), config
  ds = (scoring.eval_dataset(data, limit, data_config.data.channels, data_config.data) if data
        else sources.load_split(data_config.data, 'eval'))
  if ds.labels is None:
    raise ValueError(f'{ds.name} has no labels: the classifier test needs them.')
  images, labels = ds.images[:limit or None], ds.labels[:limit or None]
  rep, sets = run_test((cls_task, cls_state), images, labels, corrector, distort_cfg, seed,
                       batch_size)
  rep.update(data=ds.name, seed=seed, classifier=classifier_dir, corrector=corrector_dir)
  print(f'classifier test on {ds.name}, {len(images)} held-out images (seed {seed})\n')
  print(markdown(rep))
  out = out or os.path.join(corrector_dir or classifier_dir, 'eval')
  os.makedirs(out, exist_ok=True)
  with open(os.path.join(out, 'classifier_test.json'), 'w') as f:
    json.dump(rep, f, indent=2)
  save_confusion(os.path.join(out, 'confusion.png'), rep)
  save_grid(os.path.join(out, 'grid.png'), {k: v[:8] for k, v in sets.items()})
  return rep


def judge_metrics(task, state, eval_ds, config, mesh, grid_path=None) -> dict[str, float]:
  """Inside training: the judge's accuracy on clean, damaged and corrected eval images."""
  del mesh  # batched_predict makes its own (the same) mesh.
  if eval_ds.labels is None:
    raise ValueError(f'config.judge needs labelled evaluation data; {eval_ds.name} has none.')
  judge = load_run(os.path.abspath(config.judge))[1:]
  rep, sets = run_test(judge, eval_ds.images, eval_ds.labels, (task, state), config.distort,
                       config.eval_seed, config.eval_batch_size)
  if grid_path and jax.process_index() == 0:
    save_grid(grid_path.replace('.png', '_judge.png'),
              {k: v[:config.grid_images] for k, v in sets.items()})
  return {f'accuracy_{k}': v for k, v in rep['accuracy'].items()}
