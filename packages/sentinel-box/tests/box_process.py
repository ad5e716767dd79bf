"""A child process for the multi-process tests: one Box client driven over stdin.

It reads a JSON spec (box settings and Redis URL) from argv[1], builds a
client, prints ``ready`` and then runs one command per stdin line:
``me`` (get the current user), ``upload PATH FOLDER``, ``upload_dir DIR
FOLDER`` (every file of DIR) or ``exit``. Each
response is one JSON line on stdout.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Any


def _run(client: Any, line: str) -> dict[str, Any]:
    from sentinel.box import upload_file

    command, *args = line.split()
    if command == "me":
        return {"ok": True, "user": str(client.users.get_user_me().id)}
    if command == "upload":
        result = upload_file(client, Path(args[0]), args[1])
        return {"ok": True, "action": result.action}
    if command == "upload_dir":
        actions = [
            upload_file(client, path, args[1]).action
            for path in sorted(Path(args[0]).iterdir())
        ]
        return {"ok": True, "actions": actions}
    raise ValueError(f"unknown command {command!r}")


def main() -> None:
    """Serve commands until ``exit`` or the end of stdin."""
    from sentinel.box import make_client

    spec = json.loads(sys.argv[1])
    client = make_client(spec["settings"], redis_url=spec.get("redis_url"))
    print("ready", flush=True)
    for raw in sys.stdin:
        line = raw.strip()
        if not line or line == "exit":
            break
        try:
            response = _run(client, line)
        except Exception as error:
            response = {
                "ok": False,
                "error": repr(error),
                "trace": traceback.format_exc(),
            }
        print(json.dumps(response), flush=True)


if __name__ == "__main__":
    main()
