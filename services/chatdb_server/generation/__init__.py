"""SQL generation's shared ground: the generator interface, the prompt, fine-tuned adapters."""
