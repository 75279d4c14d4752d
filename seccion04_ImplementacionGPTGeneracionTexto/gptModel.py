"""El modelo GPT completo.

Reúne los bloques de la sección 4 (cada uno en su módulo) y los reexporta, junto con `check_config`, para que puedas
escribir `from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel, LayerNorm, ...`.

Se explica en: seccion04_ImplementacionGPTGeneracionTexto/1_implementacion_gpt.ipynb
"""

import torch
import torch.nn as nn

from seccion04_ImplementacionGPTGeneracionTexto.checkConfig import check_config
from seccion04_ImplementacionGPTGeneracionTexto.feedForward import FeedForward
from seccion04_ImplementacionGPTGeneracionTexto.gelu import GELU
from seccion04_ImplementacionGPTGeneracionTexto.layerNorm import LayerNorm
from seccion04_ImplementacionGPTGeneracionTexto.multiHeadAttention import MultiHeadAttention
from seccion04_ImplementacionGPTGeneracionTexto.transformerBlock import TransformerBlock

__all__ = ["GELU", "FeedForward", "GPTModel", "LayerNorm", "MultiHeadAttention", "TransformerBlock", "check_config"]


class GPTModel(nn.Module):
    """Modelo GPT: embeddings de token y de posición, `n_layers` bloques transformer, norma final y cabeza lineal.

    Entrada: ids de tokens (b, num_tokens), torch.long o torch.int32, en [0, vocab_size), con
    num_tokens <= context_length. Salida: logits (b, num_tokens, vocab_size).
    Una configuración no válida (ver `check_config`) o una entrada no válida dan un ValueError en español.
    """

    def __init__(self, cfg: dict):
        check_config(cfg)  # claves, tipos y rangos, con errores en español
        super().__init__()
        self.tok_emb = nn.Embedding(cfg["vocab_size"], cfg["emb_dim"])
        self.pos_emb = nn.Embedding(cfg["context_length"], cfg["emb_dim"])
        self.drop_emb = nn.Dropout(cfg["drop_rate"])

        self.trf_blocks = nn.Sequential(*[TransformerBlock(cfg) for _ in range(cfg["n_layers"])])

        self.final_norm = LayerNorm(cfg["emb_dim"])
        self.out_head = nn.Linear(cfg["emb_dim"], cfg["vocab_size"], bias=False)

    def forward(self, in_idx):
        _comprobar_entrada(in_idx, self.tok_emb.num_embeddings, self.pos_emb.num_embeddings)
        batch_size, seq_len = in_idx.shape
        tok_embeds = self.tok_emb(in_idx)  # (b, num_tokens, emb_dim)
        pos_embeds = self.pos_emb(torch.arange(seq_len, device=in_idx.device))  # (num_tokens, emb_dim)
        x = tok_embeds + pos_embeds  # (b, num_tokens, emb_dim)
        x = self.drop_emb(x)
        x = self.trf_blocks(x)
        x = self.final_norm(x)
        logits = self.out_head(x)  # (b, num_tokens, vocab_size)
        return logits


def _comprobar_entrada(in_idx, vocab_size: int, context_length: int) -> None:
    """Lanza un error claro, en español, si la entrada del modelo no es válida (en GPU, sin mirar los valores)."""
    if not isinstance(in_idx, torch.Tensor) or in_idx.dim() != 2:
        forma = tuple(in_idx.shape) if isinstance(in_idx, torch.Tensor) else type(in_idx).__name__
        raise ValueError(
            f"GPTModel espera un tensor de ids de forma (lote, num_tokens); ha recibido {forma}. "
            "Para un solo texto, añade la dimensión del lote con .unsqueeze(0)."
        )
    if in_idx.dtype not in (torch.long, torch.int32):
        raise ValueError(
            f"Los ids de los tokens deben ser enteros torch.long (o torch.int32); se ha recibido dtype={in_idx.dtype}. "
            "Conviértelos con .long()."
        )
    num_tokens = in_idx.shape[1]
    if num_tokens > context_length:
        raise ValueError(
            f"La secuencia tiene {num_tokens} tokens, pero el modelo admite como máximo context_length="
            f"{context_length}. Recorta la entrada a los últimos {context_length} tokens (idx[:, -{context_length}:])."
        )
    # Los valores solo se miran en CPU: en una GPU, leer el mínimo y el máximo obligaría a esperar a que termine todo
    # lo pendiente (dos sincronizaciones por paso). Allí, un id fuera del vocabulario lo detecta nn.Embedding.
    if in_idx.numel() > 0 and in_idx.device.type == "cpu":
        minimo, maximo = int(in_idx.min()), int(in_idx.max())
        if minimo < 0 or maximo >= vocab_size:
            malo = minimo if minimo < 0 else maximo
            raise ValueError(
                f"Hay un id de token fuera del vocabulario: {malo}. Los ids válidos van de 0 a {vocab_size - 1} "
                f"(vocab_size={vocab_size})."
            )
