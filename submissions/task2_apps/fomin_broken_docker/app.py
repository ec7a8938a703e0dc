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


def prepare(img):
    """Картинка любого размера -> тензор 1x1x28x28, белая цифра на чёрном фоне."""
    img = Image.fromarray(np.asarray(img).astype(np.uint8)).convert("L").resize((28, 28))
    x = np.asarray(img, dtype=np.float32) / 255.0
    if x.mean() > 0.5:  # тёмная цифра на светлом фоне
        x = 1.0 - x
    return torch.from_numpy(x).reshape(1, 1, 28, 28)
def predict(image):
    if image is None:
        return {}
    with torch.no_grad():
        probs = torch.softmax(model(prepare(image)), dim=1)[0]
    return {str(i): float(p) for i, p in enumerate(probs)}


demo = gr.Interface(fn=predict, inputs=gr.Image(type="numpy", image_mode="L", label="Цифра"),
                    outputs=gr.Label(num_top_classes=3), title="Распознавание цифр MNIST")

if __name__ == "__main__":
    demo.launch()
