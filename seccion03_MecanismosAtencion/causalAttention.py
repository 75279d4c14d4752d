"""Atención causal de una cabeza, por lotes y con dropout en los pesos de atención.

Cada token solo atiende a sí mismo y a los anteriores: una máscara causal pone -inf en las puntuaciones de las
posiciones futuras antes de la softmax. También define `_comprobar_entrada_atencion`, la validación de la entrada que
comparten `CausalAttention` y `MultiHeadAttention` (multiHeadAttention.py).

Se explica en: seccion03_MecanismosAtencion/1_mecanismos_atencion.ipynb
"""

import torch
import torch.nn as nn


def _comprobar_entrada_atencion(x, d_in: int, context_length: int, nombre: str) -> None:
    """Lanza un ValueError en español si `x` no tiene forma (b, num_tokens, d_in) con num_tokens <= context_length."""
    if not isinstance(x, torch.Tensor) or x.dim() != 3:
        forma = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(
            f"{nombre} espera un tensor de forma (b, num_tokens, d_in) con d_in={d_in}; ha recibido {forma}. "
            "Para un solo texto, añade la dimensión del lote con .unsqueeze(0)."
        )
    b, num_tokens, d_x = x.shape
    if d_x != d_in:
        raise ValueError(
            f"{nombre} se creó con d_in={d_in}, pero cada token de la entrada tiene {d_x} elementos "
            f"(forma {tuple(x.shape)}). Crea la capa con d_in={d_x} o revisa la dimensión de los embeddings."
        )
    if num_tokens > context_length:
        raise ValueError(
            f"La secuencia tiene {num_tokens} tokens, pero {nombre} admite como máximo context_length="
            f"{context_length} (el tamaño de su máscara causal). Recorta la entrada a los últimos {context_length} "
            "tokens o crea la capa con un context_length mayor."
        )


class CausalAttention(nn.Module):
    """Autoatención causal de una sola cabeza, con dropout en los pesos de atención.

    Entrada: (b, num_tokens, d_in), con num_tokens <= context_length. Salida: (b, num_tokens, d_out).
    La máscara es un búfer (`mask`): no se entrena, pero viaja con el módulo al dispositivo y está en su state_dict.
    """

    def __init__(self, d_in: int, d_out: int, context_length: int, dropout: float, qkv_bias: bool = False):
        super().__init__()
        self.d_out = d_out
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.dropout = nn.Dropout(dropout)
        # Máscara causal: 1 por encima de la diagonal (posiciones futuras que no se pueden ver)
        self.register_buffer("mask", torch.triu(torch.ones(context_length, context_length), diagonal=1))

    def forward(self, x):
        _comprobar_entrada_atencion(x, self.W_query.in_features, self.mask.shape[0], type(self).__name__)
        b, num_tokens, d_in = x.shape

        keys = self.W_key(x)  # (b, num_tokens, d_out)
        queries = self.W_query(x)
        values = self.W_value(x)

        # Traspone solo las dos últimas dimensiones (la 0 es el lote): (b, num_tokens, num_tokens)
        attn_scores = queries @ keys.transpose(1, 2)
        # Oculta las posiciones futuras con -inf (la softmax les dará peso 0); [:num_tokens] por si el texto es corto
        attn_scores.masked_fill_(self.mask.bool()[:num_tokens, :num_tokens], -torch.inf)
        attn_weights = torch.softmax(attn_scores / keys.shape[-1] ** 0.5, dim=-1)
        attn_weights = self.dropout(attn_weights)  # solo en modo entrenamiento

        context_vec = attn_weights @ values  # (b, num_tokens, d_out)
        return context_vec
