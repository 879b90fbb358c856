"""Every mistake the capstone's suite can name, and the wrong versions of Adam and the loss that make them.

`known.<id>` is a Mistake: a stable id (what the class report counts) and the
phrase the student reads after "It matches what you get if you ...". Each
mistake is named once here, whichever check finds it (a ReLU that passes the
gradient at 0 is named by ReLU's check and by DigitCNN's). Ids that part 1's
registry (autograder/suites/cnn/mistakes.py) also has mean the same mistake
there. The functions below compute what a typical wrong solution returns; they
run in the trusted process.
"""

from types import SimpleNamespace

import numpy as np

from autograder.suite import Mistake

REGISTRY = {
    # ReLU
    "relu_identity": "return x itself",
    "relu_returns_mask": "return the mask (x > 0) instead of the values",
    "relu_abs": "take the absolute value",
    "relu_grad_at_zero": (
        "pass the gradient where x == 0 too (mask with x >= 0; the slope at 0 is taken as 0, so mask with x > 0)"
    ),
    "relu_backward_identity": "return dout unchanged",
    "relu_backward_times_output": "multiply dout by the output max(x, 0) instead of by the slope",
    "relu_backward_sign_of_dout": "use the sign of dout instead of the sign of x",
    # Flatten
    "flatten_column_major": "flatten in column-major (Fortran) order",
    "flatten_batch_axis": "flatten the batch axis too",
    "flatten_channels_last": "put the channels last before flattening (NHWC order)",
    "unflatten_column_major": "reshape the gradient in column-major (Fortran) order",
    # GlobalMaxPool2d
    "global_pool_average": "average instead of taking the maximum",
    "global_pool_keepdims": "keep the pooled axes (shape (N, C, 1, 1)); the layer returns (N, C)",
    "global_pool_over_channels": "take the maximum over the channels instead of over H and W",
    "global_pool_every_tie": "give every tied maximum the gradient (the lesson's mask)",
    "global_pool_last_tie": "give the gradient to the last tied maximum (the rule is the first, in row-major order)",
    "global_pool_spread": "spread the gradient evenly (average pooling)",
    # Linear (ids shared with part 1's convolution where the mistake is the same)
    "no_bias": "leave out the bias",
    "batch_mean": (
        "average the gradient over the batch in the layer (divide by the batch size N): the loss's gradient "
        "already divides by N, so a layer sums over the batch"
    ),
    "linear_b_grad_over_features": "sum dout over the features instead of over the batch",
    "grads_overwritten": "overwrite W.grad/b.grad (=) instead of adding (+=)",
    "he_fan_out": "use out_features as the fan-in",
    "he_lecun": "use variance 1 / in_features",
    "he_unscaled": "draw from a standard normal without scaling it",
    # softmax_cross_entropy
    "loss_summed": "sum the loss over the batch instead of averaging it",
    "loss_sign_flipped": "forget the minus sign",
    "loss_per_example": "return the loss of every example instead of their mean",
    "loss_over_classes": "average over every entry of the (N, K) table, classes too, instead of over the batch",
    "loss_grad_not_averaged": "forget to divide the gradient by the batch size N (sum over the batch instead of the mean)",
    "loss_grad_over_classes": "divide the gradient by the number of classes K instead of the batch size N",
    "loss_grad_no_one_hot": "return softmax(logits) without subtracting the one-hot labels",
    "loss_grad_sign_flipped": "subtract the softmax from the one-hot labels (the sign is flipped)",
    "softmax_no_max_shift": "forget to subtract each row's maximum before exp (exp overflows)",
    "softmax_log_of_underflow": (
        "take log(p) after p underflowed to 0 (subtracting the maximum is not enough when a score is far below "
        "it; use log-sum-exp: log p = z - max - log(sum(exp(z - max))))"
    ),
    # Adam
    "adam_no_bias_correction": "leave out the bias correction (m_hat = m / (1 - beta1 ** t), and v likewise)",
    "adam_correction_without_t": (
        "divide by (1 - beta1) and (1 - beta2) at every step: the bias correction needs ** t "
        "(1 - beta1 ** t), with t the step count (an un-incremented t = 1 does the same)"
    ),
    "adam_step_count_ahead": (
        "count the steps from 2: t starts at 1 and is incremented before it is used (start it at 0, "
        "and increment it before the update)"
    ),
    "adam_step_count_zero": (
        "use t = 0 at the first step (t starts at 0 and is used before it is incremented, or never incremented): "
        "1 - beta1 ** 0 is 0, so m_hat and v_hat divide by zero; increment t before the update"
    ),
    "adam_eps_inside_sqrt": "add eps inside the square root (sqrt(v_hat + eps)) instead of after it",
    "adam_settings_ignored": "ignore the settings given to the constructor",
    # DigitCNN
    "flipped_kernel": "flip the kernel in conv2d_forward (your first part: deep-learning convolution slides w as it is)",
    "digitcnn_unpadded": "leave out padding=(0, 1) in the convolutions",
    "digitcnn_no_relu": "leave out the ReLU layers",
    "global_mask": (
        "give every tied maximum of a MaxPool2d window the gradient (the lesson's global mask, in your first part)"
    ),
    "conv_batch_mean": (
        "average the convolution's gradients over the batch (your first part's conv2d_backward or Conv2d: "
        "the gradient of a sum is not averaged)"
    ),
    "digitcnn_flatten_not_global_pool": (
        "use Flatten where GlobalMaxPool2d belongs (the last layer then sees 32 * 6 = 192 inputs)"
    ),
    "digitcnn_linear_w_transposed": "store Linear's W as (out_features, in_features)",
}

known = SimpleNamespace(**{ident: Mistake(ident, phrase) for ident, phrase in REGISTRY.items()})


# Adam -------------------------------------------------------------------
# Each variant: how it counts t at step k (1, 2, ...), and how it corrects m and v.
ADAM_VARIANTS = {
    None: ("k", "power"),  # the reference
    known.adam_no_bias_correction: ("k", "none"),
    known.adam_correction_without_t: ("k", "no_power"),
    known.adam_step_count_ahead: ("k+1", "power"),
    known.adam_step_count_zero: ("k-1", "power"),
    known.adam_eps_inside_sqrt: ("k", "eps_inside"),
}


def adam(values, grads, variant=None, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8):
    """Every parameter's data after the last of `grads`' steps (a list of arrays per parameter),
    as Adam computes it, or as the mistake `variant` (a key of ADAM_VARIANTS) does."""
    count, rule = ADAM_VARIANTS[variant]
    data = [np.array(v, dtype=np.float64) for v in values]
    m = [np.zeros_like(v) for v in data]
    v2 = [np.zeros_like(v) for v in data]
    with np.errstate(all="ignore"):  # t = 0 divides by zero, as the wrong code does
        for k, step_grads in enumerate(grads, start=1):
            t = {"k": k, "k+1": k + 1, "k-1": k - 1}[count]
            for i, g in enumerate(step_grads):
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v2[i] = beta2 * v2[i] + (1 - beta2) * g**2
                if rule == "none":
                    m_hat, v_hat = m[i], v2[i]
                elif rule == "no_power":
                    m_hat, v_hat = m[i] / (1 - beta1), v2[i] / (1 - beta2)
                else:
                    m_hat, v_hat = m[i] / (1 - beta1**t), v2[i] / (1 - beta2**t)
                scale = np.sqrt(v_hat + eps) if rule == "eps_inside" else np.sqrt(v_hat) + eps
                data[i] = data[i] - lr * m_hat / scale
    return data


# softmax cross-entropy ---------------------------------------------------
def log_softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax_without_max_shift(logits, labels):
    """(loss, dlogits) with p = exp(z) / sum(exp(z)) and -log p[y]: exp overflows for large scores."""
    with np.errstate(all="ignore"):
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        rows = np.arange(len(labels))
        return np.asarray(-np.log(p[rows, labels]).mean()), (p - np.eye(logits.shape[1])[labels]) / len(labels)


def softmax_log_of_probabilities(logits, labels):
    """(loss, dlogits) with the maximum subtracted, but -log p[y] taken of p itself: p underflows to 0
    when a label's score is far below its row's maximum, and log(0) is -inf."""
    with np.errstate(all="ignore"):
        shifted = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        rows = np.arange(len(labels))
        return np.asarray(-np.log(p[rows, labels]).mean()), (p - np.eye(logits.shape[1])[labels]) / len(labels)
