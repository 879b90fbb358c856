"""Proof that the reference solution (solutions/cnn/cnn_layers.py) is right.

The autograder grades students against this reference, so it has to be
checked against authorities that do not share its code:

- PyTorch's results, frozen in tests/fixtures/torch_cases.npz (see
  tests/fixtures/make_torch_fixtures.py; torch itself is not needed here);
- numerical gradients by central differences;
- deliberately naive re-implementations written in this file (four nested
  loops, the lesson's wrong "global mask" pooling backward);
- hand-computed small cases.

Run: .venv/bin/python -m pytest tests/test_reference.py -q
"""

import doctest
import importlib.util
import re
import zlib
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_PATH = ROOT / "solutions" / "cnn" / "cnn_layers.py"
FIXTURES_PATH = ROOT / "tests" / "fixtures" / "torch_cases.npz"


def _load_reference():
    # Loaded by path under a private name so that it can never be confused
    # with a student's `cnn_layers` module imported elsewhere in the session.
    spec = importlib.util.spec_from_file_location("cnn_layers_reference", REFERENCE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ref = _load_reference()


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def as_pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def rel_error(actual, expected):
    """Norm-wise relative error ||a - e|| / (||a|| + ||e||).

    Norm-wise rather than element-wise because a gradient entry that happens
    to be close to zero would otherwise turn harmless round-off into a large
    relative error.
    """
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    scale = np.linalg.norm(actual) + np.linalg.norm(expected)
    return 0.0 if scale == 0 else np.linalg.norm(actual - expected) / scale


def numerical_gradient(loss, array, step=1e-5):
    """Central-difference gradient of the scalar loss() with respect to array.

    array (any shape, float64) is perturbed in place one entry at a time and
    restored; the result has array's shape.
    """
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + step
        plus = loss()
        array[index] = original - step
        minus = loss()
        array[index] = original
        grad[index] = (plus - minus) / (2 * step)
    return grad


def loop_conv2d_forward(x, w, b, stride=1, padding=0):
    """Convolution written as plainly as possible: four loops, one dot product each.

    x (N, C, H, W), w (F, C, KH, KW), b (F,) -> (N, F, H_out, W_out).
    """
    (s_h, s_w), (p_h, p_w) = as_pair(stride), as_pair(padding)
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    x_pad = np.zeros((N, C, H + 2 * p_h, W + 2 * p_w))
    x_pad[:, :, p_h : p_h + H, p_w : p_w + W] = x
    H_out = (H + 2 * p_h - KH) // s_h + 1
    W_out = (W + 2 * p_w - KW) // s_w + 1
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    patch = x_pad[n, :, i * s_h : i * s_h + KH, j * s_w : j * s_w + KW]
                    out[n, f, i, j] = np.sum(patch * w[f]) + b[f]
    return out


def window_slices(H_out, W_out, window, stride):
    """Yield (i, j, rows, cols): output cell and the input slices of its window."""
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride[0], i * stride[0] + window[0])
            cols = slice(j * stride[1], j * stride[1] + window[1])
            yield i, j, rows, cols


def global_mask_maxpool_backward(dout, x, pool_size, stride):
    """The lesson's WRONG pooling backward, kept here to prove the reference avoids it.

    It first builds one mask for the whole input (how many windows a cell is
    the maximum of), then lets every window hand its gradient to every
    masked cell inside it. With overlapping windows a cell that is the
    maximum of one window also collects the gradient of a neighbouring
    window in which it is not the maximum.
    """
    window, stride = as_pair(pool_size), as_pair(stride)
    H_out, W_out = dout.shape[2:]
    mask = np.zeros(x.shape)
    for _, _, rows, cols in window_slices(H_out, W_out, window, stride):
        patch = x[:, :, rows, cols]
        mask[:, :, rows, cols] += patch == patch.max(axis=(2, 3), keepdims=True)
    dx = np.zeros(x.shape)
    for i, j, rows, cols in window_slices(H_out, W_out, window, stride):
        dx[:, :, rows, cols] += mask[:, :, rows, cols] * dout[:, :, i, j][:, :, None, None]
    return dx


def distinct_values(rng, shape):
    """Continuous random values in [-2, 2) that are far apart from each other.

    Max pooling is differentiable only where no window has a tie, and central
    differences need each window's winner to stay the same within one step.
    A shuffled evenly spaced grid plus jitter guarantees a gap of at least
    2 / size between any two values, where plain normal draws can come
    within 1e-4 of each other.
    """
    size = int(np.prod(shape))
    grid = rng.permutation(size) + rng.uniform(-0.25, 0.25, size)
    return (grid * (4.0 / size) - 2.0).reshape(shape)


# --------------------------------------------------------------------------
# PyTorch fixtures
# --------------------------------------------------------------------------

def load_fixture_cases(path):
    """{"conv": [case, ...], "pool": [...]} with each case a dict of arrays.

    A case is the group of keys sharing a prefix such as `conv_03_`; the
    part after the prefix names the array (x, w, params, dout, dx, ...).
    Read eagerly so no file handle stays open during the session.
    """
    cases = {"conv": {}, "pool": {}}
    with np.load(path, allow_pickle=False) as archive:
        for key in archive.files:
            kind, number, field = re.fullmatch(r"(conv|pool)_(\d+)_(\w+)", key).groups()
            cases[kind].setdefault(f"{kind}_{number}", {})[field] = archive[key]
    return {kind: (list(by_name.values()), list(by_name)) for kind, by_name in cases.items()}


FIXTURE_CASES = load_fixture_cases(FIXTURES_PATH)
CONV_FIXTURES, CONV_FIXTURE_IDS = FIXTURE_CASES["conv"]
POOL_FIXTURES, POOL_FIXTURE_IDS = FIXTURE_CASES["pool"]

TORCH_RTOL, TORCH_ATOL = 1e-10, 1e-12


def test_fixture_file_has_the_expected_cases():
    assert len(CONV_FIXTURES) >= 10 and len(POOL_FIXTURES) >= 10
    assert all(case["x"].dtype == np.float64 for case in CONV_FIXTURES + POOL_FIXTURES)
    # The tie rule must really be exercised: some windows hold their maximum twice.
    tied = [case for case in POOL_FIXTURES if len(np.unique(case["x"])) < case["x"].size // 2]
    assert len(tied) >= 3


@pytest.mark.parametrize("case", CONV_FIXTURES, ids=CONV_FIXTURE_IDS)
def test_conv2d_matches_torch(case):
    s_h, s_w, p_h, p_w = (int(v) for v in case["params"])
    stride, padding = (s_h, s_w), (p_h, p_w)
    out = ref.conv2d_forward(case["x"], case["w"], case["b"], stride, padding)
    assert out.dtype == np.float64 and out.shape == case["out"].shape
    np.testing.assert_allclose(out, case["out"], rtol=TORCH_RTOL, atol=TORCH_ATOL)
    dx, dw, db = ref.conv2d_backward(case["dout"], case["x"], case["w"], case["b"], stride, padding)
    np.testing.assert_allclose(dx, case["dx"], rtol=TORCH_RTOL, atol=TORCH_ATOL)
    np.testing.assert_allclose(dw, case["dw"], rtol=TORCH_RTOL, atol=TORCH_ATOL)
    np.testing.assert_allclose(db, case["db"], rtol=TORCH_RTOL, atol=TORCH_ATOL)


@pytest.mark.parametrize("case", POOL_FIXTURES, ids=POOL_FIXTURE_IDS)
def test_maxpool_matches_torch(case):
    ph, pw, s_h, s_w = (int(v) for v in case["params"])
    out = ref.maxpool_forward(case["x"], (ph, pw), (s_h, s_w))
    np.testing.assert_array_equal(out, case["out"])
    dx = ref.maxpool_backward(case["dout"], case["x"], (ph, pw), (s_h, s_w))
    assert dx.dtype == np.float64 and dx.shape == case["x"].shape
    np.testing.assert_allclose(dx, case["dx"], rtol=TORCH_RTOL, atol=TORCH_ATOL)


# --------------------------------------------------------------------------
# Numerical gradients
# --------------------------------------------------------------------------

GRAD_TOLERANCE = 1e-7

# (N, C, H, W, F, kernel, stride, padding)
CONV_GRAD_CONFIGS = [
    (2, 2, 5, 5, 3, 3, 1, 1),
    (2, 3, 5, 6, 2, (2, 3), (2, 1), (1, 0)),
    (1, 2, 6, 5, 2, (3, 2), (2, 3), (1, 2)),
    (2, 2, 6, 7, 2, (3, 3), 2, 0),  # ragged: (6 - 3) / 2 and (7 - 3) / 2 are not both whole
    (3, 1, 4, 4, 2, 1, 1, 0),
]


@pytest.mark.parametrize("config", CONV_GRAD_CONFIGS, ids=str)
def test_conv2d_backward_matches_numerical_gradient(config):
    N, C, H, W, F, kernel, stride, padding = config
    KH, KW = as_pair(kernel)
    rng = np.random.default_rng(zlib.crc32(str(config).encode()))
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((F, C, KH, KW))
    b = rng.standard_normal(F)
    dout = rng.standard_normal(ref.conv2d_forward(x, w, b, stride, padding).shape)

    def loss():
        return np.sum(dout * ref.conv2d_forward(x, w, b, stride, padding))

    dx, dw, db = ref.conv2d_backward(dout, x, w, b, stride, padding)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    assert rel_error(dx, numerical_gradient(loss, x)) < GRAD_TOLERANCE
    assert rel_error(dw, numerical_gradient(loss, w)) < GRAD_TOLERANCE
    assert rel_error(db, numerical_gradient(loss, b)) < GRAD_TOLERANCE


# (N, C, H, W, pool_size, stride)
POOL_GRAD_CONFIGS = [
    (2, 2, 4, 6, 2, None),
    (2, 2, 5, 5, 2, 1),  # overlapping 2x2 / stride 1
    (1, 2, 7, 7, 3, 2),  # overlapping 3x3 / stride 2
    (2, 1, 5, 7, (2, 3), (1, 2)),  # non-square window and stride
    (1, 2, 5, 6, (3, 2), (2, 1)),
]


@pytest.mark.parametrize("config", POOL_GRAD_CONFIGS, ids=str)
def test_maxpool_backward_matches_numerical_gradient(config):
    N, C, H, W, pool_size, stride = config
    rng = np.random.default_rng(zlib.crc32(str(config).encode()))
    x = distinct_values(rng, (N, C, H, W))
    dout = rng.standard_normal(ref.maxpool_forward(x, pool_size, stride).shape)

    def loss():
        return np.sum(dout * ref.maxpool_forward(x, pool_size, stride))

    dx = ref.maxpool_backward(dout, x, pool_size, stride)
    assert rel_error(dx, numerical_gradient(loss, x, step=1e-6)) < GRAD_TOLERANCE


# --------------------------------------------------------------------------
# Max pooling: the tie rule and the lesson's mistake
# --------------------------------------------------------------------------


def test_all_equal_window_sends_whole_gradient_to_top_left():
    x = np.full((1, 1, 4, 4), 3.0)
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    dx = ref.maxpool_backward(dout, x, pool_size=2)
    expected = np.zeros((1, 1, 4, 4))
    expected[0, 0, ::2, ::2] = [[1.0, 2.0], [3.0, 4.0]]
    np.testing.assert_array_equal(dx, expected)


def test_first_maximum_in_row_major_order_wins():
    # The window's maximum 7 appears at (0, 1) and (1, 0): row-major order
    # reaches (0, 1) first. Column-major order would pick (1, 0).
    x = np.array([[[[1.0, 7.0], [7.0, 7.0]]]])
    dx = ref.maxpool_backward(np.array([[[[5.0]]]]), x, pool_size=2)
    np.testing.assert_array_equal(dx, [[[[0.0, 5.0], [0.0, 0.0]]]])


def test_all_equal_input_with_overlap_routes_each_window_to_its_own_corner():
    x = np.zeros((1, 1, 3, 3))
    dout = np.array([[[[1.0, 10.0], [100.0, 1000.0]]]])
    dx = ref.maxpool_backward(dout, x, pool_size=2, stride=1)
    np.testing.assert_array_equal(dx[0, 0], [[1.0, 10.0, 0.0], [100.0, 1000.0, 0.0], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize(
    "pool_size, stride", [(2, None), (2, 1), (3, 2), (3, 1), ((2, 3), (1, 2))], ids=str
)
def test_maxpool_backward_conserves_gradient_even_with_ties(pool_size, stride):
    rng = np.random.default_rng(7)
    x = rng.integers(0, 3, size=(2, 3, 7, 8)).astype(np.float64)
    dout = rng.standard_normal(ref.maxpool_forward(x, pool_size, stride).shape)
    dx = ref.maxpool_backward(dout, x, pool_size, stride)
    # Every window passes its gradient to exactly one cell: nothing is lost or duplicated.
    assert np.isclose(dx.sum(), dout.sum(), rtol=1e-12, atol=1e-12)
    # Per channel as well, so gradient never leaks across channels or images.
    np.testing.assert_allclose(dx.sum(axis=(2, 3)), dout.sum(axis=(2, 3)), rtol=1e-12, atol=1e-12)


def test_global_mask_version_is_right_without_overlap():
    # Sanity check of the wrong version itself: without overlap or ties it is
    # correct, so any difference below really comes from overlapping windows.
    x = distinct_values(np.random.default_rng(3), (2, 2, 6, 6))
    dout = np.random.default_rng(4).standard_normal((2, 2, 3, 3))
    np.testing.assert_allclose(
        global_mask_maxpool_backward(dout, x, 2, 2), ref.maxpool_backward(dout, x, 2, 2), rtol=1e-14
    )


@pytest.mark.parametrize("pool_size, stride", [(2, 1), (3, 2), (3, 1), ((2, 3), (1, 2))], ids=str)
def test_reference_avoids_global_mask_mistake_with_overlap(pool_size, stride):
    rng = np.random.default_rng(11)
    x = distinct_values(rng, (1, 2, 6, 7))
    dout = rng.standard_normal(ref.maxpool_forward(x, pool_size, stride).shape)
    dx = ref.maxpool_backward(dout, x, pool_size, stride)
    wrong = global_mask_maxpool_backward(dout, x, pool_size, stride)

    def loss():
        return np.sum(dout * ref.maxpool_forward(x, pool_size, stride))

    numerical = numerical_gradient(loss, x, step=1e-6)
    assert rel_error(dx, numerical) < GRAD_TOLERANCE
    assert rel_error(wrong, numerical) > 1e-3
    assert not np.allclose(dx, wrong)


def test_docstring_example_with_tie_and_overlap():
    # 2x2 windows, stride 1. Left window [[1, 3], [3, 0]]: its maximum 3 is
    # tied, the first one in row-major order is (0, 1). Right window
    # [[3, 2], [0, 1]]: maximum at (0, 1) again. So (0, 1) gets 10 + 20.
    # The global mask counts (0, 1) twice and (1, 0) once, and gives
    # (0, 1) 2*10 + 2*20 = 60 and (1, 0) 10: wrong on both counts.
    x = np.array([[[[1.0, 3.0, 2.0], [3.0, 0.0, 1.0]]]])
    dout = np.array([[[[10.0, 20.0]]]])
    dx = ref.maxpool_backward(dout, x, pool_size=2, stride=1)
    np.testing.assert_array_equal(dx, [[[[0.0, 30.0, 0.0], [0.0, 0.0, 0.0]]]])
    wrong = global_mask_maxpool_backward(dout, x, 2, 1)
    np.testing.assert_array_equal(wrong, [[[[0.0, 60.0, 0.0], [10.0, 0.0, 0.0]]]])


# --------------------------------------------------------------------------
# conv_output_size
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size, kernel, stride, padding, expected",
    [
        (5, 3, 1, 0, 3),
        (5, 3, 1, 1, 5),
        (5, 2, 1, 1, 6),
        (7, 3, 2, 0, 3),
        (6, 3, 2, 0, 2),  # (6 - 3) / 2 = 1.5 -> 1, plus 1
        (7, 3, 2, 1, 4),  # (7 + 2 - 3) / 2 = 3, plus 1
        (8, 3, 3, 1, 3),  # (8 + 2 - 3) / 3 = 2.33 -> 2, plus 1
        (4, 4, 1, 0, 1),
        (1, 1, 5, 0, 1),
        (3, 5, 1, 1, 1),  # kernel larger than the input, fits once thanks to padding
        (32, 3, 1, 1, 32),
    ],
)
def test_conv_output_size(size, kernel, stride, padding, expected):
    result = ref.conv_output_size(size, kernel, stride, padding)
    assert result == expected and isinstance(result, int)


def test_conv_output_size_defaults():
    assert ref.conv_output_size(5, 3) == 3


@pytest.mark.parametrize(
    "size, kernel, stride, padding",
    [
        (5, 0, 1, 0),  # kernel < 1
        (5, -1, 1, 0),
        (5, 3, 0, 0),  # stride < 1
        (5, 3, -2, 0),
        (5, 3, 1, -1),  # padding < 0
        (2, 3, 1, 0),  # kernel does not fit: result would be 0
        (1, 4, 1, 1),  # does not fit even with padding
    ],
)
def test_conv_output_size_rejects_impossible_settings(size, kernel, stride, padding):
    with pytest.raises(ValueError):
        ref.conv_output_size(size, kernel, stride, padding)


# --------------------------------------------------------------------------
# pad
# --------------------------------------------------------------------------


def test_pad_int():
    x = np.arange(4.0).reshape(1, 1, 2, 2)
    out = ref.pad(x, 1)
    expected = np.array([[0, 0, 0, 0], [0, 0, 1, 0], [0, 2, 3, 0], [0, 0, 0, 0]], dtype=float)
    np.testing.assert_array_equal(out[0, 0], expected)


def test_pad_pair_is_height_then_width():
    x = np.ones((1, 1, 2, 3))
    out = ref.pad(x, (1, 2))
    assert out.shape == (1, 1, 4, 7)
    np.testing.assert_array_equal(out[0, 0, 1:3, 2:5], 1.0)
    assert out.sum() == 6.0


def test_pad_per_side():
    x = np.arange(4).reshape(1, 1, 2, 2)
    out = ref.pad(x, ((0, 1), (2, 0)), value=9)
    np.testing.assert_array_equal(out[0, 0], [[9, 9, 0, 1], [9, 9, 2, 3], [9, 9, 9, 9]])


def test_pad_per_side_asymmetric_all_four():
    x = np.ones((2, 3, 2, 2))
    out = ref.pad(x, ((1, 2), (3, 0)), value=-5.0)
    assert out.shape == (2, 3, 5, 5)
    np.testing.assert_array_equal(out[:, :, 1:3, 3:5], 1.0)
    assert np.sum(out == -5.0) == 2 * 3 * (25 - 4)


@pytest.mark.parametrize("padding", [0, (0, 0), ((0, 0), (0, 0))], ids=str)
def test_pad_zero_returns_equal_copy(padding):
    x = np.arange(6.0).reshape(1, 1, 2, 3)
    out = ref.pad(x, padding)
    np.testing.assert_array_equal(out, x)
    assert not np.shares_memory(out, x)


@pytest.mark.parametrize("dtype", [np.int32, np.float32, np.float64, np.uint8])
def test_pad_keeps_dtype(dtype):
    x = np.ones((1, 2, 3, 3), dtype=dtype)
    assert ref.pad(x, 1).dtype == dtype
    assert ref.pad(x, (1, 2), value=7).dtype == dtype


def test_pad_leaves_input_alone_and_returns_new_array():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    before = x.copy()
    out = ref.pad(x, 2, value=1.5)
    np.testing.assert_array_equal(x, before)
    assert not np.shares_memory(out, x)
    out[...] = 0
    np.testing.assert_array_equal(x, before)


def test_pad_touches_only_spatial_axes():
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    out = ref.pad(x, ((1, 2), (3, 4)), value=np.nan)
    assert out.shape == (2, 3, 7, 12)
    np.testing.assert_array_equal(out[:, :, 1:5, 3:8], x)
    # Every padded cell holds the value, and no image or channel was added.
    assert np.isnan(out).sum() == 2 * 3 * (7 * 12 - 4 * 5)


# --------------------------------------------------------------------------
# conv2d_forward
# --------------------------------------------------------------------------


def test_conv2d_forward_kernel_is_not_flipped():
    # Hand-computed cross-correlation with an asymmetric kernel:
    # out[i, j] = 1*x[i, j] + 2*x[i, j+1] + 3*x[i+1, j] + 4*x[i+1, j+1].
    # A flipped kernel (true convolution) would give 4*x[i, j] + ... instead.
    x = np.array([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]])
    w = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    out = ref.conv2d_forward(x, w, np.zeros(1))
    np.testing.assert_array_equal(out, [[[[37.0, 47.0], [67.0, 77.0]]]])


def test_conv2d_forward_docstring_example_with_bias():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
    np.testing.assert_array_equal(ref.conv2d_forward(x, w, np.array([0.5])), np.full((1, 1, 2, 2), -3.5))


def test_conv2d_forward_bias_is_per_filter():
    x = np.zeros((2, 1, 4, 4))
    w = np.ones((3, 1, 2, 2))
    b = np.array([1.0, -2.0, 0.25])
    out = ref.conv2d_forward(x, w, b, padding=1)
    assert out.shape == (2, 3, 5, 5)
    np.testing.assert_array_equal(out, np.broadcast_to(b[None, :, None, None], out.shape))


def test_conv2d_forward_integer_inputs_give_float64():
    x = np.arange(16, dtype=np.int32).reshape(1, 1, 4, 4)
    w = np.ones((2, 1, 3, 3), dtype=np.int64)
    b = np.array([1, 2], dtype=np.int32)
    out = ref.conv2d_forward(x, w, b)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, loop_conv2d_forward(x, w, b))


def test_conv2d_forward_float32_inputs_give_float64():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    w = rng.standard_normal((2, 2, 3, 3)).astype(np.float32)
    out = ref.conv2d_forward(x, w, np.zeros(2, dtype=np.float32))
    assert out.dtype == np.float64


def test_conv2d_leaves_inputs_unchanged():
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    dout = rng.standard_normal((2, 4, 3, 3))
    copies = [a.copy() for a in (x, w, b, dout)]
    ref.conv2d_forward(x, w, b, stride=2, padding=1)
    ref.conv2d_backward(dout, x, w, b, stride=2, padding=1)
    for original, copy in zip((x, w, b, dout), copies):
        np.testing.assert_array_equal(original, copy)


# (N, C, H, W, F, kernel, stride, padding)
LOOP_CONFIGS = [
    (2, 3, 6, 6, 4, 3, 1, 0),
    (2, 3, 6, 6, 4, 3, 1, 1),
    (1, 2, 7, 9, 3, (2, 4), (2, 3), (1, 2)),
    (3, 1, 5, 8, 2, (3, 1), (1, 2), (2, 0)),
    (2, 4, 8, 7, 5, 3, 3, 1),
    (1, 1, 1, 1, 1, 1, 1, 0),
]


@pytest.mark.parametrize("config", LOOP_CONFIGS, ids=str)
def test_conv2d_forward_equals_four_loops(config):
    N, C, H, W, F, kernel, stride, padding = config
    KH, KW = as_pair(kernel)
    rng = np.random.default_rng(zlib.crc32(str(config).encode()))
    x, w, b = rng.standard_normal((N, C, H, W)), rng.standard_normal((F, C, KH, KW)), rng.standard_normal(F)
    out = ref.conv2d_forward(x, w, b, stride, padding)
    expected = loop_conv2d_forward(x, w, b, stride, padding)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_conv2d_backward_docstring_example():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    dx, dw, db = ref.conv2d_backward(np.ones((1, 1, 2, 2)), x, np.ones((1, 1, 2, 2)), np.zeros(1))
    np.testing.assert_array_equal(dx[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    np.testing.assert_array_equal(dw[0, 0], [[8, 12], [20, 24]])
    np.testing.assert_array_equal(db, [4.0])


def test_conv2d_backward_drops_uncovered_cells():
    # (6 - 3) / 2 is not whole: the last row and column of x are never under
    # a window, so they must get no gradient at all.
    rng = np.random.default_rng(8)
    x, w, b = rng.standard_normal((1, 2, 6, 6)), rng.standard_normal((2, 2, 3, 3)), np.zeros(2)
    dx, _, _ = ref.conv2d_backward(np.ones((1, 2, 2, 2)), x, w, b, stride=2)
    assert np.all(dx[:, :, 5, :] == 0) and np.all(dx[:, :, :, 5] == 0)
    assert dx.dtype == np.float64


# --------------------------------------------------------------------------
# maxpool_forward
# --------------------------------------------------------------------------


def test_maxpool_forward_docstring_example():
    x = np.array([[[[1, 5, 2, 0], [3, 4, 8, 1], [0, 2, 6, 7], [9, 1, 3, 2]]]])
    np.testing.assert_array_equal(ref.maxpool_forward(x, pool_size=2), [[[[5, 8], [9, 7]]]])


@pytest.mark.parametrize("pool_size, stride", [(2, None), (2, 1), (3, 2), ((2, 3), (1, 2)), (1, 1)], ids=str)
def test_maxpool_forward_equals_loops(pool_size, stride):
    x = np.random.default_rng(9).standard_normal((2, 3, 7, 8))
    window = as_pair(pool_size)
    steps = window if stride is None else as_pair(stride)
    H_out, W_out = (7 - window[0]) // steps[0] + 1, (8 - window[1]) // steps[1] + 1
    expected = np.zeros((2, 3, H_out, W_out))
    for i, j, rows, cols in window_slices(H_out, W_out, window, steps):
        expected[:, :, i, j] = x[:, :, rows, cols].max(axis=(2, 3))
    out = ref.maxpool_forward(x, pool_size, stride)
    np.testing.assert_array_equal(out, expected)


def test_maxpool_stride_defaults_to_pool_size():
    x = np.random.default_rng(10).standard_normal((1, 2, 6, 6))
    np.testing.assert_array_equal(ref.maxpool_forward(x, 3), ref.maxpool_forward(x, 3, 3))
    assert ref.maxpool_forward(x).shape == (1, 2, 3, 3)
    dout = np.ones((1, 2, 2, 2))
    np.testing.assert_array_equal(ref.maxpool_backward(dout, x, 3), ref.maxpool_backward(dout, x, 3, 3))


def test_maxpool_leaves_input_unchanged():
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 2, 5, 5))
    dout = rng.standard_normal((2, 2, 4, 4))
    before, dout_before = x.copy(), dout.copy()
    ref.maxpool_forward(x, 2, 1)
    ref.maxpool_backward(dout, x, 2, 1)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(dout, dout_before)


# --------------------------------------------------------------------------
# The layer classes
# --------------------------------------------------------------------------


def test_conv2d_layer_shapes_and_init():
    layer = ref.Conv2d(3, 8, kernel_size=(3, 5), stride=2, padding=(1, 2))
    assert layer.W.data.shape == (8, 3, 3, 5) and layer.b.data.shape == (8,)
    assert layer.W.data.dtype == np.float64
    np.testing.assert_array_equal(layer.b.data, 0.0)
    np.testing.assert_array_equal(layer.W.grad, 0.0)
    np.testing.assert_array_equal(layer.b.grad, 0.0)
    assert layer(np.zeros((2, 3, 7, 9))).shape == (2, 8, 4, 5)


def test_conv2d_layer_he_initialisation():
    # The contract draws from NumPy's global generator: seed it for a
    # repeatable test, and put its state back for the tests that follow.
    saved_state = np.random.get_state()
    np.random.seed(1234)
    try:
        layer = ref.Conv2d(64, 128, 3)
    finally:
        np.random.set_state(saved_state)
    expected_std = np.sqrt(2.0 / (64 * 3 * 3))
    # 73,728 samples: the sample std is within ~0.3% of the true one.
    assert abs(layer.W.data.std() / expected_std - 1) < 0.03
    assert abs(layer.W.data.mean()) < 0.02 * expected_std
    np.testing.assert_array_equal(layer.b.data, np.zeros(128))


def test_conv2d_layer_parameters_are_w_then_b():
    layer = ref.Conv2d(2, 3, 3)
    params = layer.parameters()
    assert len(params) == 2 and params[0] is layer.W and params[1] is layer.b
    assert all(isinstance(p, ref.Parameter) for p in params)


def conv_layer_setup(seed=13):
    rng = np.random.default_rng(seed)
    layer = ref.Conv2d(3, 4, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0))
    x = rng.standard_normal((2, 3, 6, 5))
    return layer, x, rng


def test_conv2d_layer_forward_and_call_equal_function():
    layer, x, _ = conv_layer_setup()
    expected = ref.conv2d_forward(x, layer.W.data, layer.b.data, (2, 1), (1, 0))
    np.testing.assert_array_equal(layer.forward(x), expected)
    np.testing.assert_array_equal(layer(x), expected)


def test_conv2d_layer_backward_accumulates_and_zero_grad_resets():
    layer, x, rng = conv_layer_setup()
    out = layer(x)
    dout = rng.standard_normal(out.shape)
    dx_expected, dw, db = ref.conv2d_backward(dout, x, layer.W.data, layer.b.data, (2, 1), (1, 0))
    dx = layer.backward(dout)
    np.testing.assert_allclose(dx, dx_expected, rtol=1e-14)
    np.testing.assert_allclose(layer.W.grad, dw, rtol=1e-14)
    np.testing.assert_allclose(layer.b.grad, db, rtol=1e-14)
    layer.backward(dout)
    np.testing.assert_allclose(layer.W.grad, 2 * dw, rtol=1e-14)
    np.testing.assert_allclose(layer.b.grad, 2 * db, rtol=1e-14)
    layer.zero_grad()
    np.testing.assert_array_equal(layer.W.grad, 0.0)
    np.testing.assert_array_equal(layer.b.grad, 0.0)
    assert layer.W.grad.shape == layer.W.data.shape and layer.b.grad.shape == layer.b.data.shape


def test_conv2d_layer_backward_uses_last_forward_input():
    layer, x, rng = conv_layer_setup()
    layer(rng.standard_normal(x.shape))
    out = layer(x)
    dout = rng.standard_normal(out.shape)
    layer.backward(dout)
    _, dw, _ = ref.conv2d_backward(dout, x, layer.W.data, layer.b.data, (2, 1), (1, 0))
    np.testing.assert_allclose(layer.W.grad, dw, rtol=1e-14)


def test_maxpool_layer_equals_functions():
    rng = np.random.default_rng(14)
    x = rng.standard_normal((2, 3, 7, 7))
    pool = ref.MaxPool2d(3, 2)
    out = pool(x)
    np.testing.assert_array_equal(out, ref.maxpool_forward(x, 3, 2))
    np.testing.assert_array_equal(pool.forward(x), out)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_array_equal(pool.backward(dout), ref.maxpool_backward(dout, x, 3, 2))
    assert pool.parameters() == []


def test_maxpool_layer_defaults():
    pool = ref.MaxPool2d()
    x = np.random.default_rng(15).standard_normal((1, 1, 4, 6))
    assert pool(x).shape == (1, 1, 2, 3)
    np.testing.assert_array_equal(ref.MaxPool2d(2)(x), ref.maxpool_forward(x, 2, 2))
    np.testing.assert_array_equal(ref.MaxPool2d(3)(np.ones((1, 1, 6, 6))), np.ones((1, 1, 2, 2)))


# --------------------------------------------------------------------------
# The docstrings students read
# --------------------------------------------------------------------------


def test_reference_docstring_examples_run():
    # Students learn the contract from these examples: they must be true.
    failures, attempted = doctest.testmod(ref, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert attempted > 0 and failures == 0


@pytest.mark.parametrize("stride, padding", [(1, 1), ((2, 1), (1, 0)), (3, (0, 2))])
def test_the_hidden_suites_batched_numerical_gradients_match_entry_by_entry_ones(stride, padding):
    """The suite perturbs every entry in one batched call; it must equal one call per entry."""
    from autograder.suites.cnn.gradients import conv_numerical_gradients, numerical_gradient

    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((2, 2, 7, 6)), rng.standard_normal((3, 2, 3, 2)), rng.standard_normal(3)
    dout = rng.standard_normal(ref.conv2d_forward(x, w, b, stride, padding).shape)
    loss = lambda: float(np.sum(dout * ref.conv2d_forward(x, w, b, stride, padding)))  # noqa: E731
    for batched, param in zip(conv_numerical_gradients(ref, dout, x, w, b, stride, padding), (x, w, b)):
        assert batched.shape == param.shape
        np.testing.assert_allclose(batched, numerical_gradient(loss, param), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("pool_size, stride", [((2, 3), (1, 2)), (3, 1), (2, None)])
def test_the_hidden_suites_batched_pooling_gradient_matches_the_entry_by_entry_one(pool_size, stride):
    from autograder.suites.cnn.gradients import batch_numerical_gradient, numerical_gradient

    rng = np.random.default_rng(3)
    x = rng.permutation(2 * 2 * 6 * 7).reshape(2, 2, 6, 7) / 10.0  # distinct values: no ties to break
    dout = rng.standard_normal(ref.maxpool_forward(x, pool_size, stride).shape)
    batched = batch_numerical_gradient(
        lambda xs: np.einsum("knchw,nchw->k", ref.maxpool_forward(
            xs.reshape(-1, *x.shape[1:]), pool_size, stride).reshape(len(xs), *dout.shape), dout), x)
    single = numerical_gradient(lambda: float(np.sum(dout * ref.maxpool_forward(x, pool_size, stride))), x)
    np.testing.assert_allclose(batched, single, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(batched, ref.maxpool_backward(dout, x, pool_size, stride), rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------
# Integer inputs: float64 out of every convolution and pooling path
# --------------------------------------------------------------------------


def test_integer_inputs_give_float64_everywhere_but_pad():
    rng = np.random.default_rng(13)
    x = rng.integers(-9, 10, (2, 3, 6, 7))
    w, b = rng.integers(-3, 4, (4, 3, 3, 2)), rng.integers(-5, 6, 4)
    dout = rng.standard_normal(ref.conv2d_forward(x, w, b, 2, 1).shape)
    assert ref.conv2d_forward(x, w, b, 2, 1).dtype == np.float64
    grads = ref.conv2d_backward(dout, x, w, b, 2, 1)
    assert [g.dtype for g in grads] == [np.float64] * 3
    expected = ref.conv2d_backward(dout, x.astype(float), w.astype(float), b.astype(float), 2, 1)
    for got, want in zip(grads, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    out = ref.maxpool_forward(x, 2, 1)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, ref.maxpool_forward(x.astype(float), 2, 1))
    pooled = rng.standard_normal(out.shape)
    assert ref.maxpool_backward(pooled, x, 2, 1).dtype == np.float64
    layer = ref.MaxPool2d(3, stride=(2, 1))
    assert layer(x).dtype == np.float64
    assert layer.backward(rng.standard_normal(layer(x).shape)).dtype == np.float64
    conv = ref.Conv2d(3, 4, (3, 2), stride=2, padding=1)
    assert conv(x).dtype == np.float64 and conv.backward(dout).dtype == np.float64
    assert ref.pad(x, 1).dtype == x.dtype  # pad keeps the dtype, as np.pad does
