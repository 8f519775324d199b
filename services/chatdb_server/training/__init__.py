"""TrainingService: durable jobs that index schemas into vectors, golden examples, fine-tunes."""
