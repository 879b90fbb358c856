"""Every mistake the CNN suites can name, and the wrong versions of convolution that produce them.

`known.<id>` is a Mistake: a stable id (what the class report counts) and
the phrase the student reads after "It matches what you get if you ...".
Each mistake is named once here, whichever check finds it. The functions
below take the reference module and a call's arguments and return what a
typical wrong solution returns; they run in the trusted process. Pooling's
wrong versions are in pool_mistakes.py.
"""

import itertools
import math
from types import SimpleNamespace

import numpy as np

from autograder.suite import Mistake, Variants

REGISTRY = {
    # conv_output_size
    "lesson_floor_numerator": (
        "divide with / (true division), as the lesson's printed formula does (its floor applies to the numerator "
        "only): a remainder is kept and the result is a float; divide with // instead"
    ),
    "ceil_instead_of_floor": "round up (ceil) instead of down (floor)",
    "round_instead_of_floor": "round to the nearest integer (round) instead of down (floor)",
    "int_truncation": "truncate with int(), which turns -0.5 into 0 where the floor gives -1 (no position fits)",
    "one_side_padding": "add the padding to one side only",
    # pad
    "width_from_height": "compute the output's width from the height too (H, or x.shape[2], used for both axes)",
    "height_from_width": "compute the output's height from the width too (W, or x.shape[3], used for both axes)",
    "output_axes_swapped": "build the output as (..., W_out, H_out): the height comes first, (N, C, H_out, W_out)",
    "output_indexed_by_input_position": (
        "step the loop over window positions by the stride (range(0, ..., stride)) and index the output with "
        "that input position too: the output's index is the window's number, i // stride (or loop over output "
        "positions i and start each window at i * stride)"
    ),
    "kernel_transposed": "transpose the kernel (w[..., kw, kh] for w[..., kh, kw]: an einsum's or a .T's axes swapped)",
    "kernel_flattened_in_another_order": (
        "flatten the kernel and the windows in different orders ((C, KH, KW) for one, (KH, KW, C) for the "
        "other): reshape both the same way"
    ),
    "output_reshaped_as_width_height": (
        "reshape the flat output as (W_out, H_out) and transpose it: positions come row by row, so reshape it "
        "as (H_out, W_out)"
    ),
    "layer_stride_ignored": "leave out the stride given to the constructor when the layer calls the function",
    "pad_pair_as_before_after": (
        "read the pair (p_h, p_w) as (before, after) and pad both axes by p_h before and p_w after"
    ),
    "argmax_unravelled_with_wrong_side": (
        "unravel a window's argmax with the wrong side (divmod(k, PH) for a window PW wide): use "
        "np.unravel_index(k, (PH, PW))"
    ),
    "max_compared_with_whole_map": (
        "compare each window's maximum with the whole map (x[n, c] == m) instead of with the window: every "
        "cell equal to it, anywhere, receives that window's gradient"
    ),
    "dw_one_filter_only": (
        "compute dw for the last filter only (its line outside the loop over filters?): every filter's "
        "slice of dw gets its own sum"
    ),
    "db_wrong_axes": "sum db over other axes than the batch and the positions: db = dout.sum(axis=(0, 2, 3))",
    "db_keepdims": "keep the summed axes (keepdims=True): db must have shape (F,)",
    "zero_grad_skips_a_parameter": (
        "leave a parameter's grad as it was in zero_grad: reset every Parameter that parameters() lists "
        "(is each one in that list?)"
    ),
    "pad_every_axis": "pad the batch and channel axes too",
    "pad_pair_swapped": "read the pairs as (width, height)",
    "pad_value_ignored": "fill the new cells with 0 whatever `value` says",
    # conv2d_forward, conv2d_backward, Conv2d
    "flipped_kernel": "flip the kernel (deep-learning convolution slides w as it is)",
    "no_bias": "leave out the bias",
    "bias_on_last_axis": (
        "add b of shape (F,) as it is (out + b): NumPy lines it up with the last axis (the width), not the "
        "channels; add b[None, :, None, None] (or b.reshape(1, -1, 1, 1))"
    ),
    "stride_pair_swapped": "read the stride pair as (width, height)",
    "padding_pair_swapped": "read the padding pair as (width, height)",
    "stride_ignored": "ignore the stride",
    "stride_first_only": "use the first value of a stride pair for both axes",
    "padding_first_only": "use the first value of a padding pair for both axes",
    "padding_ignored": "ignore the padding",
    "layer_arguments_ignored": "ignore the stride and padding given to the constructor",
    "layer_arguments_swapped": (
        "hand the constructor's stride and padding on to conv2d_forward swapped (pass them by name: "
        "stride=self.stride, padding=self.padding)"
    ),
    "default_padding_1": "default the padding to 1",
    "default_stride_2": "default the stride to 2",
    "crop_empty_at_zero_padding": (
        "crop the padding with x[p:-p], which is empty when p = 0 (crop with x[p:p + H] instead)"
    ),
    "padding_not_cropped": "return the gradient of the padded input without cropping the padding away",
    "batch_mean": "average over the batch instead of summing (the gradient of a sum is not averaged)",
    "db_batch_only": "sum db over the batch only, not over the output positions",
    "grads_overwritten": "overwrite W.grad/b.grad (=) instead of adding (+=)",
    "kept_integer_dtype": (
        "keep the integer dtype of the input: an array made with np.zeros_like(x) or x.copy() stays integer "
        "and truncates every value written into it; make it float64 (np.zeros(x.shape), or astype(np.float64))"
    ),
    # He initialisation
    "he_fan_out": "use fan-out (out_channels * KH * KW) instead of fan-in (in_channels * KH * KW)",
    "he_lecun": "use variance 1 / fan_in (LeCun) instead of 2 / fan_in (He)",
    "he_xavier": "use Xavier's 2 / (fan_in + fan_out) instead of He's 2 / fan_in",
    "he_std_as_variance": "use 2 / fan_in as the standard deviation; it is the variance, so take its square root",
    "he_unscaled": "draw from a standard normal without scaling it (std 1)",
    "he_no_kernel": "use fan-in without the kernel size (in_channels only)",
    "he_kernel_height_twice": "use KH * KH (the height twice) for the kernel's size",
    "he_kernel_width_twice": "use KW * KW (the width twice) for the kernel's size",
    # maxpool_forward, MaxPool2d
    "pool_stride_one_when_none": "use stride 1 when stride is None (the lesson's layer did)",
    "pool_pairs_swapped": "read the pairs as (width, height)",
    "pool_window_swapped": "read the pool_size pair as (width, height)",
    "pool_stride_swapped": "read the stride pair as (width, height)",
    "pool_first_only": "use the first value of a pool_size or stride pair for both axes",
    "average_pool": "average each window instead of taking its maximum",
    "default_window_3": "default the window to 3x3",
    # maxpool_backward, MaxPool2d
    "global_mask": (
        "use the lesson's global mask (a cell that is the maximum of one window also receives gradient "
        "from overlapping windows where it is not)"
    ),
    "global_mask_01": (
        "use one 0/1 mask of all windows' maxima (the lesson's global mask): a cell that is the maximum "
        "of one window then also receives gradient from overlapping windows where it is not"
    ),
    "all_ties": "give every tied maximum the full gradient",
    "split_ties": "split a window's gradient among its tied maxima (only the first maximum gets it, all of it)",
    "last_max": "send the gradient to the last maximum instead of the first",
    "assign_overlap": (
        "assign (=) instead of adding (+=) where windows overlap (a fancy-indexed dx[rows, cols] += g "
        "does the same: it keeps one of several updates to a cell; np.add.at adds them all)"
    ),
    "assign_slice": "assign (=) each window's slice of dx instead of adding (+=) where windows overlap",
    "assign_overlap_fancy": (
        "add with a fancy-indexed dx_pad[:, k, i, j] += cols, which keeps only one of the values written to a "
        "repeated index where windows overlap; np.add.at(dx_pad, (slice(None), k, i, j), cols) adds them all"
    ),
    # maxpool_backward ignoring the stride (6 of 17 implementations of one course)
    "pool_backward_step_is_window": (
        "move the backward pass's windows by pool_size instead of the stride: window (i, j) of dout starts at "
        "(i * PH, j * PW), not (i * S_h, j * S_w) as in the forward pass"
    ),
    "pool_backward_step_is_one": (
        "move the backward pass's windows one cell at a time instead of by the stride: window (i, j) of dout "
        "starts at (i, j), not (i * S_h, j * S_w) as in the forward pass"
    ),
    "pool_backward_stride_ignored": (
        "ignore the stride in the backward pass: it takes the windows of stride = pool_size (as for "
        "stride=None), not those the forward pass took"
    ),
    "assign_slice_all_ties": (
        "assign (=) each window's slice of dx with a mask of all its tied maxima: with all-equal windows "
        "that overlap, each window overwrites its neighbours' gradient"
    ),
}

known = SimpleNamespace(**{ident: Mistake(ident, phrase) for ident, phrase in REGISTRY.items()})


def swap(pair):
    """(h, w) -> (w, h); an int (or None) stays as it is."""
    return (pair[1], pair[0]) if isinstance(pair, (tuple, list)) else pair


def as_pair(value):
    return (int(value), int(value)) if np.isscalar(value) else (int(value[0]), int(value[1]))


# conv_output_size -------------------------------------------------------
def lesson_output_size(size, kernel, stride=1, padding=0):
    """The lesson's printed formula: floor around the numerator only."""
    return math.floor(size + 2 * padding - kernel) / stride + 1


def ceil_output_size(size, kernel, stride=1, padding=0):
    return math.ceil((size + 2 * padding - kernel) / stride) + 1


def round_output_size(size, kernel, stride=1, padding=0):
    """Python's round: half to even, so 1.5 -> 2 and 2.5 -> 2."""
    return round((size + 2 * padding - kernel) / stride) + 1


def round_half_up_output_size(size, kernel, stride=1, padding=0):
    return math.floor((size + 2 * padding - kernel) / stride + 0.5) + 1


def int_output_size(size, kernel, stride=1, padding=0):
    return int((size + 2 * padding - kernel) / stride) + 1


def one_side_padding(size, kernel, stride=1, padding=0):
    return (size + padding - kernel) // stride + 1


OUTPUT_SIZE_VARIANTS = (
    (known.lesson_floor_numerator, lesson_output_size),
    (known.ceil_instead_of_floor, ceil_output_size),
    (known.round_instead_of_floor, round_output_size),
    (known.round_instead_of_floor, round_half_up_output_size),
    (known.one_side_padding, one_side_padding),
)


def conv_shape_mistake(actual_shape, x_shape, w_shape, stride, padding):
    """The rounding mistake that explains a wrong output shape of a convolution, or None."""
    (sh, sw), (ph, pw) = as_pair(stride), as_pair(padding)
    for mistake, size in OUTPUT_SIZE_VARIANTS[1:4]:
        shape = (x_shape[0], w_shape[0], size(x_shape[2], w_shape[2], sh, ph), size(x_shape[3], w_shape[3], sw, pw))
        if tuple(actual_shape) == shape:
            return mistake
    return None


# pad --------------------------------------------------------------------
def pad_every_axis(x, padding, value=0):
    return np.pad(x, padding if isinstance(padding, int) else 0, constant_values=value)


def pad_swapped(ref, x, padding, value=0):
    return ref.pad(x, swap(padding), value)


def pad_before_after(x, padding, value=0):
    """A pair (p_h, p_w) read as (before, after) for both spatial axes."""
    if isinstance(padding, int) or np.ndim(padding) != 1:
        raise ValueError("only for a (p_h, p_w) pair")
    before, after = int(padding[0]), int(padding[1])
    if before == after:
        raise ValueError("an equal pair: nothing changes")
    return np.pad(x, ((0, 0), (0, 0), (before, after), (before, after)), constant_values=value)


def pad_value_ignored(ref, x, padding, value=0):
    return ref.pad(x, padding)


# conv2d -----------------------------------------------------------------
def flipped_kernel(ref, x, w, b, stride=1, padding=0):
    return ref.conv2d_forward(x, w[:, :, ::-1, ::-1], b, stride, padding)


def no_bias(ref, x, w, b, stride=1, padding=0):
    return ref.conv2d_forward(x, w, np.zeros_like(b), stride, padding)


def swapped_strides(ref, x, w, b, stride=1, padding=0):
    return ref.conv2d_forward(x, w, b, swap(stride), padding)


def swapped_padding(ref, x, w, b, stride=1, padding=0):
    return ref.conv2d_forward(x, w, b, stride, swap(padding))


def stride_ignored(ref, x, w, b, stride=1, padding=0):
    return ref.conv2d_forward(x, w, b, 1, padding)


def padding_ignored(ref, x, w, b, stride=1, padding=0):
    return ref.conv2d_forward(x, w, b, stride, 0)


def first_only(pair):
    """(h, w) -> (h, h); ValueError for an int or an equal pair, where the mistake changes nothing."""
    if not isinstance(pair, (tuple, list)) or pair[0] == pair[1]:
        raise ValueError("only for a pair with unequal sides")
    return (pair[0], pair[0])


def forward_mistakes(ref, x, w, b, stride=1, padding=0):
    """The `mistakes` mapping for a conv2d_forward call."""
    args = (ref, x, w, b, stride, padding)
    return {
        known.flipped_kernel: lambda: flipped_kernel(*args),
        known.no_bias: lambda: no_bias(*args),
        known.stride_pair_swapped: lambda: swapped_strides(*args),
        known.padding_pair_swapped: lambda: swapped_padding(*args),
        known.stride_ignored: lambda: stride_ignored(*args),
        known.padding_ignored: lambda: padding_ignored(*args),
        known.stride_first_only: lambda: ref.conv2d_forward(x, w, b, first_only(stride), padding),
        known.padding_first_only: lambda: ref.conv2d_forward(x, w, b, stride, first_only(padding)),
        known.bias_on_last_axis: lambda: ref.conv2d_forward(x, w, np.zeros_like(b), stride, padding) + b,
        known.kernel_transposed: lambda: ref.conv2d_forward(x, transposed(w), b, stride, padding),
        known.kernel_flattened_in_another_order: lambda: Variants.of(*(
            lambda kernel=kernel: ref.conv2d_forward(x, kernel, b, stride, padding) for kernel in reordered(w))),
    }


def axis_variants(expected):
    """{mistake: output} of the mix-ups of the output's spatial axes, from the right output (N, C, H_out, W_out):
    each checked on values, not on the shape alone, so that another mistake of the same shape is not named."""
    expected = np.asarray(expected)
    N, C, height, width = expected.shape

    def first_columns():  # the width taken from the height: the first H_out columns, right
        if not height < width:
            raise ValueError("only for a wider output")
        return expected[..., :height]

    def first_rows():
        if not width < height:
            raise ValueError("only for a taller output")
        return expected[..., :width, :]

    def square():
        if height == width:
            raise ValueError("a square output: its axes cannot be told apart")
        return expected

    return {
        known.width_from_height: first_columns,
        known.height_from_width: first_rows,
        known.output_axes_swapped: lambda: square().swapaxes(2, 3),
        known.output_reshaped_as_width_height: lambda: square().reshape(N, C, width, height).swapaxes(2, 3),
    }


def transposed(w):
    """The kernel with its two spatial axes swapped (for a square one: w[..., j, i])."""
    return np.ascontiguousarray(np.asarray(w).swapaxes(2, 3))


def reordered(w):
    """The kernels a conv uses when w is flattened as (C, KH, KW) but the windows as (KH, KW, C), or
    the other way round."""
    F, C, KH, KW = np.shape(w)
    if C == 1:
        raise ValueError("one channel: both orders are the same")
    w = np.asarray(w)
    return [w.reshape(F, KH, KW, C).transpose(0, 3, 1, 2), w.transpose(0, 2, 3, 1).reshape(F, C, KH, KW)]


def flipped_backward(ref, dout, x, w, b, stride=1, padding=0):
    dx, dw, db = ref.conv2d_backward(dout, x, w[:, :, ::-1, ::-1], b, stride, padding)
    return dx, dw[:, :, ::-1, ::-1], db


def batch_mean_backward(ref, dout, x, w, b, stride=1, padding=0):
    dx, dw, db = ref.conv2d_backward(dout, x, w, b, stride, padding)
    return dx, dw / x.shape[0], db / x.shape[0]


def _padded_dx(ref, dout, x, w, b, stride, padding):
    """The gradient with respect to the padded input, before the padding is cropped."""
    x_pad = ref.pad(np.asarray(x, dtype=np.float64), as_pair(padding))
    return ref.conv2d_backward(dout, x_pad, w, b, stride, 0)[0]


def crop_empty_backward(ref, dout, x, w, b, stride=1, padding=0):
    """dx_pad[:, :, p:-p, q:-q]: empty along an axis whose padding is 0."""
    (ph, pw) = as_pair(padding)
    if ph and pw:
        raise ValueError("only when some padding is 0")
    return _padded_dx(ref, dout, x, w, b, stride, padding)[:, :, ph:-ph, pw:-pw]


def uncropped_backward(ref, dout, x, w, b, stride=1, padding=0):
    if as_pair(padding) == (0, 0):
        raise ValueError("only with padding")
    return _padded_dx(ref, dout, x, w, b, stride, padding)


def stride_ignored_backward(ref, dout, x, w, b, stride=1, padding=0):
    """Windows taken at i, j instead of i * stride, j * stride: the stride-1 gradient of a dout
    that is zero past the strided output's size."""
    if as_pair(stride) == (1, 1):
        raise ValueError("only with a stride")
    (ph, pw), (kh, kw) = as_pair(padding), w.shape[2:]
    full = np.zeros(dout.shape[:2] + (x.shape[2] + 2 * ph - kh + 1, x.shape[3] + 2 * pw - kw + 1))
    full[:, :, :dout.shape[2], :dout.shape[3]] = dout
    return ref.conv2d_backward(full, x, w, b, 1, padding)


def assign_overlap_backward(ref, dout, x, w, b, stride=1, padding=0, fancy=False):
    """dx built with = instead of += where windows overlap: one write per cell survives, cropped as usual.

    Loops (`dx_pad[n, :, window] = w[f] * dout[n, f, i, j]`, whichever loop holds f): each cell keeps
    the last filter's term of the last window over it (so the other filters' terms are lost even where
    windows do not overlap). `fancy` (im2col's `dx_pad[:, k, i, j] += cols`,
    with repeated indices): each cell keeps its term, summed over filters, of the last kernel offset
    (kh, kw) in row-major order that reaches it."""
    (sh, sw), (ph, pw) = as_pair(stride), as_pair(padding)
    x, w, dout = (np.asarray(a, dtype=np.float64) for a in (x, w, dout))
    (N, C, H, W), (F, _, KH, KW), (Ho, Wo) = x.shape, w.shape, dout.shape[2:]
    if fancy and ((sh >= KH and sw >= KW) or Ho * Wo < 2):
        raise ValueError("no index repeats where windows do not overlap")
    dx_pad = np.zeros((N, C, H + 2 * ph, W + 2 * pw))
    if fancy:
        for kh in range(KH):
            for kw in range(KW):
                for i in range(Ho):
                    for j in range(Wo):
                        dx_pad[:, :, i * sh + kh, j * sw + kw] = dout[:, :, i, j] @ w[:, :, kh, kw]
    else:
        for i in range(Ho):
            for j in range(Wo):
                dx_pad[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW] = (
                    w[F - 1][None] * dout[:, F - 1, i, j][:, None, None, None])
    return dx_pad[:, :, ph:ph + H, pw:pw + W]


def _transposed_backward(ref, dout, x, w, b, stride, padding):
    """The gradients of a forward pass that transposed the kernel (dw comes back transposed)."""
    dx, dw, db = ref.conv2d_backward(dout, x, transposed(w), b, stride, padding)
    return dx, transposed(dw), db


def _last_filter_only(dw):
    if len(dw) < 2:
        raise ValueError("one filter: nothing is left out")
    kept = np.zeros_like(dw)
    kept[-1] = dw[-1]
    return kept


def db_axes_variants(dout):
    """{axes: dout summed over them} for every other choice of axes than (0, 2, 3)."""
    dout = np.asarray(dout)
    found = {}
    for k in (1, 2, 3, 4):
        for axes in itertools.combinations(range(4), k):
            if axes != (0, 2, 3):
                found[axes] = dout.sum(axis=axes)
    return found


def backward_mistakes(ref, dout, x, w, b, stride=1, padding=0):
    """{mistake: (dx, dw, db) it gives} for a conv2d_backward call, computed lazily."""
    args = (ref, dout, x, w, b, stride, padding)
    triple = lambda f: lambda: f(*args)  # noqa: E731
    forward_bug = lambda variant: lambda: ref.conv2d_backward(dout, x, w, b, *variant)  # noqa: E731
    return {
        known.flipped_kernel: triple(flipped_backward),
        known.batch_mean: triple(batch_mean_backward),
        known.stride_pair_swapped: forward_bug((swap(stride), padding)),
        known.padding_first_only: lambda: forward_bug((stride, first_only(padding)))(),
        known.padding_pair_swapped: forward_bug((stride, swap(padding))),
        known.crop_empty_at_zero_padding: lambda: (crop_empty_backward(*args), None, None),
        known.padding_not_cropped: lambda: (uncropped_backward(*args), None, None),
        known.stride_ignored: triple(stride_ignored_backward),
        known.assign_overlap: lambda: (assign_overlap_backward(*args), None, None),
        known.kernel_transposed: lambda: _transposed_backward(ref, dout, x, w, b, stride, padding),
        known.db_keepdims: lambda: (None, None, np.asarray(dout).sum(axis=(0, 2, 3), keepdims=True)),
        known.dw_one_filter_only: lambda: (None, _last_filter_only(ref.conv2d_backward(dout, x, w, b, stride,
                                                                                        padding)[1]), None),
        known.assign_overlap_fancy: lambda: (assign_overlap_backward(*args, fancy=True), None, None),
    }
