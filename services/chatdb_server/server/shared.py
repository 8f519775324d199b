"""The pieces several services use, one of each per process (through ``Components.shared``):
the schema catalog, the embedding model, the vector store, the retriever, the prediction engine."""

from __future__ import annotations

from chatdb_server.generation.adapters import AdapterRegistry
from chatdb_server.prediction.engine import PredictionEngine
from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.retrieval.retriever import Retriever
from chatdb_server.retrieval.vectors import VectorStore
from chatdb_server.schema.catalog import SchemaCatalog
from chatdb_server.server.components import Components
from chatdb_server.sql.admission import SourceAdmission


def shared_catalog(components: Components) -> SchemaCatalog:
    """The process's schema catalog."""
    catalog: SchemaCatalog = components.shared(
        "schema.catalog", lambda: SchemaCatalog(components.store, components.box, components.pages,
                                                admission=SourceAdmission.from_settings(components.settings),
                                                min_refresh_interval_s=components.settings.min_refresh_interval_s))
    return catalog


def shared_embedder(components: Components) -> Embedder:
    """The process's sentence-embedding model."""
    settings = components.settings
    return Embedder.shared(settings.embedding_model, settings.embedding_document_precision)


def shared_vectors(components: Components) -> VectorStore:
    """The process's vector store (closed at shutdown)."""
    def build() -> VectorStore:
        settings = components.settings
        vectors = VectorStore(settings.resolved_milvus_uri, settings.milvus_token, shared_embedder(components).dim,
                              timeout_s=settings.milvus_timeout_s)

        async def close() -> None:
            vectors.close()

        components.on_close(close)
        return vectors

    vectors: VectorStore = components.shared("training.vectors", build)
    return vectors


def shared_retriever(components: Components) -> Retriever:
    """The process's retriever."""
    retriever: Retriever = components.shared(
        "training.retriever", lambda: Retriever(shared_embedder(components), shared_vectors(components)))
    return retriever


def shared_adapters(components: Components) -> AdapterRegistry:
    """The process's registry of fine-tuned adapters."""
    registry: AdapterRegistry = components.shared(
        "prediction.adapters", lambda: AdapterRegistry(components.store, components.settings.resolved_model_store))
    return registry


def shared_prediction_engine(components: Components) -> PredictionEngine:
    """The process's prediction engine (started by whoever hosts PredictionService, or by QueryService)."""
    engine: PredictionEngine = components.shared(
        "prediction.engine", lambda: PredictionEngine.from_settings(components.settings, shared_adapters(components)))
    return engine
