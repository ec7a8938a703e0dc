"""Asking a running Gradio app (Gradio 4 or later, through `gradio_client`) for digits. Runs in the sandbox.

The endpoint comes from the app's own API description (`view_api`): the first named endpoint,
`/predict` preferred, whose parameters include one image-like component; its other parameters
get their defaults. How a digit is sent depends on that component:

    Image                          a file (FileData)
    Sketchpad, ImageEditor, Paint  {"background", "layers", "composite"} of files (Gradio 4+)
    File                           a PNG file
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from grader_inside.apps.digits import IMAGE_FORMS, SKETCH_FORMS, Form, background, render

IMAGE_LIKE = {"image": "image", "sketchpad": "sketch", "imageeditor": "sketch", "paint": "sketch",
              "imagemask": "sketch", "file": "file"}
PREFERRED_NAMES = ("/predict", "/classify", "/recognize", "/recognise")


class NoEndpoint(Exception):
    """The app describes no endpoint that takes an image."""


@dataclass(frozen=True)
class Endpoint:
    api_name: str
    component: str  # as the app describes it: Image, Sketchpad, ...
    role: str  # image | sketch | file
    position: int
    defaults: tuple[Any, ...]  # every parameter's value; the image's slot is replaced per request
    outputs: tuple[str, ...]


def choose_endpoint(api: dict[str, Any]) -> Endpoint:
    found: list[Endpoint] = []
    for name, info in (api.get("named_endpoints") or {}).items():
        params = info.get("parameters") or []
        slots = [i for i, p in enumerate(params) if str(p.get("component", "")).lower() in IMAGE_LIKE]
        if len(slots) != 1:
            continue
        position = slots[0]
        component = str(params[position].get("component"))
        defaults = tuple(p.get("parameter_default") for p in params)
        outputs = tuple(str(r.get("component", "")) for r in info.get("returns") or [])
        found.append(Endpoint(name, component, IMAGE_LIKE[component.lower()], position, defaults, outputs))
    if not found:
        described = sorted((api.get("named_endpoints") or {}).keys())
        raise NoEndpoint(f"no endpoint takes an image (endpoints: {', '.join(described) or 'none'})")
    for preferred in PREFERRED_NAMES:
        for endpoint in found:
            if endpoint.api_name == preferred:
                return endpoint
    return found[0]


class GradioTarget:
    kind = "gradio"

    def __init__(self, url: str, request_timeout_s: float) -> None:
        from gradio_client import Client

        self.client = Client(url, verbose=False, download_files=False, analytics_enabled=False)
        self.endpoint = choose_endpoint(self.client.view_api(return_format="dict", print_info=False))
        self.timeout = request_timeout_s
        self.folder = Path(tempfile.mkdtemp(prefix="digits-"))
        self.forms: tuple[Form, ...] = SKETCH_FORMS if self.endpoint.role == "sketch" else IMAGE_FORMS

    def describe(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint.api_name, "input": self.endpoint.component,
                "outputs": list(self.endpoint.outputs)}

    def _file(self, image: Any, name: str) -> Any:
        from gradio_client import handle_file

        path = self.folder / f"{name}.png"
        image.save(path, format="PNG")
        return handle_file(str(path))

    def ask(self, digit: np.ndarray, form: Form) -> Any:
        image = render(digit, form)
        if self.endpoint.role == "sketch":
            strokes = image.convert("RGBA")
            back = background(form)
            value: Any = {"background": self._file(back, "background"), "layers": [self._file(strokes, "layer")],
                          "composite": self._file(Image.alpha_composite(back, strokes), "composite")}
        else:
            value = self._file(image, "digit")
        args = list(self.endpoint.defaults)
        args[self.endpoint.position] = value
        job = self.client.submit(*args, api_name=self.endpoint.api_name)
        return job.result(timeout=self.timeout)

