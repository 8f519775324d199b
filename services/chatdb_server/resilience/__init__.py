"""Resilience: circuit breakers in front of every dependency and the degradation level they feed."""
