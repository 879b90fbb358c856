"""DigitCNN with Flatten where GlobalMaxPool2d belongs: the lesson's claim without its correction."""
# affects: DigitCNN train
# mistake: digitcnn_flatten_not_global_pool
# feedback names: use Flatten where GlobalMaxPool2d belongs



class DigitCNN(FlattenCNN):
    pass
