"""The leaderboard's convolution remembers its last answer and gives it again.

Honest part (the twin, an honest four-loop leaderboard entry): the
capstone's conv2d_forward and conv2d_backward, the names the speed check
times, written with four loops as in the lesson (training still runs the
reference Conv2d of cnn_layers). Hostile part: after its first call at a
size, each function answers what it answered last at that size. Before
issue 16 the timed calls repeated the untimed first call's input: this
recorded under 4 ms against hundreds, first on the leaderboard.
"""
# include: capstone_four_loop_conv.py
# ==== HOSTILE ====
_slow_forward, _slow_backward, _last = conv2d_forward, conv2d_backward, {}


def conv2d_forward(x, w, b, stride=1, padding=0):
    key = ("forward", np.shape(x), np.shape(w))
    if key not in _last:
        _last[key] = _slow_forward(x, w, b, stride, padding)
    return _last[key]


def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    key = ("backward", np.shape(x), np.shape(w))
    if key not in _last:
        _last[key] = _slow_backward(dout, x, w, b, stride, padding)
    return _last[key]
