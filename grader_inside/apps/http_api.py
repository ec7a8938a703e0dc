"""Asking a running HTTP API (FastAPI or any server with an OpenAPI description) for digits.

Runs in the sandbox. The endpoint comes from `/openapi.json`: a POST operation whose body is a
multipart form with a file field (an uploaded image), or JSON with an array of pixels (flat 784
values or 28 rows of 28), preferring paths that say predict/classify/recognize. Without an OpenAPI
description, a POST path named like that is tried with a file field called `file`.
"""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader_inside.apps.digits import Form, png_bytes, render

FILE_FORMS = (Form("mnist", 28), Form("paper", 28), Form("mnist", 280), Form("paper", 280))
PIXEL_FORMS = (Form("unit", 28), Form("byte", 28))  # values 0..1 or 0..255, MNIST polarity
NAMED = re.compile(r"predict|classif|recogn|digit|infer|mnist", re.IGNORECASE)
GUESSED_PATHS = ("/predict", "/predict/", "/classify", "/api/predict")
MAX_BODY = 1024 * 1024


class NoEndpoint(Exception):
    """The server describes no endpoint that takes an image or pixels."""


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    body: str  # file | pixels | pixels_body (the JSON body itself is the array)
    field: str
    nested: bool = False  # pixels as 28 rows of 28


def _resolve(doc: dict[str, Any], schema: Any, depth: int = 0) -> dict[str, Any]:
    if not isinstance(schema, dict) or depth > 8:
        return {}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        node: Any = doc
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return _resolve(doc, node, depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(key), list):
            for option in schema[key]:
                resolved = _resolve(doc, option, depth + 1)
                if resolved.get("type") not in (None, "null") or "properties" in resolved:
                    return resolved
    return schema


def _is_file(doc: dict[str, Any], schema: Any) -> bool:
    s = _resolve(doc, schema)
    if s.get("type") == "array":
        return _is_file(doc, s.get("items"))
    return s.get("type") == "string" and (s.get("format") == "binary" or "contentMediaType" in s)


def _array_depth(doc: dict[str, Any], schema: Any) -> int:
    """1 for an array of numbers, 2 for an array of arrays of numbers, 0 otherwise."""
    s = _resolve(doc, schema)
    if s.get("type") != "array":
        return 0
    items = _resolve(doc, s.get("items"))
    if items.get("type") in ("number", "integer"):
        return 1
    inner = _array_depth(doc, items)
    return inner + 1 if inner else 0


def operations(doc: dict[str, Any]) -> list[Operation]:
    found: list[Operation] = []
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in ("post", "put"):
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            content = ((op.get("requestBody") or {}).get("content")) or {}
            form = _resolve(doc, (content.get("multipart/form-data") or {}).get("schema"))
            for name, prop in (form.get("properties") or {}).items():
                if _is_file(doc, prop):
                    found.append(Operation(path, method, "file", name))
                    break
            body = _resolve(doc, (content.get("application/json") or {}).get("schema"))
            depth = _array_depth(doc, body)
            if depth:
                found.append(Operation(path, method, "pixels_body", "", nested=depth >= 2))
            for name, prop in (body.get("properties") or {}).items():
                depth = _array_depth(doc, prop)
                if depth:
                    found.append(Operation(path, method, "pixels", name, nested=depth >= 2))
                    break
    return sorted(found, key=lambda o: (NAMED.search(o.path) is None, o.body != "file"))


def _request(url: str, method: str = "GET", data: bytes | None = None, headers: dict[str, str] | None = None,
             timeout: float = 10.0) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read(MAX_BODY)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(MAX_BODY) if exc.fp else b""


def _multipart(field: str, filename: str, payload: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + payload + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class RequestFailed(Exception):
    """The endpoint answered with an error status."""


class HttpTarget:
    kind = "http"

    def __init__(self, url: str, request_timeout_s: float) -> None:
        self.url = url.rstrip("/")
        self.timeout = request_timeout_s
        self.health = self._health()
        code, raw = _request(self.url + "/openapi.json", timeout=self.timeout)
        doc: dict[str, Any] = {}
        if code == 200:
            try:
                loaded = json.loads(raw)
                doc = loaded if isinstance(loaded, dict) else {}
            except ValueError:
                doc = {}
        self.described = bool(doc.get("paths"))
        found = operations(doc) or [Operation(p, "post", "file", "file") for p in GUESSED_PATHS if not doc]
        if not found:
            paths = ", ".join(sorted(doc.get("paths") or {})) or "none"
            raise NoEndpoint(f"no endpoint takes an image file or an array of pixels (paths: {paths})")
        self.candidates = found
        self.operation = found[0]
        self.forms: tuple[Form, ...] = FILE_FORMS if self.operation.body == "file" else PIXEL_FORMS

    def _health(self) -> dict[str, Any]:
        try:
            code, raw = _request(self.url + "/", timeout=self.timeout)
        except OSError as exc:
            return {"status": None, "error": str(exc)[:200]}
        return {"status": code, "body": raw[:200].decode(errors="replace")}

    def describe(self) -> dict[str, Any]:
        op = self.operation
        return {"endpoint": f"{op.method.upper()} {op.path}", "input": op.body, "field": op.field,
                "nested": op.nested, "openapi": self.described, "health": self.health}

    def ask(self, digit: np.ndarray, form: Form) -> Any:
        op = self.operation
        if op.body == "file":
            body, ctype = _multipart(op.field, "digit.png", png_bytes(render(digit, form)))
        else:
            pixels = digit.astype(np.float64) / 255.0 if form.style == "unit" else digit.astype(np.int64)
            values: Any = pixels.tolist() if op.nested else pixels.reshape(-1).tolist()
            body = json.dumps(values if op.body == "pixels_body" else {op.field: values}).encode()
            ctype = "application/json"
        code, raw = _request(self.url + op.path, op.method.upper(), body, {"Content-Type": ctype}, self.timeout)
        if code >= 400:
            raise RequestFailed(f"HTTP {code}: {raw[:200].decode(errors='replace')}")
        try:
            return json.loads(raw)
        except ValueError:
            return raw[:200].decode(errors="replace")
