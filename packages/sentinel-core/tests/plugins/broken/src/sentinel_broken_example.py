"""A plugin module that fails at import, as a plugin with a bad release would."""

raise RuntimeError("this plugin is broken on purpose")
