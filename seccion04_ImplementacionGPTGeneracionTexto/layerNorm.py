"""Normalización de capa (layer normalization).

Se explica en: seccion04_ImplementacionGPTGeneracionTexto/1_implementacion_gpt.ipynb
"""

import torch
import torch.nn as nn


class LayerNorm(nn.Module):
    """Normaliza la última dimensión a media 0 y varianza 1, y aplica una escala y un desplazamiento aprendibles.

    Entrada y salida: (..., emb_dim).
    """

    def __init__(self, emb_dim: int):
        super().__init__()
        self.eps = 1e-5  # evita dividir por cero
        self.scale = nn.Parameter(torch.ones(emb_dim))
        self.shift = nn.Parameter(torch.zeros(emb_dim))

    def forward(self, x):
        mean = x.mean(dim=-1, keepdim=True)
        var = x.var(dim=-1, keepdim=True, unbiased=False)  # varianza sesgada, como GPT-2
        norm_x = (x - mean) / torch.sqrt(var + self.eps)
        return self.scale * norm_x + self.shift
