"""Small shared pieces for the Linen models: activations by name, the central window, and the
convolution layers every model uses (lowered by shape: see `Conv`)."""

from __future__ import annotations

import flax.linen as nn
import jax
from jax import lax
import jax.numpy as jnp
import numpy as np

ACTIVATIONS = {
    'relu': nn.relu,
    'sigmoid': nn.sigmoid,
    'tanh': nn.tanh,
    'gelu': nn.gelu,
    'elu': nn.elu,
    'leaky_relu': nn.leaky_relu,
    'lrelu': lambda x: nn.leaky_relu(x, 0.2),  # DCGAN's slope.
    'swish': nn.swish,
}


def activation(name: str):
  """The activation function called `name`; an unknown name is an error that lists the known."""
  if name not in ACTIVATIONS:
    raise ValueError(f'Unknown activation {name!r}; known: {sorted(ACTIVATIONS)}.')
  return ACTIVATIONS[name]


def central_window(x, size: int):
  """The central size×size window of images (N, H, W, C); 0 keeps them whole.

  A centre hole's fill depends mostly on nearby pixels, so a net can look at a window
  around it only (a 16×16 window of a 32×32 image is 4× cheaper to convolve).
  """
  if not size:
    return x
  if size > min(x.shape[1:3]):
    raise ValueError(f'context {size} is larger than the {x.shape[1]}×{x.shape[2]} input.')
  top, left = (x.shape[1] - size) // 2, (x.shape[2] - size) // 2
  return x[:, top:top + size, left:left + size]


# --- Convolutions that pick their lowering by shape -------------------------------------------
#
# XLA:CPU's convolution is fast on large feature maps and very slow on tiny ones: the gradient of
# a 3×3, 256→256 convolution over 2×2 maps takes ~35× longer than the same arithmetic written as
# one matrix product over the 9 shifted copies of the input (im2col). A convolution whose input
# has few channels (an RGB image) is ~3× faster as that matrix product, and a 1×1 one (a matmul
# already) ~4×. On large maps of many channels lax wins: im2col copies the input 9 times.
# `benchmarks/conv_lowering.py` measures both lowerings at the configs' shapes; the rule below
# follows it. On GPU and TPU the vendor convolutions are fast at every shape, so `lax` is kept
# there.

MATMUL_MAX_PIXELS = 16     # Output maps of at most this many pixels (4×4) use the matmul.
MATMUL_MAX_CHANNELS = 8    # So do inputs of at most this many channels (RGB, RGB + mask).
LOWERINGS = ('auto', 'lax', 'matmul')
_NHWC = ('NHWC', 'HWIO', 'NHWC')


def on_cpu(backend: str | None = None) -> bool:
  """Whether `backend` (default: JAX's default backend) is the CPU, where the layers below
  take their CPU lowerings."""
  return (backend or jax.default_backend()) == 'cpu'


def prefers_matmul(out_pixels: int, in_channels: int, taps: int = 9,
                   backend: str | None = None) -> bool:
  """Whether `lowering='auto'` writes a convolution with `taps` kernel taps as im2col + matmul
  (see the note above): on CPU, for a 1×1 kernel (a matmul as it is), a small output map or
  an input of few channels."""
  if not on_cpu(backend):
    return False
  return taps == 1 or out_pixels <= MATMUL_MAX_PIXELS or in_channels <= MATMUL_MAX_CHANNELS


def _is_nhwc(dimension_numbers) -> bool:
  if dimension_numbers is None:
    return False
  if isinstance(dimension_numbers, lax.ConvDimensionNumbers):
    return tuple(dimension_numbers) == ((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))
  return tuple(dimension_numbers) == _NHWC


def _explicit_padding(padding, in_hw, window_hw, strides):
  if isinstance(padding, str):
    return lax.padtype_to_pads(in_hw, window_hw, strides, padding)
  return [tuple(p) for p in padding]


def conv_as_matmul(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
                   precision=None, preferred_element_type=None):
  """`lax.conv_general_dilated` (NHWC / HWIO, one feature group) as one matrix product.

  The input is dilated and padded, each kernel tap's strided view of it is taken (taps that
  would read padding only are dropped, since they add zero) and the views are stacked along the
  channels, so the convolution becomes (N·Ho·Wo, taps·C) @ (taps·C, O).
  """
  n, _, _, c = lhs.shape
  kh, kw = rhs.shape[:2]
  sh, sw = window_strides
  dh, dw = lhs_dilation or (1, 1)
  rh, rw = rhs_dilation or (1, 1)
  # Input dilation (a transposed convolution's stride) puts d - 1 zeros between pixels.
  x = lax.pad(lhs, jnp.zeros((), lhs.dtype), ((0, 0, 0), (0, 0, dh - 1), (0, 0, dw - 1),
                                              (0, 0, 0)))
  in_h, in_w = x.shape[1:3]
  win_h, win_w = (kh - 1) * rh + 1, (kw - 1) * rw + 1
  (top, bottom), (left, right) = _explicit_padding(padding, (in_h, in_w), (win_h, win_w),
                                                   (sh, sw))
  x = lax.pad(x, jnp.zeros((), x.dtype), ((0, 0, 0), (top, bottom, 0), (left, right, 0),
                                          (0, 0, 0)))
  out_h = (x.shape[1] - win_h) // sh + 1
  out_w = (x.shape[2] - win_w) // sw + 1

  def reads_data(offset, pad_before, size, stride, out):
    # Rows offset, offset + stride, … of the padded map: does any fall inside the input?
    first, last = offset, offset + (out - 1) * stride
    return last >= pad_before and first < pad_before + size

  taps = [(i, j) for i in range(kh) for j in range(kw)
          if reads_data(i * rh, top, in_h, sh, out_h) and reads_data(j * rw, left, in_w, sw, out_w)]
  if not taps:  # The window sees padding only: the output is zero.
    taps = [(kh // 2, kw // 2)]
  views = [lax.slice(x, (0, i * rh, j * rw, 0),
                     (n, i * rh + (out_h - 1) * sh + 1, j * rw + (out_w - 1) * sw + 1, c),
                     (1, sh, sw, 1)) for i, j in taps]
  cols = views[0] if len(views) == 1 else jnp.concatenate(views, axis=-1)
  kernel = jnp.concatenate([rhs[i, j] for i, j in taps], axis=0)
  out = lax.dot_general(cols.reshape(-1, len(taps) * c), kernel, (((1,), (0,)), ((), ())),
                        precision=precision, preferred_element_type=preferred_element_type)
  return out.reshape(n, out_h, out_w, -1)


def make_conv_general_dilated(lowering: str = 'auto'):
  """A drop-in for `lax.conv_general_dilated` that lowers by shape (`lowering='auto'`), always
  as a matmul ('matmul', NHWC only) or always as `lax` ('lax')."""
  if lowering not in LOWERINGS:
    raise ValueError(f'Unknown convolution lowering {lowering!r}; known: {LOWERINGS}.')

  def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None,
                           rhs_dilation=None, dimension_numbers=None, feature_group_count=1,
                           batch_group_count=1, precision=None, preferred_element_type=None):
    plain = (_is_nhwc(dimension_numbers) and feature_group_count == 1 and batch_group_count == 1
             and lhs.ndim == 4)
    use_matmul = plain and lowering == 'matmul'
    if plain and lowering == 'auto':
      out_shape = jax.eval_shape(
          lambda a, b: lax.conv_general_dilated(a, b, window_strides, padding, lhs_dilation,
                                                rhs_dilation, _NHWC), lhs, rhs).shape
      use_matmul = prefers_matmul(out_shape[1] * out_shape[2], lhs.shape[-1],
                                  rhs.shape[0] * rhs.shape[1])
    if lowering == 'matmul' and not plain:
      raise ValueError('The matmul lowering takes NHWC/HWIO convolutions with one feature '
                       f'group; got {dimension_numbers}, groups {feature_group_count}.')
    if use_matmul:
      return conv_as_matmul(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation,
                            precision, preferred_element_type)
    return lax.conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation,
                                    rhs_dilation, dimension_numbers, feature_group_count,
                                    batch_group_count, precision, preferred_element_type)

  return conv_general_dilated


conv_general_dilated = make_conv_general_dilated('auto')


def _transpose_pads(k: int, s: int, padding) -> tuple[int, int]:
  # The padding lax.conv_transpose gives a transposed convolution (its `_conv_transpose_padding`).
  if padding == 'SAME':
    pad_len = k + s - 2
    pad_a = k - 1 if s > k - 1 else int(np.ceil(pad_len / 2))
  elif padding == 'VALID':
    pad_len = k + s - 2 + max(k - s, 0)
    pad_a = k - 1
  else:
    raise ValueError(f'Unknown transposed-convolution padding {padding!r}.')
  return pad_a, pad_len - pad_a


def _phase_plan(size: int, stride: int, kernel: int, pads: tuple[int, int]):
  """Per output phase r of one axis of a transposed convolution: (first tap, taps, input
  offset, outputs), and the output length. Output o = stride·q + r only meets the kernel taps
  t ≡ pad_before − r (mod stride), which read inputs q + m + offset (m = 0, 1, …)."""
  before, after = pads
  length = (size - 1) * stride + 1 + before + after - kernel + 1
  plan = []
  for r in range(min(stride, max(length, 0))):
    first = (before - r) % stride
    plan.append((first, len(range(first, kernel, stride)), (r + first - before) // stride,
                 (length - r + stride - 1) // stride))
  return plan, length


def conv_transpose_by_phases(x, kernel, strides, padding, conv=None, precision=None):
  """A strided transposed convolution (lax.conv_transpose's, kernel not flipped) as stride_h ×
  stride_w ordinary convolutions of the undilated input, one per output phase, interleaved.

  The usual lowering convolves the input dilated with stride − 1 zeros between pixels, so most
  of its multiplies are by zero, and XLA:CPU's gradient of it is very slow; each phase here is
  a small dense convolution (`conv`, lowered by shape) with the taps that phase meets.
  """
  conv = conv or conv_general_dilated
  n, height, width, _ = x.shape
  features = kernel.shape[-1]
  rows, out_h = _phase_plan(height, strides[0], kernel.shape[0], padding[0])
  cols, out_w = _phase_plan(width, strides[1], kernel.shape[1], padding[1])
  q_h, q_w = -(-out_h // strides[0]), -(-out_w // strides[1])
  phases = []
  for t_h, m_h, d_h, n_h in rows:
    for t_w, m_w, d_w, n_w in cols:
      if m_h and m_w:
        # The inputs this phase reads, rows d_h … d_h + n_h + m_h − 2 (negative pads crop).
        part = lax.pad(x, jnp.zeros((), x.dtype),
                       ((0, 0, 0), (-d_h, d_h + n_h + m_h - 1 - height, 0),
                        (-d_w, d_w + n_w + m_w - 1 - width, 0), (0, 0, 0)))
        y = conv(part, kernel[t_h::strides[0], t_w::strides[1]], (1, 1), 'VALID',
                 dimension_numbers=_NHWC, precision=precision)
      else:  # No tap reaches this phase.
        y = jnp.zeros((n, n_h, n_w, features), jnp.result_type(x, kernel))
      phases.append(jnp.pad(y, ((0, 0), (0, q_h - n_h), (0, q_w - n_w), (0, 0))))
  y = jnp.stack(phases, axis=3).reshape(n, q_h, q_w, len(rows), len(cols), features)
  y = y.transpose(0, 1, 3, 2, 4, 5).reshape(n, q_h * len(rows), q_w * len(cols), features)
  return y[:, :out_h, :out_w]


class Conv(nn.Conv):
  """`flax.linen.Conv` (same fields, parameters and names) whose convolution is lowered by
  shape: im2col + matmul where XLA:CPU's convolution is slow (tiny maps, few input channels),
  `lax.conv_general_dilated` elsewhere and on every accelerator. `lowering` forces one.
  `dtype` (the computation dtype) holds in every lowering: Flax's `promote_dtype` casts the
  input, kernel and bias to it before the convolution function is called."""
  lowering: str = 'auto'

  def __post_init__(self):
    if self.conv_general_dilated is None and self.conv_general_dilated_cls is None:
      object.__setattr__(self, 'conv_general_dilated', make_conv_general_dilated(self.lowering))
    super().__post_init__()


class ConvTranspose(nn.ConvTranspose):
  """`flax.linen.ConvTranspose` (same fields, parameters and names), lowered by shape as `Conv`
  is. On CPU a strided one is computed by output phases (`conv_transpose_by_phases`), each a
  small dense convolution; elsewhere, and for stride 1, it is the convolution of the
  stride-dilated input that lax.conv_transpose computes, through the shared lowering.
  CIRCULAR padding, a transposed kernel, a mask or a preferred element type go to Flax's own
  layer. Every path casts the input, kernel and bias to `dtype` first, as Flax's does."""
  lowering: str = 'auto'

  @nn.compact
  def __call__(self, inputs):
    padding = nn.linear.canonicalize_padding(self.padding, 2)
    if (inputs.ndim != 4 or self.transpose_kernel or self.mask is not None
        or padding == 'CIRCULAR' or self.preferred_element_type is not None):
      return super().__call__(inputs)
    kernel_size = (tuple(self.kernel_size) if not isinstance(self.kernel_size, int)
                   else (self.kernel_size,) * 2)
    strides = self.strides or (1, 1)
    strides = (strides,) * 2 if isinstance(strides, int) else tuple(strides)
    dilation = self.kernel_dilation or (1, 1)
    dilation = (dilation,) * 2 if isinstance(dilation, int) else tuple(dilation)
    kernel = self.param('kernel', self.kernel_init, kernel_size + (inputs.shape[-1], self.features),
                        self.param_dtype)
    bias = (self.param('bias', self.bias_init, (self.features,), self.param_dtype)
            if self.use_bias else None)
    inputs, kernel, bias = self.promote_dtype(inputs, kernel, bias, dtype=self.dtype)
    if isinstance(padding, str):
      padding = [_transpose_pads((k - 1) * d + 1, s, padding)
                 for k, s, d in zip(kernel_size, strides, dilation)]
    conv = make_conv_general_dilated(self.lowering)
    by_phases = self.lowering == 'matmul' or (self.lowering == 'auto' and on_cpu())
    if strides != (1, 1) and dilation == (1, 1) and by_phases:
      y = conv_transpose_by_phases(inputs, kernel, strides, padding, conv, self.precision)
    else:
      y = conv(inputs, kernel, (1, 1), padding, lhs_dilation=strides, rhs_dilation=dilation,
               dimension_numbers=_NHWC, precision=self.precision)
    return y + bias if bias is not None else y


def max_pool(x, window: int):
  """`nn.max_pool(x, (window, window), strides=(window, window))` (VALID: a remainder of rows
  or columns is dropped). On CPU it is a reshape and a max, whose gradient is much cheaper there
  than reduce-window's select-and-scatter; the values are equal, and so are the gradients
  except where a window holds tied maxima (shared among them rather than given to one)."""
  if not on_cpu():
    return nn.max_pool(x, (window, window), strides=(window, window))
  n, h, w, c = x.shape
  h, w = h // window * window, w // window * window
  x = x[:, :h, :w].reshape(n, h // window, window, w // window, window, c)
  return jnp.max(x, axis=(2, 4))
