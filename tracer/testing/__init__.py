"""Testing helpers: the ``trace_requests`` pytest fixture."""
