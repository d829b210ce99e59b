"""A browser demo: paint a hole on an image and see every model's fill beside the classical ones.

  pip install -e ".[demo]"
  python -m inpaintjax.demo       (the shipped model, shipped:cifar10, and the classical fills)
  python -m inpaintjax.demo --models unet_best.msgpack runs/context_encoder ...
  python -m inpaintjax.demo --port=7860 --host=127.0.0.1 --max_pixels=1048576

Upload an image or pick one of the embedded test photos, paint the hole with the brush (or
upload a mask: white = missing) and press Fill. Each model given with `--models` (a run folder,
shipped:NAME or an exported file, `python -m inpaintjax.export`) fills it as `python -m inpaintjax.inpaint`
would — windows of its own size, large holes in pieces, outside in — and so do Telea,
Navier–Stokes and biharmonic. A sampling model (diffusion, autoregressive) shows a few samples.
When the image is an embedded photo, whose truth is known, the table gives each fill's hole
PSNR. The demo starts offline, listens on localhost unless told otherwise, refuses images over
`--max_pixels` with a message, and shows errors as one line on the page, never a traceback.

The page is Gradio (the optional `demo` extra); the work behind it (`Demo.fill`) is plain numpy
and JAX, tested without a browser.
"""

from __future__ import annotations

import argparse
import os
import sys

import jax
import numpy as np

from inpaintjax import baselines, inpaint, metrics
from inpaintjax.data import sources
from inpaintjax.errors import ConfigError, DataError, RunError

EXAMPLES = sources.EMBEDDED_TEST  # Photos no embedded training crop comes from.
CLASSICAL = ('telea', 'navier_stokes', 'biharmonic')
SAMPLING_TASKS = ('diffusion', 'autoregressive')
MAX_PIXELS = 1024 * 1024
DEFAULT_MODEL = inpaint.DEFAULT_MODEL  # The model inside the package.


def example_image(name: str, short_side: int = 96) -> np.ndarray:
  """An embedded photo as uint8 RGB, shrunk so that its short side is `short_side`."""
  from PIL import Image
  if name not in EXAMPLES:
    raise ValueError(f'Unknown example {name!r}; known: {", ".join(EXAMPLES)}.')
  photo = sources._photo(name)  # pylint: disable=protected-access
  rgb = np.repeat(photo[..., None], 3, axis=-1) if photo.ndim == 2 else photo
  h, w = rgb.shape[:2]
  scale = short_side / min(h, w)
  size = (max(round(w * scale), 1), max(round(h * scale), 1))
  return np.asarray(Image.fromarray(rgb).resize(size, Image.LANCZOS))


def check_size(image: np.ndarray, max_pixels: int) -> None:
  """A one-line refusal of an image over the demo's size limit."""
  h, w = image.shape[:2]
  if h * w > max_pixels:
    raise ValueError(f'The image is {w}×{h} = {h * w:,} pixels; this demo takes at most '
                     f'{max_pixels:,} (--max_pixels). Shrink it first.')


def as_uint8_image(array, what: str = 'the image') -> np.ndarray:
  """uint8 H×W×C (C = 1..4) from what a browser sends (H×W grey, float or uint8)."""
  if array is None:
    raise ValueError(f'No {what.removeprefix("the ")}: upload one or pick an example.')
  array = np.asarray(array)
  if array.ndim == 2:
    array = array[..., None]
  if array.ndim != 3 or array.shape[-1] not in (1, 2, 3, 4):
    raise ValueError(f'{what} has shape {array.shape}; expected H×W×C with C = 1..4.')
  if array.dtype != np.uint8:
    top = 1.0 if array.dtype.kind == 'f' and array.max() <= 1.0 else 255.0
    array = np.round(np.clip(array.astype(np.float64) / top, 0, 1) * 255).astype(np.uint8)
  return array


def mask_from_layers(layers, shape) -> np.ndarray:
  """Bool H×W: every pixel painted on any brush layer (alpha > 0)."""
  mask = np.zeros(shape[:2], bool)
  for layer in layers or []:
    layer = as_uint8_image(layer, 'a brush layer')
    if layer.shape[:2] != tuple(shape[:2]):
      raise ValueError(f'A brush layer is {layer.shape[1]}×{layer.shape[0]}, the image '
                       f'{shape[1]}×{shape[0]}.')
    paint = layer[..., -1] if layer.shape[-1] in (2, 4) else layer.max(axis=-1)
    mask |= paint > 0
  return mask


class Demo:
  """The models and classical methods the page compares, and the fill behind its button."""

  def __init__(self, models: list[str] = (), methods=CLASSICAL, samples: int = 3,
               max_pixels: int = MAX_PIXELS):
    for m in methods:
      if m not in baselines.BASELINES:
        raise ValueError(f'Unknown classical method {m!r}; known: '
                         f'{", ".join(baselines.BASELINES)}.')
    self.fillers = [(self.label(path), inpaint.ModelFiller(path)) for path in models]
    self.methods, self.samples, self.max_pixels = tuple(methods), samples, max_pixels

  @staticmethod
  def label(path: str) -> str:
    return os.path.splitext(os.path.basename(os.path.normpath(path)))[0]

  def fill(self, image: np.ndarray, mask: np.ndarray, truth: np.ndarray | None = None):
    """([(uint8 image, caption)], markdown table) for every model, sample and method.

    `truth` (the image before the hole, when known) adds each fill's hole PSNR.
    """
    image = as_uint8_image(image)
    check_size(image, self.max_pixels)
    inpaint.check_mask(np.asarray(mask, bool), 'the painted hole')
    results = []
    for label, filler in self.fillers:
      draws = self.samples if filler.task_name in SAMPLING_TASKS else 1
      for i in range(draws):
        filler.key = jax.random.PRNGKey(i)
        out, _ = inpaint.inpaint(image, mask, filler)
        results.append((out, f'{label} sample {i + 1}' if draws > 1 else label))
    for method in self.methods:
      out, _ = inpaint.inpaint(image, mask, baseline=method)
      results.append((out, method))
    return results, self.table(results, mask, truth)

  @staticmethod
  def table(results, mask, truth) -> str:
    """The fills' hole PSNR against `truth` (a note instead when the truth is unknown)."""
    if truth is None:
      return (f'{int(mask.sum()):,} pixels filled. Pick an embedded example to see each '
              "fill's hole PSNR (its truth is known).")
    t = truth[..., :3].astype(np.float32) / 255.0
    m = np.asarray(mask, np.float32)[None, ..., None]
    rows = ['| method | hole PSNR (dB) |', '|---|---|']
    for out, caption in results:
      o = out[..., :3].astype(np.float32) / 255.0
      psnr = float(metrics.hole_metrics(o[None], t[None], m)['hole_psnr'][0])
      rows.append(f'| {caption} | {psnr:.2f} |')
    return f'{int(mask.sum()):,} pixels filled.\n\n' + '\n'.join(rows)


def build_app(demo: Demo):
  """The Gradio page for `demo`."""
  os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')  # Offline: no telemetry calls.
  import gradio as gr

  def pick(name):
    image = example_image(name)
    return {'background': image, 'layers': [], 'composite': image}, image

  def run(editor, mask_upload, truth):
    try:
      if editor is None or editor.get('background') is None:
        raise ValueError('No image: upload one or pick an example.')
      image = as_uint8_image(editor['background'])[..., :3]
      if mask_upload is not None:
        mask = inpaint.mask_from_array(as_uint8_image(mask_upload, 'the mask'), image.shape,
                                       'the uploaded mask')
      else:
        mask = mask_from_layers(editor.get('layers'), image.shape)
      known = (truth is not None and np.shape(truth) == image.shape
               and np.array_equal(np.asarray(truth), image))
      results, table = demo.fill(image, mask, np.asarray(truth) if known else None)
      return [(out, caption) for out, caption in results], table
    except (ValueError, RunError, ConfigError, DataError) as e:
      return [], f'**Error:** {e}'
    except Exception as e:  # The page shows one line, never a traceback.
      return [], f'**Error:** {type(e).__name__}: {e}'

  with gr.Blocks(title='inpaintjax demo') as app:
    gr.Markdown('# inpaintjax\nPaint the hole (or upload a mask, white = missing), then Fill.')
    truth = gr.State(None)
    with gr.Row():
      example = gr.Dropdown(choices=list(EXAMPLES), label='embedded test photo', value=None)
    with gr.Row():
      # PNG throughout: Gradio's default, webp, is lossy and would change the known pixels.
      editor = gr.ImageEditor(type='numpy', label='image', elem_id='editor', format='png',
                              brush=gr.Brush(colors=['#ff00ff'], color_mode='fixed'))
      mask_upload = gr.Image(type='numpy', label='or upload a mask', elem_id='mask_upload',
                             format='png')
    button = gr.Button('Fill', elem_id='fill')
    table = gr.Markdown(elem_id='table')
    gallery = gr.Gallery(label='fills', elem_id='fills', columns=4, height=360, format='png')
    example.change(pick, inputs=example, outputs=[editor, truth])
    button.click(run, inputs=[editor, mask_upload, truth], outputs=[gallery, table])
  return app


def build_parser() -> argparse.ArgumentParser:
  """The command's flags."""
  p = argparse.ArgumentParser(prog='python -m inpaintjax.demo', description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument('--models', nargs='*', default=[DEFAULT_MODEL],
                 help='Run folders, exported files or shipped:NAME to compare (default: the '
                      'shipped model, shipped:cifar10).')
  p.add_argument('--host', default='127.0.0.1', help='Address to listen on (localhost only '
                 'by default).')
  p.add_argument('--port', type=int, default=7860)
  p.add_argument('--max_pixels', type=int, default=MAX_PIXELS,
                 help='Largest image (width × height) the page accepts.')
  p.add_argument('--samples', type=int, default=3, help='Samples shown of a sampling model.')
  return p


def main(argv=None) -> int:
  """Command-line entry point; bad input ends with a one-line error, not a traceback."""
  args = build_parser().parse_args(argv)
  try:
    demo = Demo(args.models, samples=args.samples, max_pixels=args.max_pixels)
  except (ValueError, FileNotFoundError, ConfigError, RunError) as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  try:
    app = build_app(demo)
  except ImportError:
    print('error: the demo needs Gradio: pip install -e ".[demo]"', file=sys.stderr)
    return 2
  app.launch(server_name=args.host, server_port=args.port, share=False,
             max_file_size='20mb')
  return 0


if __name__ == '__main__':
  sys.exit(main())
