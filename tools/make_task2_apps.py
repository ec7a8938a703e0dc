#!/usr/bin/env python
"""Generate the Task 2 bonus samples: web apps, API servers and Docker files (submissions/task2_apps/).

One folder per student, each with a stub notebook (the entry the pipeline runs) and the app files
the bonus checks grade by running them. The model is a tiny PyTorch CNN trained here on the demo
digits' training split and saved as a state_dict (`model.pth`), which every app loads with
`torch.load(weights_only=True)`, as students do. Written as students write them
(see ../shared/REAL_SUBMISSIONS.md): `launch(share=True, debug=True)`, Gradio 2's `gr.inputs`,
a model file left out by .gitignore, Dockerfiles good and broken, a compose file.

Usage::

    python tools/make_task2_apps.py
"""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml
from nbformat.v4 import new_code_cell, new_notebook

from grader.data import build_demo_arrays

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "submissions" / "task2_apps"
SEED = 0
EPOCHS = 8


def d(src: str) -> str:
    return textwrap.dedent(src).lstrip("\n")


MODEL_CODE = d('''
    class Net(nn.Module):
        """Маленькая свёрточная сеть для MNIST."""

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 8, 3, padding=1)
            self.fc = nn.Linear(8 * 14 * 14, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv(x)), 2)
            return self.fc(x.flatten(1))
''')

PREPARE_CODE = d('''
    def prepare(img):
        """Картинка любого размера -> тензор 1x1x28x28, белая цифра на чёрном фоне."""
        img = Image.fromarray(np.asarray(img).astype(np.uint8)).convert("L").resize((28, 28))
        x = np.asarray(img, dtype=np.float32) / 255.0
        if x.mean() > 0.5:  # тёмная цифра на светлом фоне
            x = 1.0 - x
        return torch.from_numpy(x).reshape(1, 1, 28, 28)
''')

HEADER = d('''
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from PIL import Image
''')


def load_line(name: str) -> str:
    return f'model = Net()\nmodel.load_state_dict(torch.load("{name}", map_location="cpu", weights_only=True))\nmodel.eval()\n'


GRADIO6 = HEADER + "import gradio as gr\n\n" + MODEL_CODE + "\n\n" + load_line("model.pth") + "\n\n" + PREPARE_CODE + d('''


    def predict(image):
        if image is None:
            return {}
        with torch.no_grad():
            probs = torch.softmax(model(prepare(image)), dim=1)[0]
        return {str(i): float(p) for i, p in enumerate(probs)}


    demo = gr.Interface(fn=predict, inputs=gr.Image(type="numpy", image_mode="L", label="Цифра"),
                        outputs=gr.Label(num_top_classes=3), title="Распознавание цифр MNIST")

    if __name__ == "__main__":
        demo.launch(server_name="0.0.0.0", server_port=7860)
''')

SKETCHPAD = HEADER + "import gradio as gr\n\n" + MODEL_CODE + "\n\n" + load_line("mnist_cnn.pth") + "\n\n" + d('''
    def recognize(drawing):
        # Sketchpad в Gradio 4+ отдаёт словарь: background, layers, composite (RGBA)
        img = drawing["composite"]
        if img.ndim == 3 and img.shape[2] == 4:
            img = img[:, :, 3]  # альфа-канал: где рисовали
        img = Image.fromarray(img.astype(np.uint8)).resize((28, 28))
        x = torch.tensor(np.asarray(img), dtype=torch.float32).reshape(1, 1, 28, 28) / 255.0
        with torch.no_grad():
            digit = int(model(x).argmax(1))
        return f"Это цифра {digit}"


    with gr.Blocks() as demo:
        gr.Markdown("## Нарисуйте цифру")
        pad = gr.Sketchpad(type="numpy")
        out = gr.Textbox(label="Ответ")
        gr.Button("Распознать").click(recognize, inputs=pad, outputs=out, api_name="recognize")

    demo.launch(share=True, debug=True, inbrowser=True)
''')

FASTAPI = HEADER + "import io\n\nimport uvicorn\nfrom fastapi import FastAPI, File, UploadFile\n\n" + MODEL_CODE + "\n\n" + load_line("model.pth") + "\n\n" + PREPARE_CODE + d('''

    app = FastAPI(title="MNIST API")


    @app.get("/")
    def health():
        return {"status": "ok"}


    @app.post("/predict")
    async def predict(file: UploadFile = File(...)):
        image = Image.open(io.BytesIO(await file.read()))
        with torch.no_grad():
            probs = torch.softmax(model(prepare(image)), dim=1)[0]
        return {"digit": int(probs.argmax()), "probabilities": [round(float(p), 4) for p in probs]}


    if __name__ == "__main__":
        uvicorn.run(app, host="0.0.0.0", port=8000)
''')

GRADIO2 = HEADER + "import gradio as gr\n\n" + MODEL_CODE + "\n\n" + load_line("model.pth") + "\n\n" + d('''
    def classify(image):
        x = torch.tensor(image, dtype=torch.float32).reshape(1, 1, 28, 28) / 255.0
        probs = torch.softmax(model(x), dim=1)[0]
        return {str(i): float(p) for i, p in enumerate(probs)}


    iface = gr.Interface(fn=classify, inputs=gr.inputs.Image(shape=(28, 28), image_mode="L", source="canvas"),
                         outputs=gr.outputs.Label(num_top_classes=3), capture_session=True)
    iface.launch(share=True)
''')

GOOD_DOCKERFILE_WEB = d('''
    FROM python:3.11-slim
    WORKDIR /app
    COPY requirements.txt .
    RUN pip install --no-cache-dir -r requirements.txt
    COPY app.py model.pth ./
    EXPOSE 7860
    CMD ["python", "app.py"]
''')

GOOD_DOCKERFILE_API = d('''
    FROM python:3.11-slim
    WORKDIR /code
    RUN pip install --no-cache-dir torch --index-url https://download.pytorch.org/whl/cpu \\
        && pip install --no-cache-dir fastapi uvicorn python-multipart pillow numpy
    COPY . .
    EXPOSE 8000
    CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]
''')

BROKEN_DOCKERFILE = d('''
    FROM python:3.11-slim
    WORKDIR /app
    RUN pip install torch numpy pillow
    COPY app.py weights/model.pth ./
    EXPOSE 5000
    CMD python app.py
''')

BROKEN_APP = GRADIO6.replace('demo.launch(server_name="0.0.0.0", server_port=7860)', "demo.launch()")

COMPOSE = d('''
    services:
      api:
        build: ./api
        ports:
          - "8000:8000"
      web:
        build:
          context: ./web
        ports:
          - "7860:7860"
        environment:
          - API_URL=http://api:8000/predict
        depends_on:
          - api
''')

REQUIREMENTS_WEB = "gradio>=4.0\ntorch\nnumpy\npillow\n"


def notebook(text: str) -> object:
    nb = new_notebook(cells=[new_code_cell(d(text))])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def train_model() -> dict[str, torch.Tensor]:
    torch.manual_seed(SEED)
    ns: dict[str, object] = {"nn": nn, "F": F}
    exec(MODEL_CODE, ns)  # the very class the apps define
    model = ns["Net"]()  # type: ignore[operator]
    data = build_demo_arrays()
    x = torch.from_numpy(data.train_images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(data.train_labels.astype(np.int64))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(SEED)
    for _ in range(EPOCHS):
        for idx in torch.randperm(len(x), generator=gen).split(64):
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        xt = torch.from_numpy(data.test_images.astype(np.float32) / 255.0).unsqueeze(1)
        acc = float((model(xt).argmax(1).numpy() == data.test_labels).mean())
    print(f"tiny CNN: {acc:.3f} on the demo digits' test split")
    return model.state_dict()


def write(folder: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


STUDENTS: dict[str, dict[str, object]] = {
    "belova_gradio6": {
        "note": "Gradio 6 app (Image -> Label), requirements and a correct Dockerfile for the web service",
        "files": {"app.py": GRADIO6, "requirements.txt": REQUIREMENTS_WEB, "Dockerfile": GOOD_DOCKERFILE_WEB},
        "model": ["model.pth"],
        "expected": {"app_web": 1.0, "app_api": 0.0, "docker_web": 0.5, "docker_api": 0.0, "docker_compose": 0.0},
    },
    "orlov_sketchpad": {
        "note": "Gradio Blocks with a Sketchpad (dict input) and a Textbox answer; launch(share=True, debug=True, "
                "inbrowser=True) neutralised",
        "files": {"sketch_app.py": SKETCHPAD},
        "model": ["mnist_cnn.pth"],
        "expected": {"app_web": 1.0, "app_api": 0.0, "docker_web": 0.0, "docker_api": 0.0, "docker_compose": 0.0},
    },
    "petrov_fastapi": {
        "note": "FastAPI server: / health, POST /predict with an uploaded image; a correct Dockerfile (uvicorn main:app)",
        "files": {"main.py": FASTAPI, "Dockerfile": GOOD_DOCKERFILE_API},
        "model": ["model.pth"],
        "expected": {"app_web": 0.0, "app_api": 1.0, "docker_web": 0.0, "docker_api": 0.5, "docker_compose": 0.0},
    },
    "sidorov_gradio2": {
        "note": "written for Gradio 2 (gr.inputs / gr.outputs, capture_session): one plain sentence, no traceback",
        "files": {"app.py": GRADIO2},
        "model": ["model.pth"],
        "expected": {"app_web": 0.0, "app_api": 0.0, "docker_web": 0.0, "docker_api": 0.0, "docker_compose": 0.0},
    },
    "egorova_no_model": {
        "note": "the app loads mnist_cnn.pth, which .gitignore kept out of the submission",
        "files": {"sketch_app.py": SKETCHPAD, ".gitignore": "*.pth\n__pycache__/\n"},
        "model": [],
        "expected": {"app_web": 0.0, "app_api": 0.0, "docker_web": 0.0, "docker_api": 0.0, "docker_compose": 0.0},
    },
    "fomin_broken_docker": {
        "note": "a working Gradio app on 127.0.0.1; its Dockerfile installs no gradio, copies a file that is not "
                "there, exposes 5000 and starts the app on 127.0.0.1",
        "files": {"app.py": BROKEN_APP, "Dockerfile": BROKEN_DOCKERFILE},
        "model": ["model.pth"],
        "expected": {"app_web": 1.0, "app_api": 0.0, "docker_web": 0.25, "docker_api": 0.0, "docker_compose": 0.0},
    },
    "zaitseva_compose": {
        "note": "api/ (FastAPI) and web/ (Gradio) with a Dockerfile each and docker-compose.yml wiring them",
        "files": {"api/main.py": FASTAPI, "api/Dockerfile": GOOD_DOCKERFILE_API,
                  "web/app.py": GRADIO6, "web/requirements.txt": REQUIREMENTS_WEB,
                  "web/Dockerfile": GOOD_DOCKERFILE_WEB, "docker-compose.yml": COMPOSE},
        "model": ["api/model.pth", "web/model.pth"],
        "expected": {"app_web": 1.0, "app_api": 1.0, "docker_web": 0.5, "docker_api": 0.5, "docker_compose": 0.5},
    },
}


def main() -> None:
    state = train_model()
    weights = OUT / ".model.pth"
    OUT.mkdir(parents=True, exist_ok=True)
    torch.save(state, weights)
    blob = weights.read_bytes()
    weights.unlink()
    for name, info in STUDENTS.items():
        folder = OUT / name
        if folder.exists():
            shutil.rmtree(folder)
        write(folder, dict(info["files"]))  # type: ignore[arg-type]
        write(folder, {m: blob for m in info["model"]})  # type: ignore[union-attr]
        nbformat.write(notebook(f"# ДЗ 2: модели в ноутбуке, бонус — приложение\nprint('{name}')"),
                       str(folder / f"dz2_{name.split('_')[0]}.ipynb"))
    expected = {name: {"note": info["note"], "checks": info["expected"]} for name, info in STUDENTS.items()}
    header = ("# Task 2 bonus (apps, Docker): expected share of each app check's points on the demo data, no Docker engine\n"
              "# Generated by tools/make_task2_apps.py -- edit the generator, not this file.\n")
    (OUT / "EXPECTED.yaml").write_text(header + yaml.safe_dump(expected, allow_unicode=True, sort_keys=False,
                                                               width=110), encoding="utf-8")


if __name__ == "__main__":
    main()
