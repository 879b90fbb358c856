"""The part-1 corpus: name -> (style, base, bugs, items the author expects, edits to the base).

Expected items are only the author's guess, printed beside the judge's verdict by make_part1.py;
the header written into each file is the judge's.
"""

CONV = ["conv2d_forward", "Conv2d"]
CONVB = ["conv2d_backward", "Conv2d"]
POOLB = ["maxpool_backward", "MaxPool2d"]

VARIANTS = {
    # ---------------------------------------------------------------- correct
    "cs231n_loops_ok": ("cs231n", "cs231n", [], [], []),
    "dlai_step_by_step_ok": ("dlai", "dlai", [], [], []),
    "im2col_indices_ok": ("im2col", "im2col", [], [], []),
    "as_strided_einsum_ok": ("as_strided", "strided", [], [], []),
}

# Lines of the bases that the edits below change (each must occur once in its base).
CS_FWD_PAIRS = "    sh, sw = _two(stride)\n    ph, pw = _two(padding)\n    H_out = conv_output_size(H, HH, sh, ph)"
CS_CROP = "    dx = dx_pad[:, :, ph:ph + H, pw:pw + W]"
CS_POOL_BWD = (
    "                    # only the first max gets the gradient (ties)\n"
    "                    r, s = np.unravel_index(np.argmax(window), window.shape)\n"
    "                    dx[n, c, i * sh + r, j * sw + s] += dout[n, c, i, j]"
)
CS_SIZE = "    return (size + 2 * padding - kernel) // stride + 1"
DL_CROP = "        dA_prev[i, :, :, :] = da_prev_pad[pad_h:pad_h + n_H_prev, pad_w:pad_w + n_W_prev, :]"
DL_POOL_STARTS = (
    "                    vert_start = h * stride_h\n"
    "                    vert_end = vert_start + f_h\n"
    "                    horiz_start = w * stride_w\n"
    "                    horiz_end = horiz_start + f_w\n"
    "                    a_prev_slice"
)
IM_CROP = "    return x_padded[:, :, p_h:p_h + H, p_w:p_w + W]"
ST_PAD = "    out[:, :, t:t + x.shape[2], l:l + x.shape[3]] = x"

VARIANTS.update({
    # ------------------------------------------------ correct, other ways of writing the same thing
    "cs231n_crop_by_shape_ok": ("cs231n", "cs231n", [], [], [
        (CS_CROP, "    dx = dx_pad[:, :, ph:dx_pad.shape[2] - ph, pw:dx_pad.shape[3] - pw]"),
        (CS_POOL_BWD,
         "                    mask = window == np.max(window)\n"
         "                    mask = mask & (np.cumsum(mask).reshape(mask.shape) == 1)  # first max only\n"
         "                    dx[n, c, i * sh:i * sh + HH, j * sw:j * sw + WW] += mask * dout[n, c, i, j]"),
    ]),
    "cs231n_crop_or_none_ok": ("cs231n", "cs231n", [], [], [
        (CS_CROP, "    dx = dx_pad[:, :, ph:-ph or None, pw:-pw or None]"),
    ]),
    "dlai_squeeze_bias_ok": ("dlai", "dlai", [], [], [
        ("    Z = Z + b.item()", "    Z = Z + float(np.squeeze(b))"),
    ]),
    "dlai_db_sum_ok": ("dlai", "dlai", [], [], [
        ("                    db[:, :, :, c] += dZ[i, h, w, c]\n", ""),
        ("    return dA_prev, dW, db", "    db = np.sum(dZ, axis=(0, 1, 2), keepdims=True)\n    return dA_prev, dW, db"),
    ]),
    "im2col_einsum_ok": ("im2col", "im2col", [], [], [
        ("    res = w.reshape(F, -1) @ x_cols + b.reshape(-1, 1)",
         "    res = np.einsum('fk,kl->fl', w.reshape(F, -1), x_cols) + b[:, None]"),
    ]),
    "im2col_guarded_crop_ok": ("im2col", "im2col", [], [], [
        (IM_CROP,
         "    if p_h == 0 and p_w == 0:\n        return x_padded\n"
         "    if p_h == 0:\n        return x_padded[:, :, :, p_w:-p_w]\n"
         "    if p_w == 0:\n        return x_padded[:, :, p_h:-p_h, :]\n"
         "    return x_padded[:, :, p_h:-p_h, p_w:-p_w]"),
    ]),
    "sliding_window_view_ok": ("as_strided", "strided", [], [], [
        ("    s0, s1, s2, s3 = x.strides\n    return as_strided(x, shape=(N, C, oh, ow, kh, kw),\n"
         "                      strides=(s0, s1, s2 * sh, s3 * sw, s2, s3), writeable=False)",
         "    return np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]"),
    ]),
    "as_strided_tensordot_ok": ("as_strided", "strided", [], [], [
        ("    out = np.einsum('nchwij,fcij->nfhw', win, w)",
         "    out = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)"),
    ]),

    # ------------------------------------------------ wrong: CS231n loops
    "cs231n_crop_empty_at_zero_padding": ("cs231n", "cs231n", ["crop_empty_at_zero_padding"], CONVB, [
        (CS_CROP, "    dx = dx_pad[:, :, ph:-ph, pw:-pw]"),
    ]),
    "cs231n_mask_all_ties": ("cs231n", "cs231n", ["all_ties"], POOLB, [
        (CS_POOL_BWD,
         "                    mask = (window == np.max(window))\n"
         "                    dx[n, c, i * sh:i * sh + HH, j * sw:j * sw + WW] += mask * dout[n, c, i, j]"),
    ]),
    "cs231n_mask_assigned": ("cs231n", "cs231n", ["all_ties", "assign_slice"], POOLB, [
        (CS_POOL_BWD,
         "                    mask = (window == np.max(window))\n"
         "                    dx[n, c, i * sh:i * sh + HH, j * sw:j * sw + WW] = mask * dout[n, c, i, j]"),
    ]),
    "cs231n_flipped_kernel": ("cs231n", "cs231n", ["flipped_kernel"], CONV, [
        ("out[n, f, i, j] = np.sum(window * w[f]) + b[f]", "out[n, f, i, j] = np.sum(window * w[f, :, ::-1, ::-1]) + b[f]"),
    ]),
    "cs231n_missing_bias": ("cs231n", "cs231n", ["no_bias"], CONV, [
        ("out[n, f, i, j] = np.sum(window * w[f]) + b[f]", "out[n, f, i, j] = np.sum(window * w[f])"),
    ]),
    "cs231n_stride_pair_swapped": ("cs231n", "cs231n", ["stride_pair_swapped"], CONV, [
        (CS_FWD_PAIRS, CS_FWD_PAIRS.replace("sh, sw = _two(stride)", "sw, sh = _two(stride)")),
    ]),
    "cs231n_layer_stride_padding_swapped": ("cs231n", "cs231n", ["layer_arguments_swapped"], ["Conv2d"], [
        ("return conv2d_forward(x, self.W.data, self.b.data, self.stride, self.padding)",
         "return conv2d_forward(x, self.W.data, self.b.data, self.padding, self.stride)"),
        ("conv2d_backward(dout, x, self.W.data, self.b.data, self.stride, self.padding)",
         "conv2d_backward(dout, x, self.W.data, self.b.data, self.padding, self.stride)"),
    ]),
    "cs231n_ceil_output_size": ("cs231n", "cs231n", ["ceil_instead_of_floor"], ["conv_output_size", "maxpool_forward", "maxpool_backward", "MaxPool2d"] + CONV, [
        (CS_SIZE, "    return int(np.ceil((size + 2 * padding - kernel) / stride)) + 1"),
    ]),
    "cs231n_db_batch_only": ("cs231n", "cs231n", ["db_batch_only"], CONVB, [
        ("    db = np.sum(dout, axis=(0, 2, 3))", "    db = np.sum(dout, axis=0)"),
    ]),
    "cs231n_grads_overwritten": ("cs231n", "cs231n", ["grads_overwritten"], ["Conv2d"], [
        ("        self.W.grad += dw\n        self.b.grad += db", "        self.W.grad = dw\n        self.b.grad = db"),
    ]),
    "cs231n_zeros_like_integer": ("cs231n", "cs231n", ["integer_casting_in_add"], CONVB, [
        ("    x = x.astype(np.float64)\n    w = w.astype(np.float64)\n    N, C, H, W = x.shape", "    N, C, H, W = x.shape"),
        ("    dx_pad = np.zeros(x_pad.shape)\n    dw = np.zeros(w.shape)", "    dx_pad = np.zeros_like(x_pad)\n    dw = np.zeros_like(w)"),
    ]),
    "cs231n_pool_stride_one_when_none": ("cs231n", "cs231n", ["pool_stride_one_when_none"], ["maxpool_forward", "MaxPool2d"], [
        ("    if stride is None:\n        stride = pool_size\n    N, C, H, W = x.shape\n    HH, WW = _two(pool_size)\n    sh, sw = _two(stride)\n    H_out = conv_output_size(H, HH, sh)\n    W_out = conv_output_size(W, WW, sw)\n    out",
         "    if stride is None:\n        stride = 1\n    N, C, H, W = x.shape\n    HH, WW = _two(pool_size)\n    sh, sw = _two(stride)\n    H_out = conv_output_size(H, HH, sh)\n    W_out = conv_output_size(W, WW, sw)\n    out"),
    ]),
    "cs231n_np_float": ("cs231n", "cs231n", ["numpy2_removed_alias"], CONV, [
        ("    out = np.zeros((N, F, H_out, W_out))", "    out = np.zeros((N, F, H_out, W_out), dtype=np.float)"),
    ]),
    "cs231n_missing_bias_and_crop": ("cs231n", "cs231n", ["no_bias", "crop_empty_at_zero_padding"], ["conv2d_forward", "conv2d_backward", "Conv2d"], [
        ("out[n, f, i, j] = np.sum(window * w[f]) + b[f]", "out[n, f, i, j] = np.sum(window * w[f])"),
        (CS_CROP, "    dx = dx_pad[:, :, ph:-ph, pw:-pw]"),
    ]),

    # ------------------------------------------------ wrong: deeplearning.ai channels-last
    "dlai_float_b": ("dlai", "dlai", ["numpy2_scalar_conversion"], CONV, [
        ("    Z = Z + b.item()", "    Z = Z + float(b)"),
    ]),
    "dlai_z_plus_b": ("dlai", "dlai", ["numpy2_scalar_conversion"], CONV, [
        ("    Z = Z + b.item()", "    Z = Z + b"),
    ]),
    "dlai_crop_empty_at_zero_padding": ("dlai", "dlai", ["crop_empty_at_zero_padding"], CONVB, [
        (DL_CROP, "        dA_prev[i, :, :, :] = da_prev_pad[pad_h:-pad_h, pad_w:-pad_w, :]"),
    ]),
    "dlai_crop_guard_both_zero": ("dlai", "dlai", ["crop_empty_at_zero_padding"], CONVB, [
        (DL_CROP,
         "        if pad_h == 0 and pad_w == 0:\n"
         "            dA_prev[i, :, :, :] = da_prev_pad\n"
         "        else:\n"
         "            dA_prev[i, :, :, :] = da_prev_pad[pad_h:-pad_h, pad_w:-pad_w, :]"),
    ]),
    "dlai_pool_backward_ignores_stride": ("dlai", "dlai", ["pool_backward_stride_ignored"], POOLB, [
        (DL_POOL_STARTS, DL_POOL_STARTS.replace("h * stride_h", "h").replace("w * stride_w", "w")),
    ]),
    "dlai_mask_all_ties": ("dlai", "dlai", ["all_ties"], POOLB, [
        ("    mask = np.zeros(x.shape, dtype=bool)\n    mask[np.unravel_index(np.argmax(x), x.shape)] = True",
         "    mask = x == np.max(x)"),
    ]),
    "dlai_np_int": ("dlai", "dlai", ["numpy2_removed_alias"], ["conv_output_size", "conv2d_backward", "maxpool_forward", "MaxPool2d"] + CONV, [
        ("    return int((size - kernel + 2 * padding) / stride) + 1", "    return np.int((size - kernel + 2 * padding) / stride) + 1"),
    ]),
    "dlai_no_value_errors": ("dlai", "dlai", ["int_truncation"], ["conv_output_size"], [
        ("    if kernel <= 0 or stride <= 0 or padding < 0:\n        raise ValueError(\"invalid hyperparameters\")\n"
         "    if size + 2 * padding < kernel:\n        raise ValueError(\"filter larger than padded input\")\n", ""),
    ]),
    "dlai_da_prev_assigned": ("dlai", "dlai", ["assign_overlap"], CONVB, [
        ("da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += W[:, :, :, c]",
         "da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] = W[:, :, :, c]"),
    ]),
    "dlai_pool_zeros_like_integer": ("dlai", "dlai", ["integer_casting_in_add"], POOLB, [
        ("    dA_prev = np.zeros(A_prev.shape)", "    dA_prev = np.zeros_like(A_prev)"),
        ("    A_prev = np.transpose(x, (0, 2, 3, 1)).astype(np.float64)\n    dA = ",
         "    A_prev = np.transpose(x, (0, 2, 3, 1))\n    dA = "),
    ]),
    "dlai_reshape_newshape": ("dlai", "dlai", ["numpy2_removed_keyword"], CONV, [
        ("    B = np.reshape(b, (1, 1, 1, -1)).astype(np.float64)\n    Z, _",
         "    B = np.reshape(b, newshape=(1, 1, 1, -1)).astype(np.float64)\n    Z, _"),
    ]),
    "dlai_pairs_read_width_height": ("dlai", "dlai", ["pairs_swapped"], ["pad", "conv2d_backward", "maxpool_forward", "maxpool_backward", "MaxPool2d"] + CONV, [
        ("        return v[0], v[1]", "        return v[1], v[0]"),
    ]),

    # ------------------------------------------------ wrong: im2col
    "im2col_crop_empty_at_zero_padding": ("im2col", "im2col", ["crop_empty_at_zero_padding"], CONVB + POOLB, [
        (IM_CROP, "    return x_padded[:, :, p_h:-p_h, p_w:-p_w]"),
    ]),
    "im2col_cs231n_guard": ("im2col", "im2col", ["crop_empty_at_zero_padding"], CONVB, [
        (IM_CROP, "    if p_h == 0 and p_w == 0:\n        return x_padded\n    return x_padded[:, :, p_h:-p_h, p_w:-p_w]"),
    ]),
    "im2col_ceil_output_size": ("im2col", "im2col", ["ceil_instead_of_floor"], ["conv_output_size", "conv2d_backward", "maxpool_forward", "maxpool_backward", "MaxPool2d"] + CONV, [
        ("    out = (size + 2 * padding - kernel) // stride + 1", "    out = -(-(size + 2 * padding - kernel) // stride) + 1"),
    ]),
    "im2col_fancy_add_drops_overlap": ("im2col", "im2col", ["assign_overlap"], CONVB + POOLB, [
        ("    np.add.at(x_padded, (slice(None), k, i, j), cols_reshaped)", "    x_padded[:, k, i, j] += cols_reshaped"),
    ]),
    "im2col_forward_keeps_integer": ("im2col", "im2col", ["kept_integer_dtype"], ["conv2d_forward"], [
        ("    x = np.asarray(x, dtype=float)\n    w = np.asarray(w, dtype=float)\n    b = np.asarray(b, dtype=float)\n", ""),
    ]),
    "im2col_batch_mean": ("im2col", "im2col", ["batch_mean"], CONVB, [
        ("    db = np.sum(dout, axis=(0, 2, 3))", "    db = np.sum(dout, axis=(0, 2, 3)) / N"),
        ("    dw = (dout_reshaped @ x_cols.T).reshape(w.shape)", "    dw = (dout_reshaped @ x_cols.T).reshape(w.shape) / N"),
    ]),
    "im2col_he_fan_out": ("im2col", "im2col", ["he_fan_out"], ["Conv2d"], [
        ("    std = np.sqrt(2.0 / (in_channels * kh * kw))", "    std = np.sqrt(2.0 / (out_channels * kh * kw))"),
    ]),

    # ------------------------------------------------ wrong: as_strided
    "as_strided_pad_slice_assign": ("as_strided", "strided", ["crop_empty_at_zero_padding"], ["pad", "conv2d_backward"] + CONV, [
        (ST_PAD, "    out[:, :, t:-bo, l:-r] = x"),
    ]),
    "as_strided_pool_fancy_add": ("as_strided", "strided", ["assign_overlap"], POOLB, [
        ("    np.add.at(dx, (n, ch, r, c), dout)", "    dx[n, ch, r, c] += dout"),
    ]),
    "as_strided_flipped_kernel": ("as_strided", "strided", ["flipped_kernel"], CONV, [
        ("    out = np.einsum('nchwij,fcij->nfhw', win, w)", "    out = np.einsum('nchwij,fcij->nfhw', win, w[:, :, ::-1, ::-1])"),
    ]),
    "as_strided_bias_broadcast": ("as_strided", "strided", ["bias_broadcast_last_axis"], CONV, [
        ("    return out + b[None, :, None, None]", "    return out + b"),
    ]),
    "as_strided_padding_not_cropped": ("as_strided", "strided", ["padding_not_cropped"], CONVB, [
        ("    dx = dxp[:, :, ph:ph + H, pw:pw + W]", "    dx = dxp"),
    ]),
    "as_strided_backward_stride_ignored": ("as_strided", "strided", ["stride_ignored"], CONVB, [
        ("dxp[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw] +=", "dxp[:, :, i:i + oh, j:j + ow] +="),
    ]),
    "as_strided_reshape_newshape": ("as_strided", "strided", ["numpy2_removed_keyword"], POOLB, [
        ("    idx = win.reshape(N, C, oh, ow, kh * kw).argmax(axis=-1)",
         "    idx = np.reshape(win, newshape=(N, C, oh, ow, kh * kw)).argmax(axis=-1)"),
    ]),
    "as_strided_unscaled_and_overwritten": ("as_strided", "strided", ["he_unscaled", "grads_overwritten"], ["Conv2d"], [
        (" * (2.0 / (in_channels * kh * kw)) ** 0.5)", ")"),
        ("        self.W.grad += dw\n        self.b.grad += db", "        self.W.grad = dw\n        self.b.grad = db"),
    ]),
})
