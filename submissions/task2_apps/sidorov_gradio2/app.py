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
model.load_state_dict(torch.load("model.pth", map_location="cpu", weights_only=True))
model.eval()


def classify(image):
    x = torch.tensor(image, dtype=torch.float32).reshape(1, 1, 28, 28) / 255.0
    probs = torch.softmax(model(x), dim=1)[0]
    return {str(i): float(p) for i, p in enumerate(probs)}


iface = gr.Interface(fn=classify, inputs=gr.inputs.Image(shape=(28, 28), image_mode="L", source="canvas"),
                     outputs=gr.outputs.Label(num_top_classes=3), capture_session=True)
iface.launch(share=True)
