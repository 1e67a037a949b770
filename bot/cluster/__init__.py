"""The replicated topology (``python -m bot run-cluster``, docs/deploy.md).

- :mod:`bot.cluster.settings`: ports, replica counts and the shared services' addresses.
- :mod:`bot.cluster.nginx`: the generated nginx configuration (public surface, upstreams).
- :mod:`bot.cluster.health`: active health checks that take replicas out and put them back.
- :mod:`bot.cluster.broker`: Rasa's Pika event broker, buffered and confirmed.
- :mod:`bot.cluster.run`: prepares the databases and runs everything under the supervisor.
"""
