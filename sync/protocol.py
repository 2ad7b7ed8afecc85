"""The sync protocol's version, shared by the hub's request model and the node's client.

Here, not in the web layer, so the client can name it without importing Flask.
"""

SYNC_PROTOCOL = 1  # major version (SYNC.md §3): a hub refuses a push naming another
