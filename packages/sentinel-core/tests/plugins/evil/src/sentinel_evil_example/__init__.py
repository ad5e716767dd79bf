"""A third-party plugin that declares names owned by first-party plugins."""
