"""Messages, webhooks, feeds: against a real SMTP server and local HTTP receivers."""
