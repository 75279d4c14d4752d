"""Autoatención con pesos entrenables, sin máscara: las dos versiones del libro.

`SelfAttention_v1` guarda las matrices de consulta, clave y valor como `nn.Parameter` y las multiplica a mano;
`SelfAttention_v2` usa capas `nn.Linear`, que se inicializan mejor y pueden llevar sesgo. Las dos trabajan con un
solo texto, sin dimensión de lote: la versión por lotes y causal es `CausalAttention` (causalAttention.py).

Se explica en: seccion03_MecanismosAtencion/1_mecanismos_atencion.ipynb
"""

import torch
import torch.nn as nn


class SelfAttention_v1(nn.Module):
    """Autoatención de producto escalar escalado con tres matrices de pesos (d_in, d_out).

    Entrada: (num_tokens, d_in). Salida: los vectores de contexto, (num_tokens, d_out).
    """

    def __init__(self, d_in: int, d_out: int):
        super().__init__()
        self.W_query = nn.Parameter(torch.rand(d_in, d_out))
        self.W_key = nn.Parameter(torch.rand(d_in, d_out))
        self.W_value = nn.Parameter(torch.rand(d_in, d_out))

    def forward(self, x):
        keys = x @ self.W_key  # (num_tokens, d_out)
        queries = x @ self.W_query
        values = x @ self.W_value

        attn_scores = queries @ keys.T  # (num_tokens, num_tokens): cada consulta frente a cada clave
        # Divide por la raíz de d_k para que la softmax no se sature cuando d_out es grande
        attn_weights = torch.softmax(attn_scores / keys.shape[-1] ** 0.5, dim=-1)

        context_vec = attn_weights @ values  # (num_tokens, d_out)
        return context_vec


class SelfAttention_v2(nn.Module):
    """La misma autoatención que `SelfAttention_v1`, con capas `nn.Linear` en lugar de matrices sueltas.

    `nn.Linear` guarda su matriz traspuesta, (d_out, d_in), y calcula x @ W.T (+ sesgo si `qkv_bias=True`).
    Entrada: (num_tokens, d_in). Salida: (num_tokens, d_out).
    """

    def __init__(self, d_in: int, d_out: int, qkv_bias: bool = False):
        super().__init__()
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)

    def forward(self, x):
        keys = self.W_key(x)  # (num_tokens, d_out)
        queries = self.W_query(x)
        values = self.W_value(x)

        attn_scores = queries @ keys.T  # (num_tokens, num_tokens)
        attn_weights = torch.softmax(attn_scores / keys.shape[-1] ** 0.5, dim=-1)

        context_vec = attn_weights @ values  # (num_tokens, d_out)
        return context_vec
