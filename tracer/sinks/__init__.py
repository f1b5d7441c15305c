"""Sinks: where finished traces go.

OpenTelemetry exporters, the local store and the trace endpoint.
"""
