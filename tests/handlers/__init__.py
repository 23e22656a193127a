"""Durable handlers the tests share: imported by in-process tests, copied into a function folder by live ones."""
