"""The storage contract: one suite of tests that every backend of app/store must pass."""
