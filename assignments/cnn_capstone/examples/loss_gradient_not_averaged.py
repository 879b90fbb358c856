"""softmax_cross_entropy's gradient is not divided by the batch size."""
# affects: softmax_cross_entropy train
# mistake: loss_grad_not_averaged
# feedback names: forget to divide the gradient by the batch size



def softmax_cross_entropy(logits, labels):
    loss, dlogits = _reference_softmax_cross_entropy(logits, labels)
    return loss, dlogits * len(labels)
