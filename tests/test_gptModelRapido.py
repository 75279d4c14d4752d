"""Pruebas de seccion05/gptModelRapido.py: los nombres de antes del camino rápido siguen funcionando."""

import torch

from seccion04_ImplementacionGPTGeneracionTexto.generateTextSimple import generate_text_simple
from seccion05 import (
    bf16Support,
    cpuTricks,
    fastAdamW,
    fastDropout,
    generateCached,
    gptModelFast,
    gptModelRapido,
    kvCache,
)
from tests.caminoRapido import CFG, modelos_diminutos

ANTES_Y_AHORA = {
    "GPTModelRapido": gptModelFast.GPTModelFast,
    "MultiHeadAttentionRapida": gptModelFast.MultiHeadAttentionFast,
    "LayerNormRapida": gptModelFast.LayerNormFast,
    "FeedForwardRapida": gptModelFast.FeedForwardFast,
    "TransformerBlockRapido": gptModelFast.TransformerBlockFast,
    "DropoutRapido": fastDropout.FastDropout,
    "dropout_rapido": fastDropout.fast_dropout,
    "adamw_rapido": fastAdamW.fast_adamw,
    "bf16_acelerado": bf16Support.bf16_accelerated,
    "bf16_runs": bf16Support.bf16_runs,
    "reutilizar_memoria": cpuTricks.reuse_freed_memory,
    "generate_cached": generateCached.generate_cached,
    "KVCache": kvCache.KVCache,
    "PRECISIONES": gptModelFast.PRECISIONS,
}


def test_los_nombres_de_antes_son_los_objetos_de_hoy():
    for antes, ahora in ANTES_Y_AHORA.items():
        assert getattr(gptModelRapido, antes) is ahora, antes
    assert set(ANTES_Y_AHORA) <= set(gptModelRapido.__all__)
    assert all(hasattr(gptModelRapido, nombre) for nombre in gptModelRapido.__all__)


def test_las_opciones_de_antes_siguen_valiendo():
    gpt, _ = modelos_diminutos()
    rapido = gptModelRapido.GPTModelRapido.desde(gpt, dropout="rapido")  # desde = from_model; "rapido" = "fast"
    assert rapido.dropout == "fast" and isinstance(rapido.drop_emb, fastDropout.FastDropout)
    torch.manual_seed(5)
    idx = torch.randint(0, CFG["vocab_size"], (1, 20))
    esperado = generate_text_simple(gpt, idx, 6, CFG["context_length"])
    assert torch.equal(gptModelRapido.generate_cached(rapido.eval(), idx, 6, recortar=True), esperado)
