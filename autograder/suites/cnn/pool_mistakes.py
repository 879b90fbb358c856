"""Known wrong versions of max pooling, so a failed check can name the mistake.

They run in the trusted process on the checks' small inputs, so plain loops
are fine. Each takes the same arguments as the reference function (the
forward ones also take the reference module) and returns what a typical
wrong solution returns. A variant that does not apply to a call raises
ValueError; `same` then skips it.
"""

import numpy as np

from autograder.suite import Variants

from .mistakes import known


def swap(pair):
    """(h, w) -> (w, h); an int or None stays as it is."""
    return (pair[1], pair[0]) if isinstance(pair, (tuple, list)) else pair


def _pair(value):
    return (int(value), int(value)) if np.isscalar(value) else (int(value[0]), int(value[1]))


def _positions(x, pool_size, stride):
    """Every window as (n, c, i, j, top, left), in row-major order of (n, c, i, j)."""
    ph, pw = _pair(pool_size)
    sh, sw = (ph, pw) if stride is None else _pair(stride)
    N, C, H, W = x.shape
    H_out, W_out = (H - ph) // sh + 1, (W - pw) // sw + 1
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    yield n, c, i, j, i * sh, j * sw


def _window(x, n, c, top, left, pool_size):
    """The index of one window of x."""
    ph, pw = _pair(pool_size)
    return (n, c, slice(top, top + ph), slice(left, left + pw))


# maxpool_forward --------------------------------------------------------
def stride_one_when_none(ref, x, pool_size=2, stride=None):
    """The lesson's MaxPool2d default: stride 1 instead of pool_size."""
    if stride is not None:
        raise ValueError("only when stride is None")
    return ref.maxpool_forward(x, pool_size, 1)



def swapped_forward(ref, x, pool_size=2, stride=None):
    """pool_size and stride read as (width, height)."""
    return ref.maxpool_forward(x, swap(pool_size), swap(stride))


def first_only_forward(ref, x, pool_size=2, stride=None):
    """pool_size and stride pairs read as (height, height)."""
    first = lambda p: (p[0], p[0]) if isinstance(p, (tuple, list)) else p  # noqa: E731
    if first(pool_size) == pool_size and first(stride) == stride:
        raise ValueError("only for pairs with unequal sides")
    return ref.maxpool_forward(x, first(pool_size), first(stride))


def _first_only_forms(ref, x, pool_size, stride):
    """The first value of a pair used for both axes: of both pairs, or of the stride alone (the stride
    the window sets when it is None, too: code reading `sh` for both axes)."""
    forms = []
    try:
        forms.append(first_only_forward(ref, x, pool_size, stride))
    except ValueError:
        pass
    step = _pair(pool_size if stride is None else stride)
    if step[0] != step[1]:
        forms.append(ref.maxpool_forward(x, pool_size, (step[0], step[0])))
    if not forms:
        raise ValueError("only for pairs with unequal sides")
    return forms


def average_forward(ref, x, pool_size=2, stride=None):
    """Average pooling instead of max pooling."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(ref.maxpool_forward(x, pool_size, stride).shape)
    for n, c, i, j, top, left in _positions(x, pool_size, stride):
        out[n, c, i, j] = x[_window(x, n, c, top, left, pool_size)].mean()
    return out


# maxpool_backward -------------------------------------------------------
def global_mask_backward(dout, x, pool_size=2, stride=None, binary=False):
    """The lesson's method: one mask summed over all windows, then each window
    multiplies its slice of that mask by its gradient. `binary`: the mask is
    clipped to 0/1 first (np.minimum(mask, 1), or `mask[...] = 1`)."""
    x = np.asarray(x, dtype=np.float64)
    mask = np.zeros_like(x)
    for n, c, i, j, top, left in _positions(x, pool_size, stride):
        where = _window(x, n, c, top, left, pool_size)
        mask[where] += x[where] == x[where].max()
    if binary:
        mask = np.minimum(mask, 1)
    dx = np.zeros_like(x)
    for n, c, i, j, top, left in _positions(x, pool_size, stride):
        where = _window(x, n, c, top, left, pool_size)
        dx[where] += mask[where] * dout[n, c, i, j]
    return dx


def all_ties_backward(dout, x, pool_size=2, stride=None):
    """Every cell equal to its window's maximum gets that window's whole gradient."""
    x = np.asarray(x, dtype=np.float64)
    dx = np.zeros_like(x)
    for n, c, i, j, top, left in _positions(x, pool_size, stride):
        where = _window(x, n, c, top, left, pool_size)
        dx[where] += (x[where] == x[where].max()) * dout[n, c, i, j]
    return dx


def _one_winner(x, pool_size, stride, last=False):
    """(n, c, i, j, row, col) of each window's first (or last) maximum."""
    ph, pw = _pair(pool_size)
    for n, c, i, j, top, left in _positions(x, pool_size, stride):
        flat = x[_window(x, n, c, top, left, pool_size)].reshape(-1)
        k = flat.size - 1 - int(np.argmax(flat[::-1])) if last else int(np.argmax(flat))
        yield n, c, i, j, top + k // pw, left + k % pw


def assign_backward(dout, x, pool_size=2, stride=None):
    """dx[winner] = g instead of += g: where windows share a winner, the last one wins.
    (A fancy-indexed dx[rows, cols] += g behaves the same way.)"""
    x = np.asarray(x, dtype=np.float64)
    dx = np.zeros_like(x)
    for n, c, i, j, row, col in _one_winner(x, pool_size, stride):
        dx[n, c, row, col] = dout[n, c, i, j]
    return dx


def assign_slice_backward(dout, x, pool_size=2, stride=None):
    """dx[window] = one_hot * g: each window overwrites its whole slice of dx."""
    x = np.asarray(x, dtype=np.float64)
    dx = np.zeros_like(x)
    for n, c, i, j, top, left in _positions(x, pool_size, stride):
        where = _window(x, n, c, top, left, pool_size)
        window = x[where]
        one_hot = np.zeros(window.size)
        one_hot[int(np.argmax(window))] = 1.0
        dx[where] = one_hot.reshape(window.shape) * dout[n, c, i, j]
    return dx


def last_max_backward(dout, x, pool_size=2, stride=None):
    """Ties go to the last maximum in row-major order instead of the first."""
    x = np.asarray(x, dtype=np.float64)
    dx = np.zeros_like(x)
    for n, c, i, j, row, col in _one_winner(x, pool_size, stride, last=True):
        dx[n, c, row, col] += dout[n, c, i, j]
    return dx


def split_ties_backward(dout, x, pool_size=2, stride=None):
    """Each tied maximum gets an equal share of its window's gradient (mask / mask.sum())."""
    x = np.asarray(x, dtype=np.float64)
    dx = np.zeros_like(x)
    for n, c, i, j, top, left in _positions(x, pool_size, stride):
        where = _window(x, n, c, top, left, pool_size)
        mask = x[where] == x[where].max()
        dx[where] += mask / mask.sum() * dout[n, c, i, j]
    return dx


def assign_slice_all_ties_backward(dout, x, pool_size=2, stride=None):
    """dx[window] = (window == max) * g: overwrites overlapping slices, and every tie gets g."""
    x = np.asarray(x, dtype=np.float64)
    dx = np.zeros_like(x)
    for n, c, i, j, top, left in _positions(x, pool_size, stride):
        where = _window(x, n, c, top, left, pool_size)
        dx[where] = (x[where] == x[where].max()) * dout[n, c, i, j]
    return dx


def _stepped_backward(dout, x, pool_size, steps, count):
    """Each window's gradient to its first maximum, window (i, j) taken at (i * steps[0], j * steps[1])
    for the `count` (rows, cols) of windows, NumPy slicing cutting a window short at the edge (as a
    student's x[n, c, top:top + PH, left:left + PW] does). Raises ValueError where that code crashes:
    an empty window, or a window without a gradient in dout."""
    x = np.asarray(x, dtype=np.float64)
    dout = np.asarray(dout, dtype=np.float64)
    (ph, pw), (rows, cols) = _pair(pool_size), count
    if rows > dout.shape[2] or cols > dout.shape[3]:
        raise ValueError("more windows than dout has gradients: the student's code reads past dout")
    dx = np.zeros_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(rows):
                for j in range(cols):
                    top, left = i * steps[0], j * steps[1]
                    window = x[n, c, top:top + ph, left:left + pw]
                    if window.size == 0:
                        raise ValueError("an empty window: the student's code crashes there")
                    r, q = np.unravel_index(int(np.argmax(window)), window.shape)
                    dx[n, c, top + r, left + q] += dout[n, c, i, j]
    return dx


def stride_ignored_backward(dout, x, pool_size=2, stride=None, step_one=False, own_count=False):
    """Backward that ignores the stride (6 of 17 implementations of one course): the windows move by
    pool_size (or by 1, `step_one`), over dout's windows, or (`own_count`) over as many as that step
    fits into x. Only where the stride is not that step does it differ from the right dx."""
    ph, pw = _pair(pool_size)
    steps = (1, 1) if step_one else (ph, pw)
    sh, sw = (ph, pw) if stride is None else _pair(stride)
    if (sh, sw) == steps:
        raise ValueError("the stride is that step: nothing is ignored")
    H, W = np.shape(x)[2:]
    count = ((H - ph) // steps[0] + 1, (W - pw) // steps[1] + 1) if own_count else np.shape(dout)[2:]
    return _stepped_backward(dout, x, pool_size, steps, count)


def fancy_add_backward(dout, x, pool_size=2, stride=None):
    """im2col's pooling backward with col2im's fancy-indexed `dx[:, k, i, j] += cols`: every window's
    column (its gradient at its first maximum, zeros elsewhere) is written, not added, so each cell
    keeps the value of the last kernel offset (kh, kw), in row-major order, whose window reaches it."""
    x = np.asarray(x, dtype=np.float64)
    ph, pw = _pair(pool_size)
    winners = {(n, c, i, j): (row - top, col - left) for (n, c, i, j, row, col), (*_, top, left)
               in zip(_one_winner(x, pool_size, stride), _positions(x, pool_size, stride))}
    if not winners:
        raise ValueError("no window")
    dx = np.zeros_like(x)
    for kh in range(ph):
        for kw in range(pw):
            for n, c, i, j, top, left in _positions(x, pool_size, stride):
                won = winners[(n, c, i, j)] == (kh, kw)
                dx[n, c, top + kh, left + kw] = dout[n, c, i, j] if won else 0.0
    return dx


def wrong_side_backward(dout, x, pool_size=2, stride=None):
    """Each window's gradient to its first maximum, its flat index k unravelled with the window's height
    (divmod(k, PH)) where its width belongs."""
    ph, pw = _pair(pool_size)
    if ph == pw:
        raise ValueError("a square window: both sides are the same")
    x = np.asarray(x, dtype=np.float64)
    dx = np.zeros_like(x)
    for n, c, i, j, top, left in _positions(x, pool_size, stride):
        k = int(np.argmax(x[_window(x, n, c, top, left, pool_size)].reshape(-1)))
        row, col = top + k // ph, left + k % ph
        if row >= x.shape[2] or col >= x.shape[3]:
            raise ValueError("outside x: that code crashes")
        dx[n, c, row, col] += dout[n, c, i, j]
    return dx


def whole_map_backward(dout, x, pool_size=2, stride=None):
    """Each window's gradient to every cell of its whole map that equals the window's maximum."""
    x = np.asarray(x, dtype=np.float64)
    dx = np.zeros_like(x)
    for n, c, i, j, top, left in _positions(x, pool_size, stride):
        dx[n, c] += (x[n, c] == x[_window(x, n, c, top, left, pool_size)].max()) * dout[n, c, i, j]
    return dx


def swapped_backward(dout, x, pool_size=2, stride=None, window=True, steps=True):
    """Backward with the pool_size pair (`window`) or the stride pair (`steps`) read as (width, height),
    over dout's windows (a stride of None follows the window as the code reads it)."""
    ph, pw = _pair(pool_size)
    if stride is None and not steps:
        raise ValueError("a stride of None follows the window: both pairs are read swapped (pool_pairs_swapped)")
    size = (pw, ph) if window else (ph, pw)
    step = size if stride is None else (swap(_pair(stride)) if steps else _pair(stride))
    if size == (ph, pw) and step == ((ph, pw) if stride is None else _pair(stride)):
        raise ValueError("square pairs: nothing is swapped")
    return _stepped_backward(dout, x, size, step, np.shape(dout)[2:])


def backward_mistakes(dout, x, pool_size=2, stride=None, ties_first=False):
    """The `mistakes` mapping for a maxpool_backward call (ties first for the tie checks)."""
    variants = {
        known.global_mask: lambda: global_mask_backward(dout, x, pool_size, stride),
        known.global_mask_01: lambda: global_mask_backward(dout, x, pool_size, stride, binary=True),
        known.all_ties: lambda: all_ties_backward(dout, x, pool_size, stride),
        known.split_ties: lambda: split_ties_backward(dout, x, pool_size, stride),
        known.assign_overlap: lambda: assign_backward(dout, x, pool_size, stride),
        known.assign_slice: lambda: assign_slice_backward(dout, x, pool_size, stride),
        known.assign_slice_all_ties: lambda: assign_slice_all_ties_backward(dout, x, pool_size, stride),
        known.last_max: lambda: last_max_backward(dout, x, pool_size, stride),
    }
    # The stride ignored (6 of 17 implementations of one course): windows moved by pool_size over
    # dout's windows, or as many as fit (the stride ignored altogether), or moved by 1.
    stepped = lambda **how: lambda: stride_ignored_backward(dout, x, pool_size, stride, **how)  # noqa: E731
    variants[known.pool_backward_step_is_window] = stepped()
    variants[known.pool_backward_stride_ignored] = stepped(own_count=True)
    variants[known.pool_backward_step_is_one] = stepped(step_one=True)
    variants[known.assign_overlap_fancy] = lambda: fancy_add_backward(dout, x, pool_size, stride)
    variants[known.argmax_unravelled_with_wrong_side] = lambda: wrong_side_backward(dout, x, pool_size, stride)
    variants[known.max_compared_with_whole_map] = lambda: whole_map_backward(dout, x, pool_size, stride)
    variants[known.pool_pairs_swapped] = lambda: swapped_backward(dout, x, pool_size, stride)
    variants[known.pool_window_swapped] = lambda: swapped_backward(dout, x, pool_size, stride, steps=False)
    variants[known.pool_stride_swapped] = lambda: swapped_backward(dout, x, pool_size, stride, window=False)
    if ties_first:
        order = [known.all_ties, known.split_ties, known.last_max, known.assign_slice_all_ties, known.global_mask,
                 known.global_mask_01, known.assign_overlap, known.assign_slice, known.pool_backward_step_is_window,
                 known.pool_backward_stride_ignored, known.pool_backward_step_is_one, known.assign_overlap_fancy,
                 known.argmax_unravelled_with_wrong_side, known.max_compared_with_whole_map,
                 known.pool_pairs_swapped,
                 known.pool_window_swapped, known.pool_stride_swapped]
        variants = {mistake: variants[mistake] for mistake in order}
    return variants


def forward_mistakes(ref, x, pool_size=2, stride=None):
    """The `mistakes` mapping for a maxpool_forward call."""
    return {
        known.pool_stride_one_when_none: lambda: stride_one_when_none(ref, x, pool_size, stride),
        known.pool_window_swapped: lambda: ref.maxpool_forward(x, swap(pool_size), stride),
        known.pool_stride_swapped: lambda: ref.maxpool_forward(x, pool_size, swap(stride)),
        known.pool_pairs_swapped: lambda: swapped_forward(ref, x, pool_size, stride),
        known.pool_first_only: lambda: Variants(_first_only_forms(ref, x, pool_size, stride)),
        known.average_pool: lambda: average_forward(ref, x, pool_size, stride),
    }
