"""Turning answers into what people read: Slack messages and Block Kit (``slack``,
``blocks``), Markdown to mrkdwn and plain text (``mrkdwn``), the terminal and JSON (``text``)."""
