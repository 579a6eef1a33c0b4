"""The bot on the web: the app and its lifespan, the loading gate, the server, the webhook
receiver and the health probes."""
