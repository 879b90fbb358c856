"""The leaderboard's convolution answers a repeated input from a cache.

Honest part: the four-loop conv2d_forward and conv2d_backward of
capstone_cache_last_answer.py (the same twin). Hostile part: each answer is
kept under a cheap fingerprint of its inputs (shapes and a few values), and
given again when a call's inputs have the same fingerprint: right answers,
fast, as long as inputs repeat.
"""
# include: capstone_four_loop_conv.py
# ==== HOSTILE ====
_slow_forward, _slow_backward, _cache = conv2d_forward, conv2d_backward, {}


def _fingerprint(*arrays):
    return tuple((np.shape(a), np.asarray(a, dtype=np.float64).ravel()[:16].tobytes()) for a in arrays)


def conv2d_forward(x, w, b, stride=1, padding=0):
    key = ("forward", _fingerprint(x, w, b), stride, str(padding))
    if key not in _cache:
        _cache[key] = _slow_forward(x, w, b, stride, padding)
    return _cache[key]


def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    key = ("backward", _fingerprint(dout, x, w, b), stride, str(padding))
    if key not in _cache:
        _cache[key] = _slow_backward(dout, x, w, b, stride, padding)
    return _cache[key]
