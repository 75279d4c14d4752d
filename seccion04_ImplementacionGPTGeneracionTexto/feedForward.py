"""Red de alimentación hacia delante (feed-forward) de cada bloque transformer.

Se explica en: seccion04_ImplementacionGPTGeneracionTexto/1_implementacion_gpt.ipynb
"""

import torch.nn as nn

from seccion04_ImplementacionGPTGeneracionTexto.gelu import GELU


class FeedForward(nn.Module):
    """Lineal emb_dim → 4·emb_dim, GELU y lineal 4·emb_dim → emb_dim. Entrada y salida: (b, num_tokens, emb_dim)."""

    def __init__(self, cfg: dict):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(cfg["emb_dim"], 4 * cfg["emb_dim"]),
            GELU(),
            nn.Linear(4 * cfg["emb_dim"], cfg["emb_dim"]),
        )

    def forward(self, x):
        return self.layers(x)
