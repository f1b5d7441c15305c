"""The ``trace-request`` command line: parse arguments, drive one request, render its trace."""
