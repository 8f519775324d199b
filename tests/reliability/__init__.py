"""The reliability suite: sustained load against a real server process (``make reliability``)."""
