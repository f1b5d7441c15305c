"""One router per area of the API; ``main.create_app`` includes them all."""
