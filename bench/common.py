"Pieces the benchmark scripts share."
import torch.nn as nn
from fastai_lesson4.learner import Callback, CancelTrainException, CancelValidException

class TrainOnly(Callback):
    "Skip validation; stop training after `n` batches if given (the stock fastai paths); runs on both Learners"
    def __init__(self, n=None): self.n = n
    def after_batch(self):
        if self.n and self.training and self.iter + 1 >= self.n: raise CancelTrainException()
    def before_validate(self): raise CancelValidException()

def mlp(): return nn.Sequential(nn.Flatten(), nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
