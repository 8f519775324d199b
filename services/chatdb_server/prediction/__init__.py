"""PredictionService: SQL generation by vLLM, an OpenAI-compatible endpoint, or the template generator."""
