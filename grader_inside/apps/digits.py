"""How a hidden digit is drawn for an app: the forms a person would give it. Runs inside the sandbox.

    mnist   light strokes on black, as MNIST stores them
    paper   black strokes on white (a photo or scan of a digit on paper)
    ink     black strokes on a transparent canvas (what Gradio's Sketchpad sends: RGBA)

Each form comes at 28x28 and at a canvas size (bilinear up-scaling), since many apps resize
whatever they get and some expect MNIST's size exactly.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

CANVAS = 280


@dataclass(frozen=True)
class Form:
    style: str  # mnist | paper | ink
    side: int

    @property
    def name(self) -> str:
        return f"{self.style}@{self.side}"


IMAGE_FORMS = (Form("mnist", 28), Form("paper", 28), Form("mnist", CANVAS), Form("paper", CANVAS),
               Form("ink", CANVAS))
SKETCH_FORMS = (Form("ink", CANVAS), Form("paper", CANVAS), Form("mnist", CANVAS), Form("ink", 28),
                Form("mnist", 28))


def render(digit: np.ndarray, form: Form) -> Image.Image:
    """A 28x28 uint8 MNIST digit (light on dark) drawn in `form`."""
    gray = Image.fromarray(np.ascontiguousarray(digit, dtype=np.uint8), mode="L")
    if form.side != gray.width:
        gray = gray.resize((form.side, form.side), Image.Resampling.BILINEAR)
    if form.style == "mnist":
        return gray.convert("RGB")
    inverted = Image.fromarray(255 - np.asarray(gray), mode="L")
    if form.style == "paper":
        return inverted.convert("RGB")
    ink = Image.new("RGBA", gray.size, (0, 0, 0, 0))
    ink.putalpha(gray)  # black where the stroke is, transparent elsewhere
    return ink


def background(form: Form) -> Image.Image:
    """The empty canvas behind the strokes of `form` (Sketchpad's background layer)."""
    colour = {"mnist": (0, 0, 0, 255), "paper": (255, 255, 255, 255)}.get(form.style, (0, 0, 0, 0))
    return Image.new("RGBA", (form.side, form.side), colour)


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
