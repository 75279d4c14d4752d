"""Bloque transformer de GPT: atención y feed-forward, con normalización previa y atajos.

Se explica en: seccion04_ImplementacionGPTGeneracionTexto/1_implementacion_gpt.ipynb
"""

import torch.nn as nn

from seccion04_ImplementacionGPTGeneracionTexto.feedForward import FeedForward
from seccion04_ImplementacionGPTGeneracionTexto.layerNorm import LayerNorm
from seccion04_ImplementacionGPTGeneracionTexto.multiHeadAttention import MultiHeadAttention


class TransformerBlock(nn.Module):
    """Norma → atención → dropout → atajo; norma → feed-forward → dropout → atajo.

    Entrada y salida: (b, num_tokens, emb_dim).
    """

    def __init__(self, cfg: dict):
        super().__init__()
        self.att = MultiHeadAttention(
            d_in=cfg["emb_dim"],
            d_out=cfg["emb_dim"],
            context_length=cfg["context_length"],
            num_heads=cfg["n_heads"],
            dropout=cfg["drop_rate"],
            qkv_bias=cfg["qkv_bias"],
        )
        self.ff = FeedForward(cfg)
        self.norm1 = LayerNorm(cfg["emb_dim"])
        self.norm2 = LayerNorm(cfg["emb_dim"])
        self.drop_shortcut = nn.Dropout(cfg["drop_rate"])

    def forward(self, x):
        # Atajo (conexión residual) alrededor del bloque de atención
        shortcut = x
        x = self.norm1(x)
        x = self.att(x)  # (b, num_tokens, emb_dim)
        x = self.drop_shortcut(x)
        x = x + shortcut  # suma la entrada original

        # Atajo alrededor del bloque feed-forward
        shortcut = x
        x = self.norm2(x)
        x = self.ff(x)
        x = self.drop_shortcut(x)
        x = x + shortcut
        return x
