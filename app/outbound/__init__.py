"""Sending the outbox: email over SMTP, SMS through a provider's HTTP API, signed webhooks.

Below the web layer and beside sync: it uses the store and the domain, never Flask. The one
sending node of a chain runs app.outbound.worker (README § Messages and webhooks).
"""
