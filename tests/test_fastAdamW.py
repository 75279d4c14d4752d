"""Pruebas de seccion05/fastAdamW.py: los mismos pasos que torch.optim.AdamW y sus errores."""

import pytest
import torch

from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion05.fastAdamW import fast_adamw
from tests.caminoRapido import CFG, entrenar


def test_fast_adamw_fusionado_en_cpu_y_mismos_pasos():
    torch.manual_seed(123)
    a = GPTModel({**CFG, "drop_rate": 0.0})
    b = GPTModel({**CFG, "drop_rate": 0.0})
    b.load_state_dict(a.state_dict())
    opt = fast_adamw(b.parameters(), lr=0.001, weight_decay=0.1)
    assert opt.defaults["fused"] is True  # torch >= 2.4 lo tiene en CPU
    entrenar(a, torch.optim.AdamW(a.parameters(), lr=0.001, weight_decay=0.1), pasos=3)
    entrenar(b, opt, pasos=3)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(q, p, rtol=1e-4, atol=1e-5)



@pytest.mark.parametrize(
    ("argumentos", "mensaje"),
    [
        ({"lr": 0}, "lr debe ser un número mayor que 0; has pasado 0"),
        ({"lr": -1e-3}, "lr debe ser un número mayor que 0"),
        ({"weight_decay": -0.1}, "weight_decay debe ser un número finito mayor o igual que 0"),
        ({"weight_decay": float("inf")}, "weight_decay debe ser un número finito mayor o igual que 0"),
        ({"lr": "0.001"}, "lr debe ser un número finito; has pasado '0.001' \\(str\\)"),
        ({"lr": float("nan")}, "lr debe ser un número finito"),
        ({"lr": float("inf")}, "lr debe ser un número finito"),
    ],
)
def test_errores_de_fast_adamw(argumentos, mensaje):
    with pytest.raises(ValueError, match=mensaje):
        fast_adamw(torch.nn.Linear(2, 2).parameters(), **argumentos)

