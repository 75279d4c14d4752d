"""Los nombres de antes del camino rápido, para el código que ya los importa de aquí.

El camino rápido vive ahora en un archivo por pieza (y con los nombres en inglés de la regla del README): el modelo
en gptModelFast.py, la caché en kvCache.py, la generación en generateCached.py, el dropout en fastDropout.py, el
AdamW en fastAdamW.py, la detección de bf16 en bf16Support.py y los trucos de la CPU en cpuTricks.py. Este módulo
solo reexporta: importa de esos archivos en el código nuevo.
"""

from seccion05.bf16Support import bf16_accelerated, bf16_runs
from seccion05.cpuTricks import reuse_freed_memory
from seccion05.fastAdamW import fast_adamw
from seccion05.fastDropout import FastDropout, fast_dropout
from seccion05.generateCached import generate_cached
from seccion05.gptModelFast import (
    DROPOUTS,
    PRECISIONS,
    FeedForwardFast,
    GPTModelFast,
    LayerNormFast,
    MultiHeadAttentionFast,
    TransformerBlockFast,
)
from seccion05.kvCache import KVCache

# Nombre de antes = nombre de hoy
GPTModelRapido = GPTModelFast
MultiHeadAttentionRapida = MultiHeadAttentionFast
LayerNormRapida = LayerNormFast
FeedForwardRapida = FeedForwardFast
TransformerBlockRapido = TransformerBlockFast
DropoutRapido = FastDropout
dropout_rapido = fast_dropout
adamw_rapido = fast_adamw
bf16_acelerado = bf16_accelerated
reutilizar_memoria = reuse_freed_memory
PRECISIONES = PRECISIONS

__all__ = [
    "DROPOUTS", "PRECISIONES", "PRECISIONS", "DropoutRapido", "FastDropout", "FeedForwardFast", "FeedForwardRapida",
    "GPTModelFast", "GPTModelRapido", "KVCache", "LayerNormFast", "LayerNormRapida", "MultiHeadAttentionFast",
    "MultiHeadAttentionRapida", "TransformerBlockFast", "TransformerBlockRapido", "adamw_rapido", "bf16_acelerado",
    "bf16_accelerated", "bf16_runs", "dropout_rapido", "fast_adamw", "fast_dropout", "generate_cached",
    "reuse_freed_memory", "reutilizar_memoria",
]
