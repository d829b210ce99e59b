"""The deconvolution sweep: images, a learning-rate sweep per filter, the source's tables.

  python -m inpaintjax.main --config=configs/deconv.py[:smoke] [--workdir=DIR] \
      [--config.method=batch ...]

For each filter in `config.filters` it filters the images, learns one filter per colour
channel at every learning rate at once (vmapped, `inpaintjax.deconvolution`), undoes the
filtering with each, and scores it; the true filter's own inverse (the same equation),
scikit-image's Wiener and Richardson–Lucy are the reference rows. It writes
WORKDIR/tables.md (a table per filter and an average table, like the source's Tables 1–2,
and the learned filters per channel) and WORKDIR/results.json, and prints the tables.
Default WORKDIR: config.workdir, else runs/<config name>[_<variant>]. It learns from whole
image pairs and reports tables, not checkpoints, so `inpaintjax.main` calls `run_sweep`
instead of the trainer for `config.task == 'deconvolution'`.
"""

from __future__ import annotations

import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from inpaintjax import deconvolution as dc
from inpaintjax.data import sources

# The natural colour photos in scikit-image's wheel (the other colour ones are a star field,
# microscopy and a retina scan); two crops each make the ten images.
NATURAL_PHOTOS = ('astronaut', 'chelsea', 'coffee', 'rocket', 'stereo_motorcycle')
CHOICES = dict(method=('sgd', 'batch'), direction=('backward', 'forward'),
               inverse=('equation', 'apply'), order=('raster', 'parallel'),
               init=('random', 'identity'))


def embedded_images(num: int = 10, height: int = 180, width: int = 250) -> np.ndarray:
  """`num` (≤ 10) uint8 crops, two from each natural colour photo in scikit-image.

  Each photo is shrunk (anti-aliased, never enlarged) to at most two crops wide, then cropped
  at its top-left and bottom-right corners: first the five top-left crops, then the five
  bottom-right ones. Only chelsea (451 pixels wide) gives default crops that overlap (60×49).
  """
  import skimage.transform  # pylint: disable=g-import-not-at-top
  if not 1 <= num <= 2 * len(NATURAL_PHOTOS):
    raise ValueError(f'The embedded photos give 1 to {2 * len(NATURAL_PHOTOS)} images, not {num}.')
  first, second = [], []
  for name in NATURAL_PHOTOS:
    photo = sources._photo(name).astype(np.float32) / 255  # pylint: disable=protected-access
    scale = min(1.0, 2 * width / photo.shape[1])
    if scale < 1:
      photo = skimage.transform.rescale(photo, scale, channel_axis=-1, anti_aliasing=True)
    h, w = photo.shape[:2]
    if h < height or w < width:
      raise ValueError(f'A {height}×{width} crop does not fit {name} ({h}×{w} once shrunk).')
    first.append(photo[:height, :width])
    second.append(photo[h - height:, w - width:])
  return np.round(np.clip(np.stack(first + second)[:num], 0, 1) * 255).astype(np.uint8)


def load_images(config) -> np.ndarray:
  """The config's images as uint8 N×H×W×C: 'embedded' crops or 'npz:PATH' (`images` array)."""
  if config.images == 'embedded':
    return embedded_images(config.num_images, config.crop_height, config.crop_width)
  if config.images.startswith('npz:'):
    images = sources.load_npz(config.images[4:]).images
    images = images[:config.num_images] if config.num_images > 0 else images
    if min(images.shape[1:3]) < 3:
      raise ValueError(f'{config.images}: images must be at least 3×3, got {images.shape}.')
    return images
  raise ValueError(f"config.images must be 'embedded' or 'npz:PATH', got {config.images!r}.")


def check_config(config) -> None:
  """Every choice is known and every filter valid before any work starts."""
  for field, known in CHOICES.items():
    if config[field] not in known:
      raise ValueError(f'config.{field} must be one of {known}, got {config[field]!r}.')
  if not config.filters:
    raise ValueError('config.filters is empty.')
  for name in config.filters:
    dc.get_filter(name, config.custom)
  rates = np.asarray(config.learning_rates, np.float64)
  if rates.ndim != 1 or not len(rates) or not (np.isfinite(rates) & (rates > 0)).all():
    raise ValueError(f'config.learning_rates must be positive numbers, got {rates}.')
  if config.epochs < 1 or config.batch_steps < 1:
    raise ValueError('config.epochs and config.batch_steps must be at least 1.')


def learn(config, originals, filtered):
  """L×C×3×3 learned filters, one per learning rate, in the config's direction and method."""
  src, tgt = (filtered, originals) if config.direction == 'backward' else (originals, filtered)
  rates = tuple(config.learning_rates)
  if config.method == 'sgd':
    w = dc.learn_sgd(src, tgt, rates, config.epochs, config.init, config.seed)
  else:
    w = dc.learn_batch(src, tgt, rates, config.batch_steps, config.init, config.seed)
  return w, dc.training_pairs(src, tgt)


@jax.jit
def _fit(w_LC33, src_BC9, tgt_BC):
  """Mean block loss and the fraction of blocks where relu is active, per rate."""
  pre_LBC = jnp.einsum('bck,lck->lbc', src_BC9, w_LC33.reshape(*w_LC33.shape[:2], 9))
  loss = 0.5 * jnp.mean((jax.nn.relu(pre_LBC) - tgt_BC) ** 2, axis=(1, 2))
  return loss, jnp.mean(pre_LBC > 0, axis=(1, 2))


def _row(method, rate, scores, i=None, loss=np.nan, note=''):
  mae0, mae = float(scores['mae0']), scores['mae'] if i is None else scores['mae'][i]
  ratio = scores['ratio'] if i is None else scores['ratio'][i]
  return dict(method=method, rate=rate, loss=float(loss), mae0=mae0, mae=float(mae),
              signed=float((mae - mae0) / mae0) if mae0 > 0 else np.nan, ratio=float(ratio),
              note=note)


def sweep_filter(config, name, originals) -> dict:
  """Learns, undoes and scores one filter at every learning rate; adds the reference rows."""
  kernel = dc.get_filter(name, config.custom)
  filtered = dc.apply_filter(originals, kernel, clip=config.clip)
  w, (src, tgt) = learn(config, originals, filtered)
  loss, active = _fit(w, src, tgt)
  if config.inverse == 'equation':
    restored = dc.deconvolve(filtered, w, config.order, config.clip)
  else:
    restored = dc.apply_learned(filtered, w, config.clip)
  scores = dc.score(originals, filtered, restored)
  finite_out = np.asarray(jnp.isfinite(restored).all(axis=(1, 2, 3, 4)))
  label = f'learned ({config.method}, {config.direction}, {config.inverse})'
  rows = []
  for i, rate in enumerate(config.learning_rates):
    note = ''
    if not np.isfinite(np.asarray(w[i])).all():
      note = 'diverged: inf/NaN filter'
    elif float(active[i]) < 0.01:  # The filter predicts 0 (nearly) everywhere.
      note = f'dead: relu(w·y) > 0 on {100 * float(active[i]):.2g}% of blocks'
    elif not finite_out[i]:
      note = 'inf/NaN output (centre tap 0?)'
    rows.append(_row(label, float(rate), scores, i, loss[i], note))
  rows += reference_rows(config, kernel, originals, filtered)
  return dict(filter=name, kernel=kernel.tolist(), mae0=float(scores['mae0']), rows=rows,
              learned=np.asarray(w).tolist(), loss=np.asarray(loss).tolist())


def reference_rows(config, kernel, originals, filtered) -> list[dict]:
  """The true filter undone by the source's equation, Wiener and Richardson–Lucy."""
  rows = [_row('equation, true filter', None,
               dc.score(originals, filtered, dc.deconvolve(filtered, kernel, config.order,
                                                           config.clip)))]
  out = dc.wiener(filtered, kernel, config.wiener_balance)
  note = '' if np.isfinite(out).all() else (
      'NaN: filter sums to 0, as does the Laplacian regulariser at frequency 0 (0/0)'
      if abs(kernel.sum()) < 1e-6 else 'inf/NaN output')
  rows.append(_row('Wiener, true filter', None, dc.score(originals, filtered, out), note=note))
  if dc.richardson_lucy_applies(kernel):
    out = dc.richardson_lucy(filtered, kernel, config.rl_iterations)
    rows.append(_row('Richardson–Lucy, true filter', None, dc.score(originals, filtered, out)))
  else:
    rows.append(dict(method='Richardson–Lucy, true filter', rate=None, loss=np.nan,
                     mae0=np.nan, mae=np.nan, signed=np.nan, ratio=np.nan,
                     note='does not apply: needs a non-negative PSF (negative taps)'))
  return rows


def run_sweep(config, workdir: str) -> dict:
  """Runs every filter, writes WORKDIR/tables.md and results.json; returns the results."""
  check_config(config)
  images = load_images(config)
  originals = jnp.asarray(images, jnp.float32) / 255
  results = dict(images=f'{config.images}: {images.shape}', filters=[])
  for name in config.filters:
    start = time.time()
    results['filters'].append(sweep_filter(config, name, originals))
    logging.info('%s: %.1f s', name, time.time() - start)
  os.makedirs(workdir, exist_ok=True)
  text = format_tables(config, results)
  with open(os.path.join(workdir, 'tables.md'), 'w') as f:
    f.write(text)
  with open(os.path.join(workdir, 'results.json'), 'w') as f:
    json.dump(_plain(results), f, indent=1)
  print(text)
  return results


def _plain(x):
  """JSON without NaN: NaN and inf become null."""
  if isinstance(x, dict):
    return {k: _plain(v) for k, v in x.items()}
  if isinstance(x, (list, tuple)):
    return [_plain(v) for v in x]
  if isinstance(x, float) and not np.isfinite(x):
    return None
  return x


def _pct(v) -> str:
  return f'{100 * v:.2f}%' if v is not None and np.isfinite(v) else '—'


def _num(v) -> str:
  return f'{v:.4f}' if v is not None and np.isfinite(v) else '—'


def _taps(k) -> str:
  return '[' + ', '.join('[' + ', '.join(f'{t:.3g}' for t in row) + ']' for row in k) + ']'


def _mean(values) -> float:
  finite = [v for v in values if np.isfinite(v)]
  return float(np.mean(finite)) if finite else np.nan


def format_tables(config, results) -> str:
  """Markdown: a table per filter, the average table, the learned filters per channel."""
  rates = [float(r) for r in config.learning_rates]
  learn_how = (f'{config.method} ({config.epochs} epoch(s))' if config.method == 'sgd' else
               f'batch ({config.batch_steps} optax SGD steps)')
  out = ['# Reverse-convolution deconvolution', '',
         f'Images: {results["images"]}; pixels in [0, 1]; filtered and restored images clipped: '
         f'{config.clip}. Learner: {learn_how}, direction {config.direction}, init '
         f'{config.init}; inverse: {config.inverse} ({config.order}). MAE is on [0, 1] pixels; '
         'r = |MAE − MAE0| / MAE0 per image, averaged over the images (it is small when the '
         'error changes little, either way: the signed column says which way).', '']
  for i, f in enumerate(results['filters'], 1):
    out += [f'## Table 1.{i}: {f["filter"]} {_taps(f["kernel"])}', '',
            f'MAE0 (filtered vs original) = {f["mae0"]:.4f}.', '',
            '| method | rate | loss | MAE | (MAE − MAE0)/MAE0 | r | note |',
            '|---|---:|---:|---:|---:|---:|---|']
    for row in f['rows']:
      rate = '' if row['rate'] is None else f'{row["rate"]:g}'
      out.append(f'| {row["method"]} | {rate} | {_num(row["loss"])} | {_num(row["mae"])} | '
                 f'{_pct(row["signed"])} | {_pct(row["ratio"])} | {row["note"]} |')
    out.append('')
  names = [f['filter'] for f in results['filters']]
  out += ['## Table 2: average loss ratio r over the images', '',
          '| rate | ' + ' | '.join(names) + ' | mean |', '|---' * (len(names) + 2) + '|']
  by_rate = [[f['rows'][i]['ratio'] for f in results['filters']] for i in range(len(rates))]
  for rate, rs in zip(rates, by_rate):
    out.append(f'| {rate:g} | ' + ' | '.join(map(_pct, rs)) + f' | {_pct(_mean(rs))} |')
  over_rates = [_mean(col) for col in zip(*by_rate)]
  out.append('| mean over rates | ' + ' | '.join(map(_pct, over_rates))
             + f' | {_pct(_mean(over_rates))} |')
  best = []
  for col in zip(*by_rate):
    finite = [(r, rate) for r, rate in zip(col, rates) if np.isfinite(r)]
    best.append(f'{min(finite)[1]:g}: {_pct(min(finite)[0])}' if finite else '—')
  out.append('| best rate | ' + ' | '.join(best) + ' | |')
  for j, row in enumerate(results['filters'][0]['rows'][len(rates):]):
    rs = [f['rows'][len(rates) + j]['ratio'] for f in results['filters']]
    out.append(f'| {row["method"]} | ' + ' | '.join(map(_pct, rs)) + f' | {_pct(_mean(rs))} |')
  out += ['', '## Learned filters per channel', '',
          'At the rate with the lowest training loss among those that neither diverged nor died. '
          'Learned backward (filtered -> original), w approximates an inverse of the filter, so '
          'a low cosine is expected; learned forward, it approximates the filter itself.', '',
          '| filter | rate | channel | learned w | cosine with the true filter | ‖w‖ / ‖filter‖ |',
          '|---|---:|---:|---|---:|---:|']
  for f in results['filters']:
    loss = np.array([np.nan if row['note'] else row['loss'] for row in f['rows'][:len(rates)]])
    if not np.isfinite(loss).any():
      out.append(f'| {f["filter"]} | — | — | every rate diverged or died | | |')
      continue
    i = int(np.nanargmin(loss))
    k = np.asarray(f['kernel']).ravel()
    for c, w in enumerate(np.asarray(f['learned'][i])):
      cos = float(w.ravel() @ k / (np.linalg.norm(w) * np.linalg.norm(k) + 1e-12))
      out.append(f'| {f["filter"]} | {rates[i]:g} | {c} | {_taps(w)} | {cos:.3f} | '
                 f'{np.linalg.norm(w) / np.linalg.norm(k):.2f} |')
  return '\n'.join(out) + '\n'
