"""Known causes of crashes in the capstone: those of the first part's layers (which the network
calls: crop at zero padding, integer accumulators, NumPy 2's removals) apply here as they are."""

from autograder.suites.cnn.crashes import CAUSES as PART1_CAUSES

CAUSES = (*PART1_CAUSES,)
