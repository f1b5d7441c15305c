"""A corpus of real-app shapes (issue 12): small FastAPI apps, their requests, their traces."""
