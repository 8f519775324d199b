"""Retrieval: embeddings, the vector store, table documents, and the schema context a question gets."""
