"""A plugin package made for core API 2, which this core must not import."""
