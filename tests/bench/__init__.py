"""`make bench`: the real server against bare Flask + waitress servers (not collected)."""
