"""softmax_cross_entropy subtracts each row's maximum but takes log(p): a label's p that underflowed to 0 gives an infinite loss."""
# affects: softmax_cross_entropy
# mistake: softmax_log_of_underflow
# feedback names: use log-sum-exp



def softmax_cross_entropy(logits, labels):
    logits = np.asarray(logits, dtype=np.float64)
    N = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(N), labels]).mean()
    dlogits = p.copy()
    dlogits[np.arange(N), labels] -= 1.0
    return float(loss), dlogits / N
