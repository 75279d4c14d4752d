"""Atención causal multicabeza: varias cabezas en paralelo, de dos maneras.

`MultiHeadAttentionWrapper` apila `num_heads` capas `CausalAttention` y concatena sus salidas; `MultiHeadAttention`
hace lo mismo con una sola proyección de consultas, claves y valores que parte en cabezas (más rápida), y es la que
usa el bloque transformer de la sección 4 (seccion04_ImplementacionGPTGeneracionTexto/transformerBlock.py).

Se explica en: seccion03_MecanismosAtencion/1_mecanismos_atencion.ipynb
"""

import torch
import torch.nn as nn

from seccion03_MecanismosAtencion.causalAttention import CausalAttention, _comprobar_entrada_atencion


class MultiHeadAttentionWrapper(nn.Module):
    """`num_heads` cabezas `CausalAttention` independientes; sus vectores de contexto se concatenan.

    Entrada: (b, num_tokens, d_in). Salida: (b, num_tokens, num_heads * d_out): cada cabeza aporta d_out.
    """

    def __init__(self, d_in: int, d_out: int, context_length: int, dropout: float, num_heads: int, qkv_bias: bool = False):
        super().__init__()
        self.heads = nn.ModuleList(
            [CausalAttention(d_in, d_out, context_length, dropout, qkv_bias) for _ in range(num_heads)]
        )

    def forward(self, x):
        # Cada cabeza da (b, num_tokens, d_out); se concatenan en la última dimensión
        return torch.cat([head(x) for head in self.heads], dim=-1)


class MultiHeadAttention(nn.Module):
    """Autoatención causal con `num_heads` cabezas: cada token solo atiende a sí mismo y a los anteriores.

    Entrada: (b, num_tokens, d_in), con num_tokens <= context_length. Salida: (b, num_tokens, d_out).
    Equivale a `MultiHeadAttentionWrapper` con cabezas de d_out // num_heads salidas más la proyección `out_proj`,
    pero calcula todas las cabezas a la vez: una sola proyección de consultas, otra de claves y otra de valores.
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
        _comprobar_entrada_atencion(x, self.W_query.in_features, self.mask.shape[0], type(self).__name__)
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
