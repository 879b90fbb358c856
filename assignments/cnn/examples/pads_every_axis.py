"""Passes an int padding straight to np.pad, which pads the batch and channel axes too."""
# affects: pad
# feedback names: pad the batch and channel axes too



def pad(x, padding, value=0):
    if isinstance(padding, int):
        return np.pad(x, padding, mode="constant", constant_values=value)
    return _reference_pad(x, padding, value)
