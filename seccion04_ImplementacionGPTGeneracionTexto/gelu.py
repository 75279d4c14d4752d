"""Función de activación GELU (aproximación con tanh, la que usa GPT-2).

Se explica en: seccion04_ImplementacionGPTGeneracionTexto/1_implementacion_gpt.ipynb
"""

import torch
import torch.nn as nn


class GELU(nn.Module):
    """GELU(x) ≈ 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). Misma forma a la entrada y a la salida."""

    def __init__(self):
        super().__init__()

    def forward(self, x):
        return 0.5 * x * (1 + torch.tanh(torch.sqrt(torch.tensor(2.0 / torch.pi)) * (x + 0.044715 * torch.pow(x, 3))))
