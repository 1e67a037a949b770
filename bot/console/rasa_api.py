"""The part of Rasa's HTTP API the console uses: load a model into the running server.

``PUT /model?token=…`` with ``{"model_file": "/abs/path/model.tar.gz"}`` makes ``rasa run
--enable-api --auth-token …`` load that model and answer with it from then on (204 when done;
loading takes about a minute). The token is never logged.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote


class RasaApiError(RuntimeError):
    """The Rasa server refused or did not answer (message is user-facing Chinese)."""


def _call(
    base_url: str, token: str, method: str, path: str, body: Any, timeout: float
) -> tuple[int, bytes]:
    url = f"{base_url.rstrip('/')}{path}?token={quote(token, safe='')}"
    data = json.dumps(body).encode("utf-8") if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - the configured Rasa server (http)
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise RasaApiError("Rasa 接口令牌无效（RASA_AUTH_TOKEN）") from None
        raise RasaApiError(f"Rasa 服务器返回 {exc.code}") from None
    except (OSError, ValueError) as exc:
        raise RasaApiError(f"无法连接 Rasa 服务器（{type(exc).__name__}）") from None


def load_model(base_url: str, token: str, model_file: str, timeout: float = 600.0) -> None:
    """Make the running Rasa server load ``model_file`` and check that it did.

    Args:
        base_url: the Rasa server, e.g. ``http://127.0.0.1:5005``.
        token: the HTTP API token (``--auth-token``).
        model_file: absolute path of the model on the Rasa server's machine.
        timeout: seconds to wait for the load.

    Raises:
        RasaApiError: no token, the server refused, did not answer, or serves another model.

    """
    if not token:
        raise RasaApiError("未配置 Rasa 接口令牌（RASA_AUTH_TOKEN）")
    status, _ = _call(base_url, token, "PUT", "/model", {"model_file": model_file}, timeout)
    if status not in (200, 204):
        raise RasaApiError(f"Rasa 服务器返回 {status}")
    _, raw = _call(base_url, token, "GET", "/status", None, 30.0)
    try:
        serving = str(json.loads(raw or b"{}").get("model_file") or "")
    except (ValueError, AttributeError):
        serving = ""
    if Path(serving).name != Path(model_file).name:
        raise RasaApiError("Rasa 服务器加载后仍在使用其他模型")
