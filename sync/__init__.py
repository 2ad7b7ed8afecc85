"""The sync protocol: merge rules, the hub's push and pull, the node's engine, client, worker.

It uses the core, storage (whose change log every write appends to) and the domain, and never
the web layer: the hub's routes (app/web/routes/hub.py) call in here.
"""
