"""DTDL v2-v4 parser, validator and model registry. No network I/O."""
