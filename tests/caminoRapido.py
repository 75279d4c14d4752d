"""Piezas comunes de las pruebas del camino rápido (gptModelFast, generateCached, cpuTricks, fastAdamW...)."""

import pytest
import torch

from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion05.bf16Support import bf16_runs
from seccion05.gptModelFast import GPTModelFast
from tests.configuraciones import CFG_DIMINUTA

CFG = CFG_DIMINUTA

# Tolerancia de los logits del camino rápido en fp32 frente a los del didáctico: las dos calculan lo mismo
# con otro orden de operaciones (núcleos fusionados), así que solo difieren en el redondeo de fp32.
TOLERANCIA_LOGITS = {"rtol": 1e-5, "atol": 1e-5}

# Las pruebas que calculan en bf16 solo tienen sentido donde ese cálculo se puede ejecutar (ver bf16_runs)
necesita_bf16 = pytest.mark.skipif(not bf16_runs("cpu"), reason="en esta CPU el cálculo en bfloat16 no se puede ejecutar")


def modelos_diminutos() -> tuple[GPTModel, GPTModelFast]:
    """Un GPTModel diminuto en modo evaluación y un GPTModelFast con sus mismos pesos."""
    torch.manual_seed(123)
    gpt = GPTModel(CFG).eval()
    return gpt, GPTModelFast.from_model(gpt)


def entrenar(model, optimizer, pasos: int) -> float:
    """Entrena `pasos` pasos sobre el mismo lote fijo y devuelve la pérdida del último paso."""
    torch.manual_seed(1)
    x = torch.randint(0, CFG["vocab_size"], (4, 16))
    y = torch.roll(x, -1, dims=1)
    model.train()
    for _ in range(pasos):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten())
        loss.backward()
        optimizer.step()
    return loss.item()
