"""The sentinel-hello-b example plugin."""
