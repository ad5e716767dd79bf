"""A declared plugin whose import fails, to prove listing never imports it."""
