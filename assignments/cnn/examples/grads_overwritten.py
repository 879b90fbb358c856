"""Conv2d.backward assigns W.grad and b.grad instead of adding to them."""
# affects: Conv2d
# feedback names: instead of adding



def _overwriting_backward(self, dout):
    dx, dw, db = conv2d_backward(dout, self._x, self.W.data, self.b.data, self.stride, self.padding)
    self.W.grad = dw
    self.b.grad = db
    return dx


Conv2d.backward = _overwriting_backward
