"""softmax_cross_entropy without subtracting each row's maximum: exp overflows for scores in the hundreds."""
# affects: softmax_cross_entropy
# mistake: softmax_no_max_shift
# feedback names: subtract each row's maximum



def softmax_cross_entropy(logits, labels):
    logits = np.asarray(logits, dtype=np.float64)
    N = logits.shape[0]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(N), labels]).mean()
    dlogits = p.copy()
    dlogits[np.arange(N), labels] -= 1.0
    return float(loss), dlogits / N
