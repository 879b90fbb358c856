"""DigitCNN with Flatten where GlobalMaxPool2d belongs: the lesson's claim without its correction."""
# affects: DigitCNN train
# feedback names: use Flatten where GlobalMaxPool2d belongs



class DigitCNN(FlattenCNN):
    pass
