"""The Slack app: the Bolt app factory, its listeners, the HTTP and Socket Mode servers,
and the outbox that retries replies Slack could not take."""
