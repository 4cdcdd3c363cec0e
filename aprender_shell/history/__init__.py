"""The user's shell history: its files and formats, what was added since, what must not be kept.

The first layer of the data's way (history → model → queries): ``formats`` parses zsh, bash
and fish history, ``files`` finds and reads the user's files, ``marks`` notices what was added
since the last read, ``secrets`` decides what must never be learned, ``tokens`` splits a
command as the shell does. Nothing here knows the model. (Import the modules themselves: the
query path must not pay for parsing code it never runs.)
"""
