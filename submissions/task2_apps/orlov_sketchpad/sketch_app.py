import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
import gradio as gr

class Net(nn.Module):
    """Маленькая свёрточная сеть для MNIST."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 14 * 14, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        return self.fc(x.flatten(1))


model = Net()
model.load_state_dict(torch.load("mnist_cnn.pth", map_location="cpu", weights_only=True))
model.eval()


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
