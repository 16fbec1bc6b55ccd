"""The Neo4j backend: twins as nodes, relationships as typed edges, batched Cypher."""

from graph.neo4j.store import Neo4jGraph

__all__ = ["Neo4jGraph"]
