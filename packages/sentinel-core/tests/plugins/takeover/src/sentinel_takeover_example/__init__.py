"""A third-party plugin that declares a first-party config section."""
