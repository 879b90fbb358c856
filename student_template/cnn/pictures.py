"""Pictures of your own layers at work (given; you do not need to change it).

Each function takes YOUR functions or classes and draws what they do:

    pictures.output_size(conv_output_size)   where a kernel fits along one axis
    pictures.padding(pad)                    an image with its padding in orange
    pictures.convolution(conv2d_forward)     a photo through edge and blur filters
    pictures.pooling(maxpool_forward[, maxpool_backward])
                                             pooled windows and where each gradient goes
    pictures.layers(Conv2d, MaxPool2d)       feature maps of a freshly made layer

Until a function works, its picture prints one line saying what to finish or fix.
The notebook calls these in its "see it" cells. From the command line,

    python pictures.py

imports cnn_layers.py from this folder and saves every picture into pictures/.

The photo (grace_hopper.npy) is Grace Hopper, a U.S. Navy photograph in the public domain,
in grayscale at 75 x 64 pixels (the copy matplotlib ships as sample data).
Nothing here is graded: the grader never runs these cells.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PHOTO = HERE / "grace_hopper.npy"

# Hand-made 3x3 filters (cross-correlation, as your conv2d_forward computes).
FILTERS = {
    "vertical edges": np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]),
    "horizontal edges": np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]]),
    "blur": np.full((3, 3), 1.0 / 9.0),
}
# A small feature map for pooling: window (0, 0) of the 2x2 stride-2 pooling holds a tie (two 5s),
# and the 9 is the maximum of four overlapping windows at stride 1. The last row and column do
# not fit a stride-2 window.
POOL_INPUT = np.array([
    [1.0, 5.0, 2.0, 0.0, 4.0],
    [3.0, 5.0, 8.0, 1.0, 2.0],
    [0.0, 2.0, 9.0, 7.0, 1.0],
    [4.0, 6.0, 3.0, 2.0, 0.0],
    [2.0, 1.0, 0.0, 5.0, 3.0],
])
WINDOW_COLOURS = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink"]


class Unfinished(Exception):
    """A function of yours is not finished or not right yet; the message is the one line to print."""


def photo() -> np.ndarray:
    """The photo as a float array of shape (1, 1, 75, 64), values in [0, 1]."""
    return (np.load(PHOTO).astype(np.float64) / 255.0)[None, None]


def _call(name: str, function, *args, **kwargs):
    """Your function's result; any exception it raises becomes one line (no traceback)."""
    try:
        return function(*args, **kwargs)
    except NotImplementedError as exc:
        # The handout's stubs say whose stub it is: "pad: add the requested rows..."
        stub = str(exc).split(":", 1)[0].strip()
        if not stub.replace(".", "").replace("_", "").isalnum():
            stub = name
        raise Unfinished(f"finish `{stub}` to see this") from None
    except Exception as exc:  # noqa: BLE001 - the student's code may raise anything
        message = (str(exc).strip().splitlines() or [""])[0]
        message = message if len(message) <= 100 else message[:97] + "..."
        raise Unfinished(f"`{name}` raised {type(exc).__name__}{': ' + message if message else ''}; "
                         "fix it to see this") from None


def _array(name: str, value, shape: tuple[int, ...], call: str) -> np.ndarray:
    """`value` as a float array of `shape`, or one line saying what is wrong with it."""
    if value is None:
        raise Unfinished(f"`{name}` returned None for {call}; finish it to see this")
    try:
        array = np.asarray(value, dtype=np.float64)
    except Exception:  # noqa: BLE001
        raise Unfinished(f"`{name}` returned a {type(value).__name__}, not numbers, for {call}; fix it to see this") from None
    if array.shape != shape:
        raise Unfinished(f"`{name}` returned shape {array.shape} for {call}, expected {shape}; fix it to see this")
    return array


def _plt():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise Unfinished("install matplotlib to see the pictures: pip install matplotlib") from None
    return plt


# --------------------------------------------------------------------------
# The pictures. Each make_* calls your code first (raising Unfinished), then draws a figure.
# --------------------------------------------------------------------------

# (size, kernel, stride, padding) of the two axes drawn for conv_output_size.
OUTPUT_SIZE_CASES = [(7, 3, 2, 1), (8, 3, 3, 0)]


def make_output_size(conv_output_size):
    counts = []
    for size, kernel, stride, padding in OUTPUT_SIZE_CASES:
        call = f"conv_output_size({size}, {kernel}, stride={stride}, padding={padding})"
        n = _call("conv_output_size", conv_output_size, size, kernel, stride=stride, padding=padding)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) and not (
                isinstance(n, (float, np.floating)) and float(n).is_integer()):
            raise Unfinished(f"`conv_output_size` returned {n!r} for {call}, not a whole number; fix it to see this")
        counts.append(int(n))
    plt = _plt()
    from matplotlib.patches import Rectangle

    fig, axes = plt.subplots(1, len(OUTPUT_SIZE_CASES), figsize=(12, 3.8))
    for ax, (size, kernel, stride, padding), n in zip(axes, OUTPUT_SIZE_CASES, counts):
        length = size + 2 * padding
        # Row 0: the padded axis; padding cells grey, input cells blue, each with its index.
        for cell in range(length):
            pad_cell = cell < padding or cell >= padding + size
            ax.add_patch(Rectangle((cell, 0), 1, 1, facecolor="0.85" if pad_cell else "lightsteelblue",
                                   edgecolor="black", hatch="//" if pad_cell else None))
            ax.text(cell + 0.5, 0.5, str(cell), ha="center", va="center", fontsize=9)
        # One row per position your function counts, then the next one.
        shown = min(max(n, 0), 12)
        for k in range(shown + 1):
            start, row = k * stride, -(k + 1) * 1.1
            fits = start + kernel <= length
            counted = k < shown
            if counted:
                colour = "tab:green" if fits else "tab:red"
                ax.add_patch(Rectangle((start, row), kernel, 0.8, facecolor=colour, alpha=0.6, edgecolor="black"))
                label = f"position {k}: cells {start}..{start + kernel - 1}"
                if k == shown - 1 and fits:
                    label += "  (last that fits)"
                elif not fits:
                    label += "  runs past the edge!"
            else:
                ax.add_patch(Rectangle((start, row), kernel, 0.8, facecolor="none", edgecolor="tab:red",
                                       linestyle="--", linewidth=1.5))
                label = f"next start {start}: " + ("does not fit" if not fits else "fits, yet is not counted!")
            ax.text(max(length, start + kernel) + 0.3, row + 0.4, label, va="center", fontsize=9,
                    color="black" if counted and fits or not counted and not fits else "tab:red")
        ax.axvline(length, color="black", linewidth=2)
        ax.set_xlim(-0.5, length + 11)
        ax.set_ylim(-(shown + 1) * 1.1 - 0.3, 1.3)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(f"size {size}, kernel {kernel}, stride {stride}, padding {padding}\n"
                     f"your conv_output_size: {n}", fontsize=10)
    fig.suptitle("Where a kernel fits along one axis (grey: padding; dashed red: the first start that does not fit)")
    fig.tight_layout()
    return fig


PADDINGS = [2, (4, 10), ((0, 8), (12, 3))]


def make_padding(pad):
    image = photo()
    padded = []
    for padding in PADDINGS:
        if isinstance(padding, int):
            (top, bottom), (left, right) = (padding, padding), (padding, padding)
        elif isinstance(padding[0], int):
            (top, bottom), (left, right) = (padding[0],) * 2, (padding[1],) * 2
        else:
            (top, bottom), (left, right) = padding
        call = f"pad(x, {padding!r}, value=nan)"
        out = _call("pad", pad, image, padding, value=np.nan)
        padded.append((padding, _array("pad", out, (1, 1, 75 + top + bottom, 64 + left + right), call)))
    plt = _plt()
    cmap = plt.get_cmap("gray").with_extremes(bad="tab:orange")
    fig, axes = plt.subplots(1, len(PADDINGS) + 1, figsize=(12, 3.6))
    axes[0].imshow(image[0, 0], cmap=cmap, vmin=0, vmax=1)
    axes[0].set_title(f"x: {image.shape[2]} x {image.shape[3]}", fontsize=10)
    for ax, (padding, out) in zip(axes[1:], padded):
        ax.imshow(out[0, 0], cmap=cmap, vmin=0, vmax=1)
        ax.set_title(f"pad(x, {padding!r})\n{out.shape[2]} x {out.shape[3]}", fontsize=10)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Your pad, with value=nan so the padding shows (orange)")
    fig.tight_layout()
    return fig


def make_convolution(conv2d_forward):
    image = photo()
    w = np.stack(list(FILTERS.values()))[:, None]  # (3, 1, 3, 3)
    b = np.zeros(len(FILTERS))
    maps = {}
    for stride in (1, 2):
        call = f"conv2d_forward(photo, filters, b, stride={stride}, padding=1)"
        out = _call("conv2d_forward", conv2d_forward, image, w, b, stride=stride, padding=1)
        shape = (1, len(FILTERS), (75 + 2 - 3) // stride + 1, (64 + 2 - 3) // stride + 1)
        maps[stride] = _array("conv2d_forward", out, shape, call)
    plt = _plt()
    fig, axes = plt.subplots(2, 4, figsize=(12, 8))
    axes[0, 0].imshow(image[0, 0], cmap="gray", vmin=0, vmax=1)
    axes[0, 0].set_title("input (75 x 64)", fontsize=10)
    for row, stride in enumerate((1, 2)):
        for f, (name, kernel) in enumerate(FILTERS.items()):
            ax, out = axes[row, f + 1], maps[stride][0, f]
            if name == "blur":
                ax.imshow(out, cmap="gray", vmin=0, vmax=1)
            else:
                limit = float(np.nanmax(np.abs(out))) or 1.0
                ax.imshow(out, cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_title(f"{name}, stride {stride}\n{out.shape[0]} x {out.shape[1]}", fontsize=10)
    # Where stride 2 skips: a corner of the padded photo, the centre of every window it takes
    # (green dots) and of every window that stride 1 would take in between (red crosses).
    corner = 10
    crop = np.pad(image[0, 0], 1)[:corner, :corner]
    ax = axes[1, 0]
    ax.imshow(crop, cmap="gray", vmin=0, vmax=1)
    centres = np.arange(1, corner - 1)
    ii, jj = np.meshgrid(centres, centres, indexing="ij")
    taken = ((ii - 1) % 2 == 0) & ((jj - 1) % 2 == 0)
    ax.scatter(jj[~taken], ii[~taken], marker="x", color="tab:red", s=30)
    ax.scatter(jj[taken], ii[taken], marker="o", color="tab:green", s=40)
    ax.add_patch(plt.Rectangle((-0.5, -0.5), 3, 3, fill=False, edgecolor="tab:green", linewidth=2))
    ax.add_patch(plt.Rectangle((1.5, -0.5), 3, 3, fill=False, edgecolor="tab:green", linewidth=2, linestyle="--"))
    ax.set_title("stride 2, top-left corner (padded):\ngreen: window centres; red: skipped", fontsize=10)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Your conv2d_forward on a photo, with hand-made 3x3 filters (padding 1)\n"
                 "edges: red where the left (or top) side is brighter, blue where it is darker")
    fig.tight_layout()
    return fig


def _pool_windows(shape, size, stride):
    rows = (shape[0] - size) // stride + 1
    cols = (shape[1] - size) // stride + 1
    return [(i, j, i * stride, j * stride) for i in range(rows) for j in range(cols)]


def _grid(ax, values, title, highlight=None, fmt="{:g}"):
    """A small matrix with its numbers written in."""
    ax.imshow(values, cmap="Blues", vmin=0, vmax=max(float(np.nanmax(values)), 1.0) * 1.6)
    for (i, j), v in np.ndenumerate(values):
        colour = highlight[i, j] if highlight is not None and highlight[i, j] else "black"
        marked = colour != "black"
        ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=12 if marked else 11, color=colour,
                fontweight="bold" if marked else "normal",
                bbox=dict(boxstyle="round", facecolor="white", edgecolor=colour) if marked else None)
    ax.set_xticks(np.arange(values.shape[1] + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(values.shape[0] + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_title(title, fontsize=10)


def make_pooling(maxpool_forward, maxpool_backward=None):
    x = POOL_INPUT[None, None]
    cases = []
    for stride in (2, 1):
        windows = _pool_windows(POOL_INPUT.shape, 2, stride)
        out_shape = (1, 1, (5 - 2) // stride + 1, (5 - 2) // stride + 1)
        call = f"maxpool_forward(x, 2, stride={stride})"
        out = _array("maxpool_forward", _call("maxpool_forward", maxpool_forward, x, 2, stride=stride), out_shape, call)
        dx = None
        if maxpool_backward is not None:
            # Stride 2: window k sends k + 1, so each number in dx says whose gradient it is.
            # Stride 1: every window sends 1, so dx counts the windows a cell is the maximum of.
            dout = (np.arange(out.size, dtype=np.float64) + 1).reshape(out_shape) if stride == 2 else np.ones(out_shape)
            call = f"maxpool_backward(dout, x, 2, stride={stride})"
            dx = _array("maxpool_backward", _call("maxpool_backward", maxpool_backward, dout, x, 2, stride=stride),
                        x.shape, call)
        cases.append((stride, windows, out[0, 0], dx))
    plt = _plt()
    from matplotlib.patches import Rectangle

    columns = 3 if maxpool_backward is not None else 2
    fig, axes = plt.subplots(2, columns, figsize=(4 * columns, 8))
    for row, (stride, windows, out, dx) in enumerate(cases):
        overlap = stride < 2
        highlight = np.full(out.shape, "", dtype=object)
        if not overlap:
            for k, (i, j, _, _) in enumerate(windows):
                highlight[i, j] = WINDOW_COLOURS[k % len(WINDOW_COLOURS)]
        else:
            highlight[windows[5][:2]] = "tab:red"  # the outlined window's maximum
        _grid(axes[row, 0], POOL_INPUT, f"x, 2x2 windows at stride {stride}"
              + ("\n(the last row and column fit no window)" if not overlap else "\n(windows overlap; one is outlined)"))
        for k, (i, j, top, left) in enumerate(windows if not overlap else windows[5:6]):
            colour = WINDOW_COLOURS[k % len(WINDOW_COLOURS)] if not overlap else "tab:red"
            axes[row, 0].add_patch(Rectangle((left - 0.45, top - 0.45), 1.9, 1.9, fill=False,
                                             edgecolor=colour, linewidth=2.5))
        _grid(axes[row, 1], out, f"your maxpool_forward, stride {stride}", highlight)
        if dx is not None:
            shown = dx[0, 0]
            where = np.full(shown.shape, "", dtype=object)
            if not overlap:
                for k, (i, j, top, left) in enumerate(windows):
                    hit = np.isclose(shown, k + 1)
                    where[hit] = WINDOW_COLOURS[k % len(WINDOW_COLOURS)]
                title = "your maxpool_backward: window k sends k\n(colours as at left; of the two 5s, the first gets it)"
            else:
                where[shown > 1] = "tab:red"
                title = "your maxpool_backward with dout = 1:\nhow many windows' gradient each cell gets"
            _grid(axes[row, 2], shown, title, where)
    fig.suptitle("Max pooling: each window keeps its maximum"
                 + ("; the gradient goes back to that maximum only" if maxpool_backward is not None else ""))
    fig.tight_layout()
    return fig


def make_layers(Conv2d, MaxPool2d):
    image = photo()
    state = np.random.get_state()
    try:
        np.random.seed(1)
        conv = _call("Conv2d", Conv2d, 1, 6, kernel_size=3, padding=1)
    finally:
        np.random.set_state(state)
    pool = _call("MaxPool2d", MaxPool2d, 2)
    maps = _array("Conv2d.forward", _call("Conv2d.forward", conv, image), (1, 6, 75, 64), "Conv2d(1, 6, 3, padding=1)(photo)")
    pooled = _array("MaxPool2d.forward", _call("MaxPool2d.forward", pool, maps), (1, 6, 37, 32), "MaxPool2d(2)(maps)")
    weights = getattr(getattr(conv, "W", None), "data", None)
    weights = _array("Conv2d", weights, (6, 1, 3, 3), "Conv2d(1, 6, 3).W.data")
    plt = _plt()
    fig, axes = plt.subplots(3, 7, figsize=(13, 6.6), gridspec_kw={"width_ratios": [1.4] + [1] * 6})
    axes[1, 0].imshow(image[0, 0], cmap="gray", vmin=0, vmax=1)
    axes[1, 0].set_title("input (75 x 64)", fontsize=10)
    limit = float(np.abs(weights).max()) or 1.0
    for f in range(6):
        axes[0, f + 1].imshow(weights[f, 0], cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[0, f + 1].set_title(f"filter {f}", fontsize=9)
        axes[1, f + 1].imshow(maps[0, f], cmap="viridis")
        axes[1, f + 1].set_title(f"map {f}: 75 x 64", fontsize=9)
        axes[2, f + 1].imshow(pooled[0, f], cmap="viridis")
        axes[2, f + 1].set_title(f"pooled {f}: 37 x 32", fontsize=9)
    axes[0, 0].text(0.5, 0.5, "Conv2d(1, 6, 3, padding=1)\nrandom (He) weights", ha="center", va="center")
    axes[2, 0].text(0.5, 0.5, "then MaxPool2d(2)", ha="center", va="center")
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_frame_on(ax not in (axes[0, 0], axes[2, 0]))
    fig.suptitle("Your Conv2d and MaxPool2d, freshly made: even random filters find edges and shades")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------
# In the notebook: each call shows its picture, or prints one line.
# --------------------------------------------------------------------------


def _show(make, *functions) -> None:
    try:
        fig = make(*functions)
    except Unfinished as note:
        print(note)
        return
    plt = _plt()
    plt.show()
    plt.close(fig)


def output_size(conv_output_size) -> None:
    """Where a kernel fits along one axis, with your conv_output_size."""
    _show(make_output_size, conv_output_size)


def padding(pad) -> None:
    """The photo padded by your pad, the padding in orange."""
    _show(make_padding, pad)


def convolution(conv2d_forward) -> None:
    """The photo through edge and blur filters with your conv2d_forward, at stride 1 and 2."""
    _show(make_convolution, conv2d_forward)


def pooling(maxpool_forward, maxpool_backward=None) -> None:
    """Your max pooling on a small map; with maxpool_backward, where each window's gradient goes."""
    _show(make_pooling, maxpool_forward, maxpool_backward)


def layers(Conv2d, MaxPool2d) -> None:
    """The photo's feature maps through a freshly made Conv2d, then MaxPool2d."""
    _show(make_layers, Conv2d, MaxPool2d)


def main() -> int:
    """Save every picture of cnn_layers.py (in this folder) into pictures/; print a line for each."""
    import sys

    sys.path.insert(0, str(HERE))
    try:
        import cnn_layers as m
    except Exception as exc:  # noqa: BLE001
        print(f"cnn_layers.py does not load ({type(exc).__name__}: {exc}); fix it to see the pictures")
        return 1
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out = HERE / "pictures"
    out.mkdir(exist_ok=True)
    pictures = [
        ("1_output_size", make_output_size, (m.conv_output_size,)),
        ("2_padding", make_padding, (m.pad,)),
        ("3_convolution", make_convolution, (m.conv2d_forward,)),
        ("4_pooling", make_pooling, (m.maxpool_forward, m.maxpool_backward)),
        ("5_layers", make_layers, (m.Conv2d, m.MaxPool2d)),
    ]
    for name, make, functions in pictures:
        try:
            fig = make(*functions)
        except Unfinished as note:
            print(f"{name}: {note}")
            continue
        path = out / f"{name}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        print(f"{name}: saved {path.relative_to(HERE).as_posix()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
