"""The template SQL generator: no model, deterministic, grounded in the schema."""

from chatdb_server.prediction.template.generator import MODEL_NAME, TemplateGenerator

__all__ = ["MODEL_NAME", "TemplateGenerator"]
