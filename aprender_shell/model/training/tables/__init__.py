"""The tables training builds beside the commands' own (``train.py``): n-gram continuations,
pairs, where and how commands ran, and packing them all into segments."""
