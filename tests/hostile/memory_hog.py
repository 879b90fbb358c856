"""maxpool_forward asks for 50 GB (np.ones(50e9 / 8))."""


def maxpool_forward(x, pool_size=2, stride=None):
    raise NotImplementedError("maxpool_forward is not written yet")


# ==== HOSTILE ====
def maxpool_forward(x, pool_size=2, stride=None):
    huge = np.ones(int(50e9 / 8))
    return huge[:1].reshape(1, 1, 1, 1)
