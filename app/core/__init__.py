"""The pure core: clock, instants, ids, JSON codec, deadlines and the shared vocabulary.

Imports nothing of ours (`make lint` checks it), so every layer above may use it.
"""
