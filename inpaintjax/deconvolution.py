"""Reverse-convolution deconvolution: learn a 3×3 filter from image pairs, invert it, score it.

The method (issue 6's source), as pure functions a notebook can call on its own arrays:
  * `apply_filter` makes the damaged image: a 3×3 filter applied to each colour channel.
  * `learn_sgd` runs convolution "backwards": in the source's direction the *filtered* image y
    is the source and the original x the target. It slides over y in 3×3 blocks, predicts the
    block centre's original pixel x' = relu(Σ w_kl·y_kl) and updates w by SGD on ½(x' − x)²
    block by block (a jitted `lax.scan`), one filter per colour channel, no bias. Called with
    the pair the other way round ('forward') it learns the filter itself. `learn_batch` is the
    full-image version (`jax.grad` of the mean block loss, optax SGD).
  * `deconvolve` undoes the filtering with the source's equation (see its docstring).
  * `mae`, `loss_ratio`, `score`: MAE0 (filtered vs original), MAE (restored vs original) and
    r = |MAE − MAE0| / MAE0 per image, averaged over the images.
  * `wiener`, `richardson_lucy`: scikit-image's classical deconvolvers given the true filter.
`inpaintjax.tasks.deconvolution` runs the sweep over learning rates and writes the tables:
  python -m inpaintjax.main --config=configs/deconv.py [--workdir=DIR]

Conventions
  * Pixels are float32 in [0, 1] (uint8 images / 255). Filtered and restored images are
    pictures, so the sweep clips them to [0, 1] by default (as saving them would); the functions
    take a `clip` argument.
  * Filtering is *correlation*, as in cv2.filter2D, PIL's ImageFilter and
    `scipy.ndimage.correlate`: out[i, j] = Σ_ab k[a, b]·in[i + a − 1, j + b − 1], same size,
    with scipy's 'reflect' border (numpy's 'symmetric' pad: the edge row is repeated). The three
    named filters are unchanged by a 180° turn, so for them correlation equals convolution; a
    custom filter need not be, so the classical deconvolvers (which convolve with a PSF) get it
    turned 180°.
  * A filter is a 3×3 array; learned filters are C×3×3 (one per channel); a learning-rate sweep
    adds a leading axis and is vmapped, so all rates train in one scan.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

FILTERS = {
    'blur': np.full((3, 3), 1 / 9),
    'sharpen': np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    'edge': np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
}


def check_kernel(kernel, what='filter') -> np.ndarray:
  """A finite 3×3 float32 array, or a clear error."""
  k = np.asarray(kernel, dtype=np.float64) if not isinstance(kernel, str) else None
  if k is None or k.shape != (3, 3):
    shape = 'a string' if k is None else f'shape {k.shape}'
    raise ValueError(f'{what} must be a 3×3 array, got {shape}.')
  if not np.isfinite(k).all():
    raise ValueError(f'{what} has non-finite taps: {k.tolist()}.')
  return k.astype(np.float32)


def get_filter(name: str, custom=None) -> np.ndarray:
  """The named filter ('blur', 'sharpen', 'edge') or, for 'custom', the given 3×3 taps."""
  if name == 'custom':
    if custom is None:
      raise ValueError("Filter 'custom' needs its 3×3 taps (config field `custom`).")
    return check_kernel(custom, 'custom filter')
  if name not in FILTERS:
    raise ValueError(f'Unknown filter {name!r}; known: {sorted(FILTERS) + ["custom"]}.')
  return FILTERS[name].astype(np.float32)


def check_float_images(images, what='images'):
  """N×H×W×C (or H×W×C) floating-point images at least 3×3, or a clear error."""
  if not hasattr(images, 'dtype') or not hasattr(images, 'ndim'):
    images = np.asarray(images)
  if not jnp.issubdtype(images.dtype, jnp.floating):
    raise ValueError(f'{what} must be floating-point in [0, 1], got dtype {images.dtype} '
                     '(divide uint8 images by 255).')
  if images.ndim not in (3, 4):
    raise ValueError(f'{what} must be H×W×C or N×H×W×C, got shape {images.shape} (add a '
                     'channel axis to a grey image).')
  if images.shape[-3] < 3 or images.shape[-2] < 3:
    raise ValueError(f'{what} must be at least 3×3 pixels, got shape {images.shape}.')
  return images


def _per_channel(kernel, channels: int) -> jnp.ndarray:
  """A 3×3 filter (the same on every channel) or C×3×3 filters, as C×3×3 float32."""
  if isinstance(kernel, str) or np.ndim(kernel) != 3:
    return jnp.broadcast_to(check_kernel(kernel), (channels, 3, 3))  # Raises if not 3×3.
  kernel = jnp.asarray(kernel, jnp.float32)
  if kernel.shape != (channels, 3, 3):
    raise ValueError(f'filters must be 3×3 or {channels}×3×3 for {channels} channels, got '
                     f'shape {kernel.shape}.')
  return kernel


def _pad(images):
  """One-pixel 'symmetric' pad of H and W (= scipy.ndimage's 'reflect' border)."""
  pad = [(0, 0)] * (images.ndim - 3) + [(1, 1), (1, 1), (0, 0)]
  return jnp.pad(images, pad, mode='symmetric')


def _correlate_padded(padded, kernel_C33):
  """Valid 3×3 correlation of padded ...×(H+2)×(W+2)×C images, a filter per channel."""
  h, w = padded.shape[-3] - 2, padded.shape[-2] - 2
  return sum(kernel_C33[:, a, b] * padded[..., a:a + h, b:b + w, :]
             for a in range(3) for b in range(3))


def apply_filter(images, kernel, clip: bool = False):
  """Correlates each channel with `kernel` (3×3, or C×3×3 per channel), 'reflect' border.

  Equals `scipy.ndimage.correlate(channel, kernel, mode='reflect')` per channel, and
  `scipy.ndimage.convolve` with the kernel turned 180°. `clip` clips to [0, 1].
  """
  images = check_float_images(images)
  kernel = _per_channel(kernel, images.shape[-1])
  out = _correlate_padded(_pad(jnp.asarray(images, jnp.float32)), kernel)
  return jnp.clip(out, 0, 1) if clip else out


# ---- Learning: relu(w ⋆ source) ≈ target, block by block ----

def blocks(images):
  """The valid 3×3 blocks of N×H×W×C images: N×(H−2)×(W−2)×C×9, taps in raster order."""
  h, w = images.shape[-3] - 2, images.shape[-2] - 2
  return jnp.stack([images[..., a:a + h, b:b + w, :] for a in range(3) for b in range(3)], -1)


def training_pairs(sources, targets):
  """Blocks of the sources and the targets' block centres, flattened in raster order.

  Returns (B×C×9 blocks, B×C centres), B = N·(H−2)·(W−2): image after image, row after row.
  """
  sources = check_float_images(sources, 'sources')
  targets = check_float_images(targets, 'targets')
  if sources.shape != targets.shape:
    raise ValueError(f'sources {sources.shape} and targets {targets.shape} differ in shape.')
  if sources.ndim == 3:
    sources, targets = sources[None], targets[None]
  c = sources.shape[-1]
  src = blocks(jnp.asarray(sources, jnp.float32)).reshape(-1, c, 9)
  tgt = jnp.asarray(targets, jnp.float32)[:, 1:-1, 1:-1, :].reshape(-1, c)
  return src, tgt


def block_loss(w9, block9, target):
  """The source's loss on one block: ½(relu(w·y) − x)² (no bias)."""
  return 0.5 * (jax.nn.relu(jnp.dot(w9, block9)) - target) ** 2


def mean_loss(w_C33, src_BC9, tgt_BC):
  """The mean block loss of C×3×3 filters over all blocks and channels: the full-image loss."""
  pred = jax.nn.relu(jnp.einsum('bck,ck->bc', src_BC9, w_C33.reshape(-1, 9)))
  return 0.5 * jnp.mean((pred - tgt_BC) ** 2)


def init_filters(channels: int, init: str = 'identity', seed: int = 0) -> jnp.ndarray:
  """Starting filters, C×3×3: 'identity' (the centre tap 1: "change nothing") or 'random'.

  Not zero: relu'(0) = 0, so an all-zero filter would never move.
  """
  if init == 'identity':
    return jnp.zeros((channels, 3, 3)).at[:, 1, 1].set(1.0)
  if init == 'random':  # Small positive taps: relu starts in its linear part on [0, 1] pixels.
    return jax.random.uniform(jax.random.key(seed), (channels, 3, 3), minval=0.0, maxval=2 / 9)
  raise ValueError(f"Unknown init {init!r}; known: 'identity', 'random'.")


@functools.partial(jax.jit, static_argnames=('epochs',))
def _sgd(w0_LC9, lrs_L, src_BC9, tgt_BC, epochs):
  grad = jax.vmap(jax.grad(block_loss))  # Over channels: each channel has its own filter.

  def step(w_LC9, pair):
    block_C9, target_C = pair
    g_LC9 = jax.vmap(grad, (0, None, None))(w_LC9, block_C9, target_C)
    return w_LC9 - lrs_L[:, None, None] * g_LC9, None

  def epoch(w_LC9, _):
    return jax.lax.scan(step, w_LC9, (src_BC9, tgt_BC))[0], None

  return jax.lax.scan(epoch, w0_LC9, None, length=epochs)[0]


def learn_sgd(sources, targets, learning_rates, epochs: int = 1, init='identity', seed: int = 0):
  """The source's rule: per-block SGD on ½(relu(w·y) − x)², one filter per channel.

  sources and targets: N×H×W×C floats (in the source's direction, the filtered images y and
  the originals x; the other way round, the originals and the filtered ones). Blocks are
  visited image by image in raster order, `epochs` times. `learning_rates`: a float or a
  sequence (all trained at once, vmapped). `init`: a name for `init_filters` or C×3×3 filters.
  Returns L×C×3×3 filters (C×3×3 for a single float rate); a rate that diverged gives inf/NaN
  taps, which the caller reports.
  """
  src, tgt = training_pairs(sources, targets)
  lrs, single = _rates(learning_rates)
  w0 = init_filters(src.shape[1], init, seed) if isinstance(init, str) else jnp.asarray(init)
  w0 = jnp.broadcast_to(w0.reshape(-1, 9), (len(lrs), src.shape[1], 9))
  w = _sgd(w0, lrs, src, tgt, epochs).reshape(len(lrs), -1, 3, 3)
  return w[0] if single else w


def _channel_loss(w9, src_B9, tgt_B):
  return 0.5 * jnp.mean((jax.nn.relu(src_B9 @ w9) - tgt_B) ** 2)


@functools.partial(jax.jit, static_argnames=('steps',))
def _batch(w0_C9, lrs_L, src_BC9, tgt_BC, steps):
  # Each channel's gradient is that of its own mean loss, so a rate means the same per channel
  # as in `learn_sgd` (a mean over channels too would divide it by C).
  grad = jax.vmap(jax.grad(_channel_loss), (0, 1, 1))

  def run(lr):
    tx = optax.sgd(lr)

    def step(carry, _):
      w, opt_state = carry
      updates, opt_state = tx.update(grad(w, src_BC9, tgt_BC), opt_state)
      return (optax.apply_updates(w, updates), opt_state), None

    return jax.lax.scan(step, (w0_C9, tx.init(w0_C9)), None, length=steps)[0][0]

  return jax.vmap(run)(lrs_L)


def learn_batch(sources, targets, learning_rates, steps: int = 200, init='identity',
                seed: int = 0):
  """Full-image version: `steps` optax SGD steps on the mean block loss (`mean_loss`).

  Same arguments and result as `learn_sgd`, with `steps` full-gradient steps for `epochs`;
  each channel's filter follows the gradient of its own channel's mean loss.
  """
  src, tgt = training_pairs(sources, targets)
  lrs, single = _rates(learning_rates)
  w0 = init_filters(src.shape[1], init, seed) if isinstance(init, str) else jnp.asarray(init)
  w = _batch(w0.reshape(-1, 9), lrs, src, tgt, steps).reshape(len(lrs), -1, 3, 3)
  return w[0] if single else w


def _rates(learning_rates):
  single = np.ndim(learning_rates) == 0
  lrs = jnp.atleast_1d(jnp.asarray(learning_rates, jnp.float32))
  if lrs.ndim != 1 or len(lrs) == 0:
    raise ValueError(f'learning_rates must be a float or a non-empty list, got {learning_rates}.')
  return lrs, single


# ---- Deconvolution: the source's equation ----

def deconvolve(filtered, kernel, order: str = 'raster', clip: bool = True):
  """Undoes a filter with the source's equation; returns an array shaped like `filtered`.

  Each filtered pixel x at (i, j) is the centre of a 3×3 block of unknowns y with
  x = Σ_kl w_kl·y_kl, so the block centre is
      y_ij = (x − Σ_{(k,l)≠(i,j)} w_kl·y_kl) / w_ij,
  and a y_kl not known yet is replaced by x_kl, the filtered pixel at its place (the source's
  smoothing trick; off the image, by the 'reflect'-padded filtered image).
  order='raster' (the source's): pixels are restored row by row, left to right, so the three
  neighbours above and the one on the left are already restored and used; the one on the right
  and the three below are missing. order='parallel': all eight neighbours are missing
  (y = x + (x − w⋆x) / w_ij), one vectorised step.
  Layout: solving each filtered pixel's own block for its centre gives exactly one restored
  pixel per filtered pixel, on the filtered image's grid, so the result is already the
  original's size (H×W): nothing is cropped or resized, the border pixels use the padded
  'missing' neighbours. `clip` clips each restored pixel to [0, 1] as it is made (in raster
  order the restored pixels feed the next ones, and an out-of-range value is known to be
  wrong). A centre tap w_ij = 0 gives inf/NaN, which the caller reports.
  `kernel`: 3×3, C×3×3, or L×C×3×3 (a sweep: the result gets a leading L axis).
  """
  filtered = check_float_images(filtered, 'filtered')
  if np.ndim(kernel) == 4:
    return jax.vmap(lambda k: deconvolve(filtered, k, order, clip))(jnp.asarray(kernel))
  single = filtered.ndim == 3
  x = jnp.asarray(filtered, jnp.float32)[None] if single else jnp.asarray(filtered, jnp.float32)
  w = _per_channel(kernel, x.shape[-1])
  if order == 'raster':
    y = _deconvolve_raster(x, w, clip)
  elif order == 'parallel':
    y = x + (x - _correlate_padded(_pad(x), w)) / w[:, 1, 1]
    y = jnp.clip(y, 0, 1) if clip else y
  else:
    raise ValueError(f"Unknown deconvolution order {order!r}; known: 'raster', 'parallel'.")
  return y[0] if single else y


@functools.partial(jax.jit, static_argnames=('clip',))
def _deconvolve_raster(x_NHWC, w_C33, clip):
  # Rows and columns lead so the scans run over them; images and channels are vectorised.
  xp = jnp.moveaxis(_pad(x_NHWC), (1, 2), (0, 1))  # (H+2)×(W+2)×N×C
  width = xp.shape[1] - 2
  w = w_C33.transpose(1, 2, 0)  # 3×3×C, broadcasts over N×C.
  fix = (lambda v: jnp.clip(v, 0, 1)) if clip else (lambda v: v)

  def row(above, rows):
    # above: the restored row i−1 with its two off-image ends (x); rows: padded rows i, i+1.
    centre, below = rows
    known = sum(w[0, b] * above[b:b + width] + w[2, b] * below[b:b + width] for b in range(3))
    known = known + w[1, 2] * centre[2:]

    def pixel(left, xs):
      x_ij, known_ij = xs
      y = fix((x_ij - known_ij - w[1, 0] * left) / w[1, 1])
      return y, y

    _, ys = jax.lax.scan(pixel, centre[0], (centre[1:-1], known))
    restored = jnp.concatenate([centre[:1], ys, centre[-1:]])
    return restored, ys

  _, y = jax.lax.scan(row, xp[0], (xp[1:-1], xp[2:]))
  return jnp.moveaxis(y, (0, 1), (1, 2))


def apply_learned(filtered, kernel, clip: bool = True):
  """The learned map run forwards: relu(w ⋆ y), the learner's own prediction of the original.

  Not the source's inverse (that is `deconvolve`), but what a filter learned from filtered to
  original images (the source's direction) computes; kernel shapes as in `deconvolve`.
  """
  if np.ndim(kernel) == 4:
    return jax.vmap(lambda k: apply_learned(filtered, k, clip))(jnp.asarray(kernel))
  out = jax.nn.relu(apply_filter(filtered, kernel))
  return jnp.clip(out, 0, 1) if clip else out


# ---- Metrics ----

def mae(a, b):
  """Mean absolute error per image: N (or a scalar for H×W×C), over rows, columns, channels."""
  a, b = jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32)
  if a.shape != b.shape:
    raise ValueError(f'mae: shapes {a.shape} and {b.shape} differ.')
  return jnp.mean(jnp.abs(a - b), axis=(-3, -2, -1))


def loss_ratio(mae_restored, mae_filtered):
  """r = |MAE − MAE0| / MAE0 (NaN where MAE0 = 0: the filter changed nothing)."""
  mae_filtered = jnp.asarray(mae_filtered, jnp.float32)
  safe = jnp.where(mae_filtered > 0, mae_filtered, 1.0)
  return jnp.where(mae_filtered > 0, jnp.abs(mae_restored - mae_filtered) / safe, jnp.nan)


def score(originals, filtered, restored) -> dict:
  """MAE0, MAE (means over the images) and r (the mean of the per-image ratios), as floats.

  `restored` may carry a leading sweep axis; the results are then arrays over it.
  """
  mae0 = mae(filtered, originals)
  mae1 = mae(restored, jnp.broadcast_to(originals, restored.shape))
  ratio = loss_ratio(mae1, mae0)
  return {'mae0': np.asarray(jnp.mean(mae0)), 'mae': np.asarray(jnp.mean(mae1, axis=-1)),
          'ratio': np.asarray(jnp.mean(ratio, axis=-1))}


# ---- Classical deconvolution with the true filter (scikit-image) ----

def _classical(filtered, kernel, deconv, pad):
  filtered = np.asarray(check_float_images(filtered, 'filtered'), np.float64)
  psf = np.asarray(check_kernel(kernel), np.float64)[::-1, ::-1]  # Correlation -> convolution.
  single = filtered.ndim == 3
  images = filtered[None] if single else filtered
  # scikit-image's borders are periodic (Wiener) or zero (Richardson–Lucy), not our 'reflect':
  # a reflected margin, cut off afterwards, keeps that mismatch out of the score.
  images = np.pad(images, [(0, 0), (pad, pad), (pad, pad), (0, 0)], mode='symmetric')
  with np.errstate(divide='ignore', invalid='ignore'):  # A 0/0 is reported, not warned.
    out = np.stack([np.stack([deconv(img[..., c], psf) for c in range(img.shape[-1])], -1)
                    for img in images])
  out = np.clip(out[:, pad:out.shape[1] - pad, pad:out.shape[2] - pad], 0, 1).astype(np.float32)
  return out[0] if single else out


def wiener(filtered, kernel, balance: float = 0.01, pad: int = 8):
  """`skimage.restoration.wiener` per channel with the true filter as PSF, clipped to [0, 1].

  Its default regulariser is the Laplacian, which is 0 at frequency 0: a filter whose taps sum
  to 0 (edge) is 0 there too, and the result is NaN (0/0), which the caller reports. `pad`:
  the reflected margin (pixels) each image gets for the deconvolution.
  """
  from skimage import restoration  # pylint: disable=g-import-not-at-top
  return _classical(filtered, kernel, lambda img, psf: restoration.wiener(img, psf, balance),
                    pad)


def richardson_lucy_applies(kernel) -> bool:
  """Richardson–Lucy needs a non-negative PSF with a positive sum (blur: yes; sharpen, edge: no)."""
  k = check_kernel(kernel)
  return bool((k >= 0).all() and k.sum() > 0)


def richardson_lucy(filtered, kernel, num_iter: int = 30, pad: int = 8):
  """`skimage.restoration.richardson_lucy` per channel with the true filter, clipped to [0, 1]."""
  from skimage import restoration  # pylint: disable=g-import-not-at-top
  if not richardson_lucy_applies(kernel):
    raise ValueError('Richardson–Lucy needs a non-negative filter (PSF) with a positive sum, '
                     f'got {check_kernel(kernel).tolist()}.')
  return _classical(filtered, kernel,
                    lambda img, psf: restoration.richardson_lucy(img, psf, num_iter=num_iter),
                    pad)
