"""The sentinel-hello-a example plugin."""
