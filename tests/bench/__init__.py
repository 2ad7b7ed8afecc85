"""`make bench`: the server against bare Flask + waitress, sync, and hubs on each backend."""
