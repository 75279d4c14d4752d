"""Atención causal multicabeza.

Se explica en: seccion04_ImplementacionGPTGeneracionTexto/1_implementacion_gpt.ipynb
"""

import torch
import torch.nn as nn


class MultiHeadAttention(nn.Module):
    """Autoatención causal con `num_heads` cabezas: cada token solo atiende a sí mismo y a los anteriores.

    Entrada: (b, num_tokens, d_in). Salida: (b, num_tokens, d_out).
    """

    def __init__(self, d_in: int, d_out: int, context_length: int, dropout: float, num_heads: int, qkv_bias: bool = False):
        super().__init__()
        if num_heads <= 0 or d_out % num_heads != 0:
            raise ValueError(
                f"d_out (emb_dim) debe ser divisible entre num_heads (n_heads): has pasado d_out={d_out} y "
                f"num_heads={num_heads}. Elige, por ejemplo, n_heads=12 con emb_dim=768."
            )

        self.d_out = d_out
        self.num_heads = num_heads
        self.head_dim = d_out // num_heads  # cada cabeza trabaja con una parte de d_out

        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.out_proj = nn.Linear(d_out, d_out)  # combina las salidas de las cabezas
        self.dropout = nn.Dropout(dropout)
        # Máscara causal: 1 por encima de la diagonal (posiciones futuras que no se pueden ver)
        self.register_buffer("mask", torch.triu(torch.ones(context_length, context_length), diagonal=1))

    def forward(self, x):
        b, num_tokens, d_in = x.shape

        keys = self.W_key(x)  # (b, num_tokens, d_out)
        queries = self.W_query(x)
        values = self.W_value(x)

        # Separa d_out en num_heads cabezas: (b, num_tokens, d_out) -> (b, num_tokens, num_heads, head_dim)
        keys = keys.view(b, num_tokens, self.num_heads, self.head_dim)
        values = values.view(b, num_tokens, self.num_heads, self.head_dim)
        queries = queries.view(b, num_tokens, self.num_heads, self.head_dim)

        # (b, num_tokens, num_heads, head_dim) -> (b, num_heads, num_tokens, head_dim)
        keys = keys.transpose(1, 2)
        queries = queries.transpose(1, 2)
        values = values.transpose(1, 2)

        # Puntuaciones de atención de cada cabeza: (b, num_heads, num_tokens, num_tokens)
        attn_scores = queries @ keys.transpose(2, 3)

        # Oculta las posiciones futuras con -inf (la softmax les dará peso 0)
        mask_bool = self.mask.bool()[:num_tokens, :num_tokens]
        attn_scores.masked_fill_(mask_bool, -torch.inf)

        attn_weights = torch.softmax(attn_scores / keys.shape[-1] ** 0.5, dim=-1)
        attn_weights = self.dropout(attn_weights)

        # (b, num_heads, num_tokens, head_dim) -> (b, num_tokens, num_heads, head_dim)
        context_vec = (attn_weights @ values).transpose(1, 2)

        # Une las cabezas: (b, num_tokens, d_out)
        context_vec = context_vec.contiguous().view(b, num_tokens, self.d_out)
        context_vec = self.out_proj(context_vec)  # proyección final
        return context_vec
