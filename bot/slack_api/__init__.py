"""Reaching Slack's Web API: the client with its retry policy, and the installations
(tokens) of every workspace in multi-workspace mode."""
