"""Rasa input channels of the e户政 assistant (the web chat used by the WeChat mini-program)."""
