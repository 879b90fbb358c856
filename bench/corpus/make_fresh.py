"""Write bench/corpus/fresh/*.py: the outside batch of part-1 submissions (issue 17).

Written without reading the kit's mistake registries, in styles the first corpus (part1/) does
not use: d2l.ai's corr2d/pool2d loops (`d2l`), CS231n 2017's conv_param/cache naive layers
behind wrappers (`cs231n17`), sliding_window_view + einsum (`swv`), a NumPy port of PyTorch's
unfold/fold (`unfold`), and helper classes with their own argument checks (`oop`). Each base in
fresh_bases/ is correct; each variant is a base plus the edits a student makes (one bug, planted
by hand as text edits below). The `items` of each header come from judge.py, run here.

    .venv/bin/python bench/corpus/make_fresh.py          # rewrite fresh/ (runs the judge)
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import judge  # noqa: E402

BASES = HERE / "fresh_bases"
OUT = HERE / "fresh"

# name: (base, bug words, [(old, new), ...])
VARIANTS = {
    "d2l_ok": ("d2l", "", []),
    "d2l_kernel_transposed": ("d2l", "kernel_transposed_in_corr2d", [
        ("* K).sum()", "* K.T).sum()")]),
    "d2l_pool_eq_whole_plane": ("d2l", "pool_backward_eq_on_whole_plane", [
        ("""                    r, s = np.unravel_index(np.argmax(win), win.shape)
                    dx[n, c, i * sh + r, j * sw + s] += dout[n, c, i, j]""",
         """                    dx[n, c] += dout[n, c, i, j] * (x[n, c] == win.max())""")]),
    "d2l_assert_validation": ("d2l", "assert_instead_of_valueerror", [
        ("""    if kernel < 1 or stride < 1 or padding < 0:
        raise ValueError("bad kernel/stride/padding")""",
         """    assert kernel >= 1 and stride >= 1 and padding >= 0, "bad kernel/stride/padding\""""),
        ("""    if size + 2 * padding < kernel:
        raise ValueError("kernel larger than padded input")""",
         """    assert size + 2 * padding >= kernel, "kernel larger than padded input\"""")]),
    "d2l_width_from_height": ("d2l", "output_width_from_x_shape0", [
        ("Y = np.zeros(((X.shape[0] - h) // sh + 1, (X.shape[1] - w) // sw + 1))",
         "Y = np.zeros(((X.shape[0] - h) // sh + 1, (X.shape[0] - w) // sw + 1))")]),
    "d2l_pool_stride_input_only": ("d2l", "pool_stride_on_input_index_not_output", [
        ("""    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = X[i * sh:i * sh + p_h, j * sw:j * sw + p_w].max()""",
         """    for i in range(0, X.shape[0] - p_h + 1, sh):
        for j in range(0, X.shape[1] - p_w + 1, sw):
            Y[i, j] = X[i:i + p_h, j:j + p_w].max()""")]),
    "d2l_backward_int_buffer": ("d2l", "dx_buffer_integer_for_integer_x", [
        ("""    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    dout = np.asarray(dout, dtype=float)""",
         """    w = np.asarray(w, dtype=float)
    dout = np.asarray(dout, dtype=float)""")]),
    "cs231n17_ok": ("cs231n17", "", []),
    "cs231n17_stride_input_only": ("cs231n17", "conv_stride_on_input_index_not_output", [
        ("""            for i in range(H_out):
                for j in range(W_out):
                    hs, ws = i * sh, j * sw
                    out[n, f, i, j]""",
         """            for i in range(0, H + 2 * ph - HH + 1, sh):
                for j in range(0, W + 2 * pw - WW + 1, sw):
                    hs, ws = i, j
                    out[n, f, i, j]""")]),
    "cs231n17_dw_stale_filter": ("cs231n17", "dw_loop_dedented_uses_last_filter", [
        ("""                    dw[f] += x_pad[n, :, hs:hs + HH, ws:ws + WW] * dout[n, f, i, j]
                    dx_pad[n, :, hs:hs + HH, ws:ws + WW] += w[f] * dout[n, f, i, j]""",
         """                    dx_pad[n, :, hs:hs + HH, ws:ws + WW] += w[f] * dout[n, f, i, j]
        for i in range(H_out):
            for j in range(W_out):
                hs, ws = i * sh, j * sw
                dw[f] += x_pad[n, :, hs:hs + HH, ws:ws + WW] * dout[n, f, i, j]""")]),
    "cs231n17_db_wrong_axis": ("cs231n17", "db_sums_over_filters_not_batch", [
        ("""            db[f] += np.sum(dout[n, f])
""", ""),
        ("""    dx = dx_pad[:, :, ph:ph + H, pw:pw + W]
    return dx, dw, db""",
         """    db = np.sum(dout, axis=(1, 2, 3))
    dx = dx_pad[:, :, ph:ph + H, pw:pw + W]
    return dx, dw, db""")]),
    "cs231n17_pool_mask_is_view": ("cs231n17", "pool_backward_mask_written_into_x_view", [
        ("""                    idx = np.argmax(window)
                    r, s = idx // pw, idx % pw
                    dx[n, c, i * sh + r, j * sw + s] += dout[n, c, i, j]""",
         """                    mask = window
                    mask[:] = (window == np.max(window))
                    dx[n, c, i * sh:i * sh + ph, j * sw:j * sw + pw] += mask * dout[n, c, i, j]""")]),
    "cs231n17_out_dtype_of_x": ("cs231n17", "forward_out_has_x_dtype", [
        ("    out = np.zeros((N, F, H_out, W_out))", "    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)")]),
    "cs231n17_np_zeros_args": ("cs231n17", "np_zeros_shape_not_a_tuple", [
        ("    out = np.zeros((N, C, H_out, W_out))", "    out = np.zeros(N, C, H_out, W_out)")]),
    "cs231n17_true_division": ("cs231n17", "output_size_true_division_float", [
        ("    out = 1 + (size + 2 * padding - kernel) // stride", "    out = 1 + (size + 2 * padding - kernel) / stride")]),
    "cs231n17_pad_all_axes": ("cs231n17", "np_pad_int_pads_all_four_axes", [
        ("""    if np.isscalar(padding):
        pw = ((padding, padding), (padding, padding))""",
         """    if np.isscalar(padding):
        return np.pad(x, padding, 'constant', constant_values=value)""")]),
    "swv_ok": ("swv", "", []),
    "swv_einsum_kernel_transposed": ("swv", "einsum_kernel_axes_swapped", [
        ("np.einsum('nchwpq,fcpq->nfhw', win, w.astype(np.float64))", "np.einsum('nchwpq,fcqp->nfhw', win, w.astype(np.float64))")]),
    "swv_pool_max_wrong_axes": ("swv", "pool_max_over_output_axes", [
        ("return windows(x, kh, kw, sh, sw).max(axis=(-2, -1)).astype(np.float64)",
         "return windows(x, kh, kw, sh, sw).max(axis=(2, 3)).astype(np.float64)")]),
    "swv_stride_h_both_axes": ("swv", "stride_h_used_for_width", [
        ("[:, :, ::sh, ::sw]", "[:, :, ::sh, ::sh]")]),
    "swv_pad_returns_x": ("swv", "pad_returns_input_when_no_padding", [
        ("""def pad(x, padding, value=0):
""", """def pad(x, padding, value=0):
    if not np.any(padding):
        return x  # nothing to pad
""")]),
    "swv_db_keepdims": ("swv", "db_keepdims_shape", [
        ("    db = np.einsum('nfhw->f', dout)", "    db = dout.sum(axis=(0, 2, 3), keepdims=True)")]),
    "swv_pool_divmod_kh": ("swv", "pool_argmax_unravelled_with_height", [
        ("r, s = np.divmod(arg, kw)", "r, s = np.divmod(arg, kh)")]),
    "swv_randn_tuple": ("swv", "randn_given_a_tuple", [
        ("np.random.randn(out_channels, in_channels, kh, kw) * std", "np.random.randn((out_channels, in_channels, kh, kw)) * std")]),
    "unfold_ok": ("unfold", "", []),
    "unfold_weight_hwc_order": ("unfold", "weights_flattened_channels_last", [
        ("    wmat = w.reshape(F, -1).astype(np.float64)", "    wmat = w.transpose(0, 2, 3, 1).reshape(F, -1).astype(np.float64)")]),
    "unfold_out_reshape_wh": ("unfold", "output_reshaped_width_height_then_transposed", [
        ("    return out.reshape(x.shape[0], F, Ho, Wo)", "    return out.reshape(x.shape[0], F, Wo, Ho).transpose(0, 1, 3, 2)")]),
    "unfold_he_fan_out": ("unfold", "he_std_from_fan_out", [
        ("        fan_in = in_channels * self.kernel_size[0] * self.kernel_size[1]",
         "        fan_in = out_channels * self.kernel_size[0] * self.kernel_size[1]")]),
    "unfold_he_no_sqrt": ("unfold", "he_variance_used_as_std", [
        ("        std = gain / np.sqrt(fan_in)       # kaiming_normal_, mode='fan_in'",
         "        std = gain ** 2 / fan_in       # kaiming_normal_, mode='fan_in'")]),
    "unfold_pool_float32": ("unfold", "pool_forward_float32", [
        ("    cols, (Ho, Wo) = unfold(np.asarray(x, dtype=np.float64), pool_size, stride)\n    cols = cols.reshape(N, C, kh * kw, Ho * Wo)\n    return",
         "    cols, (Ho, Wo) = unfold(np.asarray(x, dtype=np.float32), pool_size, stride)\n    cols = cols.reshape(N, C, kh * kw, Ho * Wo)\n    return")]),
    "oop_ok": ("oop", "", []),
    "oop_typeerror_for_values": ("oop", "own_check_raises_typeerror_for_bad_values", [
        ("""    if v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v}")""",
         """    if v < minimum:
        raise TypeError(f"{name} must be >= {minimum}, got {v}")""")]),
    "oop_zero_grad_misses_b": ("oop", "zero_grad_override_forgets_bias", [
        ("""        self._cache = None

    def forward(self, x):
        self._cache = np.asarray(x)
        return conv2d_forward(""",
         """        self._cache = None

    def zero_grad(self):
        self.W.grad = np.zeros_like(self.W.data)

    def forward(self, x):
        self._cache = np.asarray(x)
        return conv2d_forward(""")]),
    "oop_pool_layer_drops_stride": ("oop", "maxpool_layer_does_not_pass_stride", [
        ("return maxpool_forward(self._cache, self.pool_size, self.stride)", "return maxpool_forward(self._cache, self.pool_size)"),
        ("return maxpool_backward(dout, self._cache, self.pool_size, self.stride)", "return maxpool_backward(dout, self._cache, self.pool_size)")]),
    "oop_pad_pair_before_after": ("oop", "pad_pair_read_as_before_after", [
        ("""        ph, pw = _as_hw("padding", padding, 0)
        top = bottom = ph
        left = right = pw""",
         """        ph, pw = _as_hw("padding", padding, 0)
        top = left = ph
        bottom = right = pw""")]),
    "oop_geometry_out_w_uses_h": ("oop", "output_width_from_height", [
        ("return conv_output_size(self.W, self.kw, self.sw, self.pw)", "return conv_output_size(self.H, self.kw, self.sw, self.pw)")]),
    "oop_sum_wrong_axes": ("oop", "forward_sum_over_wrong_axes", [
        ("        out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))",
         "        out[:, :, i, j] = (patch[:, None] * w[None]).sum(axis=(1, 2, 3))")]),
}


def build(name, base, bugs, edits):
    text = (BASES / f"{base}.py").read_text()
    for old, new in edits:
        if text.count(old) != 1:
            raise SystemExit(f"{name}: edit not found exactly once: {old[:60]!r}")
        text = text.replace(old, new)
    return text


def main():
    OUT.mkdir(exist_ok=True)
    only = set(sys.argv[1:])
    for name, (base, bugs, edits) in VARIANTS.items():
        if only and name not in only:
            continue
        text = build(name, base, bugs, edits)
        path = OUT / f"{name}.py"
        path.write_text(f"# corpus: style={base}; bugs={bugs}; items=\n" + text)
        items = judge.wrong_items(judge.judge(path))
        path.write_text(f"# corpus: style={base}; bugs={bugs}; items={','.join(items)}\n" + text)
        print(f"{name:36s} items={','.join(items)}")


if __name__ == "__main__":
    main()
