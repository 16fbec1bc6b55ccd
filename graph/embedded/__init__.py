"""The embedded backend: networkx in memory, SQLite journal on disk."""

from graph.embedded.store import EmbeddedGraph

__all__ = ["EmbeddedGraph"]
