"""`GPTModelFast`: el GPT de la sección 4 con piezas fusionadas de PyTorch, caché KV opcional y autocast opcional.

El código didáctico de la sección 4 no cambia. `GPTModelFast` acepta el mismo diccionario de configuración que
`GPTModel` y tiene exactamente los mismos parámetros y búferes (el mismo `state_dict`), así que cambias de camino con
una línea y los pesos guardados sirven para los dos:

    model = GPTModelFast(cfg)                   # en lugar de GPTModel(cfg)
    model.load_state_dict(gpt.state_dict())     # y al revés: gpt.load_state_dict(model.state_dict())

Qué cambia por dentro (cada pieza da el mismo resultado que la didáctica, salvo redondeo):
- atención con `F.scaled_dot_product_attention` (un kernel fusionado) en lugar de softmax(QKᵀ/√d)·V a mano;
- `F.layer_norm` y `F.gelu(approximate="tanh")` nativas en lugar de las fórmulas escritas con operaciones sueltas;
- una caché KV opcional (`KVCache`, kvCache.py) para generar sin recalcular las claves y los valores anteriores;
- `precision="bf16"` o `"auto"`: autocast a bfloat16 donde se puede ejecutar y el hardware lo acelera (los pesos
  siguen en fp32; ver bf16Support.py);
- `dropout="fast"` (por defecto): las máscaras de `fast_dropout` (fastDropout.py), más baratas en CPU.

Lo que no está aquí: generar con la caché (generateCached.py), el AdamW fusionado (fastAdamW.py) y los trucos
propios de la CPU (cpuTricks.py).

Se explica en: seccion05/6_rendimiento.ipynb
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn as nn
import torch.nn.functional as F

from seccion04_ImplementacionGPTGeneracionTexto.feedForward import FeedForward
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel, _comprobar_entrada, check_config
from seccion04_ImplementacionGPTGeneracionTexto.layerNorm import LayerNorm
from seccion04_ImplementacionGPTGeneracionTexto.multiHeadAttention import MultiHeadAttention
from seccion05.bf16Support import _fallo_bf16, bf16_accelerated
from seccion05.fastDropout import FastDropout
from seccion05.kvCache import KVCache
from seccion05.modelConfig import model_config

PRECISIONS = ("fp32", "bf16", "auto")
DROPOUTS = ("fast", "torch")
_DROPOUTS_ANTES = {"rapido": "fast"}  # el nombre que tenía antes "fast", que se sigue admitiendo


class MultiHeadAttentionFast(MultiHeadAttention):
    """La misma atención causal multicabeza (mismos pesos y máscara) con el kernel fusionado de PyTorch y caché KV.

    Entrada: (b, num_tokens, d_in). Salida: (b, num_tokens, d_out). Con `cache`, las claves y valores de los
    `num_tokens` tokens nuevos se añaden a los guardados y cada consulta atiende a todos los anteriores.

    Con `fast_dropout=True`, su dropout es un `FastDropout`, y entrenando en CPU (sin caché) usa el `forward` de
    `MultiHeadAttention` tal cual (sección 3), con esas máscaras: en CPU, `scaled_dot_product_attention` con dropout
    no tiene kernel fusionado y cae en esas mismas operaciones, pero con el dropout lento de `F.dropout`.
    """

    def __init__(self, *args, fast_dropout: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fast_dropout = fast_dropout
        if fast_dropout:
            self.dropout = FastDropout(self.dropout.p)  # sin parámetros: el state_dict no cambia

    def forward(self, x, cache: KVCache | None = None, layer_idx: int = 0):
        if cache is None and self.training and self.dropout.p > 0.0 and self.fast_dropout and x.device.type == "cpu":
            return super().forward(x)  # entrenando en CPU: la atención de `MultiHeadAttention`, con las máscaras rápidas

        b, num_tokens, _ = x.shape

        # (b, num_tokens, d_out) -> (b, num_heads, num_tokens, head_dim)
        queries = self.W_query(x).view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)
        keys = self.W_key(x).view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)
        values = self.W_value(x).view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)

        dropout_p = self.dropout.p if self.training else 0.0
        inicio = 0 if cache is None else cache.seq_len
        if cache is not None:
            keys, values = cache.update(layer_idx, keys, values)  # (b, num_heads, inicio + num_tokens, head_dim)

        if inicio == 0:
            # Sin nada guardado antes: la máscara causal de siempre
            context_vec = F.scaled_dot_product_attention(queries, keys, values, dropout_p=dropout_p, is_causal=True)
        elif num_tokens == 1:
            # Un solo token nuevo: puede ver todo lo guardado, no hace falta máscara
            context_vec = F.scaled_dot_product_attention(queries, keys, values, dropout_p=dropout_p)
        else:
            # Varios tokens nuevos tras los guardados: filas inicio..inicio+num_tokens de la máscara causal
            visible = ~self.mask[inicio : inicio + num_tokens, : inicio + num_tokens].bool()  # True = se puede ver
            context_vec = F.scaled_dot_product_attention(queries, keys, values, attn_mask=visible, dropout_p=dropout_p)

        # (b, num_heads, num_tokens, head_dim) -> (b, num_tokens, d_out)
        context_vec = context_vec.transpose(1, 2).contiguous().view(b, num_tokens, self.d_out)
        return self.out_proj(context_vec)


class LayerNormFast(LayerNorm):
    """La misma normalización de capa (mismos `scale` y `shift`, eps=1e-5, varianza sesgada) con `F.layer_norm`."""

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.scale, self.shift, self.eps)


class FeedForwardFast(FeedForward):
    """La misma red feed-forward con la GELU nativa de PyTorch (aproximación tanh, la de GPT-2)."""

    def __init__(self, cfg: dict):
        super().__init__(cfg)
        self.layers[1] = nn.GELU(approximate="tanh")  # sin parámetros: el state_dict no cambia


def _capa_dropout(dropout: str, p: float) -> nn.Dropout:
    """Una capa de dropout con probabilidad `p`: `FastDropout` si dropout == "fast" y `nn.Dropout` si es "torch"."""
    return FastDropout(p) if dropout == "fast" else nn.Dropout(p)


class TransformerBlockFast(nn.Module):
    """El bloque transformer de la sección 4 con las piezas rápidas. Entrada y salida: (b, num_tokens, emb_dim).

    `dropout`: "fast" (máscaras de `fast_dropout`) o "torch" (`nn.Dropout`), como en `GPTModelFast`.
    """

    def __init__(self, cfg: dict, dropout: str = "fast"):
        super().__init__()
        self.att = MultiHeadAttentionFast(
            d_in=cfg["emb_dim"],
            d_out=cfg["emb_dim"],
            context_length=cfg["context_length"],
            num_heads=cfg["n_heads"],
            dropout=cfg["drop_rate"],
            qkv_bias=cfg["qkv_bias"],
            fast_dropout=dropout == "fast",
        )
        self.ff = FeedForwardFast(cfg)
        self.norm1 = LayerNormFast(cfg["emb_dim"])
        self.norm2 = LayerNormFast(cfg["emb_dim"])
        self.drop_shortcut = _capa_dropout(dropout, cfg["drop_rate"])

    def forward(self, x, cache: KVCache | None = None, layer_idx: int = 0):
        x = x + self.drop_shortcut(self.att(self.norm1(x), cache, layer_idx))  # atajo alrededor de la atención
        x = x + self.drop_shortcut(self.ff(self.norm2(x)))  # atajo alrededor de la feed-forward
        return x


def _comprobar_opciones(precision, dropout) -> str:
    """Valida `precision` y `dropout` de `GPTModelFast` (errores en español); devuelve `dropout` con su nombre de hoy."""
    if precision not in PRECISIONS:
        raise ValueError(
            f"precision debe ser 'fp32', 'bf16' o 'auto'; has pasado {precision!r}. "
            "Usa 'auto' para que el modelo elija bf16 solo donde el hardware lo acelera."
        )
    dropout = _DROPOUTS_ANTES.get(dropout, dropout) if isinstance(dropout, str) else dropout
    if dropout not in DROPOUTS:
        raise ValueError(
            f"dropout debe ser 'fast' o 'torch'; has pasado {dropout!r}. Usa 'torch' si quieres las mismas "
            "máscaras de dropout que GPTModel."
        )
    return dropout


class GPTModelFast(nn.Module):
    """`GPTModel` con piezas fusionadas, caché KV opcional y autocast opcional; mismo `state_dict` que `GPTModel`.

    - `cfg`: el mismo diccionario que `GPTModel` (p. ej. `GPT_CONFIG_124M`).
    - `precision`: "fp32" (por defecto), "bf16" (autocast a bfloat16; los pesos y los gradientes siguen en fp32; si
      en el dispositivo no se puede ejecutar, el primer `forward` da un error que lo explica) o "auto" (bf16 donde
      se puede ejecutar y se acelera: CPU con instrucciones bf16 y GPU CUDA que lo admitan; fp32 en el resto).
    - `dropout`: "fast" (por defecto; máscaras de `fast_dropout`, más baratas en CPU) o "torch" (`nn.Dropout`,
      las mismas máscaras que `GPTModel` con la misma semilla). Solo importa al entrenar, con drop_rate > 0.

    Entrada: ids (b, num_tokens). Salida: logits (b, num_tokens, vocab_size), siempre en float32.
    Con `cache` (una `KVCache`), los tokens de entrada continúan a los ya guardados: sus posiciones empiezan en
    `cache.seq_len`.
    """

    def __init__(self, cfg: dict, precision: str = "fp32", dropout: str = "fast"):
        check_config(cfg)  # las mismas comprobaciones que GPTModel, con los mismos errores
        super().__init__()
        self.dropout = _comprobar_opciones(precision, dropout)
        self.precision = precision
        self.cfg = dict(cfg)

        self.tok_emb = nn.Embedding(cfg["vocab_size"], cfg["emb_dim"])
        self.pos_emb = nn.Embedding(cfg["context_length"], cfg["emb_dim"])
        self.drop_emb = _capa_dropout(self.dropout, cfg["drop_rate"])
        self.trf_blocks = nn.Sequential(*[TransformerBlockFast(cfg, self.dropout) for _ in range(cfg["n_layers"])])
        self.final_norm = LayerNormFast(cfg["emb_dim"])
        self.out_head = nn.Linear(cfg["emb_dim"], cfg["vocab_size"], bias=False)

    @classmethod
    def from_model(cls, model: GPTModel, precision: str = "fp32", dropout: str = "fast") -> GPTModelFast:
        """Crea un `GPTModelFast` con la configuración y los pesos de un `GPTModel` (en su dispositivo y modo)."""
        peso = model.out_head.weight
        rapido = cls(model_config(model), precision=precision, dropout=dropout).to(device=peso.device, dtype=peso.dtype)
        rapido.load_state_dict(model.state_dict())
        return rapido.train(model.training)

    desde = from_model  # el nombre de antes, por si ya lo usabas

    def dtype_autocast(self, device: torch.device) -> torch.dtype | None:
        """El dtype del autocast en `device` según `precision`, o None si se calcula en fp32.

        Con precision="bf16", lanza un RuntimeError si en `device` el cálculo en bfloat16 no se puede ejecutar
        (ver `bf16_runs`)."""
        if self.precision == "fp32":
            return None
        if self.precision == "auto":
            return torch.bfloat16 if bf16_accelerated(device) else None
        fallo = _fallo_bf16(device)  # "bf16": funciona o se rechaza con el motivo
        if fallo is not None:
            donde = "en esta CPU" if torch.device(device).type == "cpu" else f"en el dispositivo {device}"
            raise RuntimeError(
                f'Has pedido precision="bf16", pero {donde} el cálculo en bfloat16 no se puede ejecutar: PyTorch '
                f'responde «{fallo}» al probarlo; usa precision="auto" o "fp32" (con "auto", el modelo calcula en '
                "fp32 donde bf16 no funciona)."
            )
        return torch.bfloat16

    def forward(self, in_idx, cache: KVCache | None = None):
        if not torch.compiler.is_compiling():  # la comprobación lee valores del tensor: cortaría el grafo compilado
            _comprobar_entrada(in_idx, self.tok_emb.num_embeddings, self.pos_emb.num_embeddings)
        num_tokens = in_idx.shape[1]
        inicio = 0 if cache is None else cache.seq_len
        if cache is not None and inicio + num_tokens > min(cache.max_len, self.pos_emb.num_embeddings):
            raise ValueError(
                f"La caché KV ya guarda {inicio} posiciones y le llegan {num_tokens} más: pasaría de "
                f"{min(cache.max_len, self.pos_emb.num_embeddings)} (el mínimo de max_len={cache.max_len} y "
                f"context_length={self.pos_emb.num_embeddings}). Vacía la caché con cache.reset() y vuelve a "
                "pasar los últimos tokens."
            )

        dtype = self.dtype_autocast(in_idx.device)
        autocast = (
            torch.autocast(device_type=in_idx.device.type, dtype=dtype) if dtype else contextlib.nullcontext()
        )
        with autocast:
            tok_embeds = self.tok_emb(in_idx)  # (b, num_tokens, emb_dim)
            pos_embeds = self.pos_emb(torch.arange(inicio, inicio + num_tokens, device=in_idx.device))
            x = self.drop_emb(tok_embeds + pos_embeds)
            for layer_idx, block in enumerate(self.trf_blocks):
                x = block(x, cache, layer_idx)
            x = self.final_norm(x)
            logits = self.out_head(x)  # (b, num_tokens, vocab_size)

        if cache is not None:
            cache.seq_len = inicio + num_tokens
        return logits.float()
