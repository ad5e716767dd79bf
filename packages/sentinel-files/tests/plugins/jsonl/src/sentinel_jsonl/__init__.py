"""A JSON Lines file format for sentinel, added through the plugin entry point."""
