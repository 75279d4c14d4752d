"""Dropout con máscaras más baratas de sortear en CPU: `fast_dropout` y su capa, `FastDropout`.

Es una pieza del camino rápido de entrenamiento (`GPTModelFast(..., dropout="fast")`). Hace lo mismo que
`F.dropout` con otro sorteo de la misma ley; no es un dropout distinto (sin variantes, sin escalas propias).

Se explica en: seccion05/6_rendimiento.ipynb
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from seccion02_TrabajarDatosTexto.checkArgs import check_number


def fast_dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """El mismo dropout que `F.dropout(x, p, training)`, con máscaras más baratas de sortear en CPU.

    Cada elemento se anula con probabilidad `p` y los que quedan se multiplican por 1 / (1 − p), así que el valor
    esperado no cambia. En modo evaluación (`training=False`) o con p = 0 devuelve `x` tal cual.

    En CPU, `F.dropout` sortea un número aleatorio por elemento con `bernoulli_`, que es lento. Aquí se sortean
    enteros de 64 bits y cada uno se parte en dos de 32 (la mitad de sorteos); un elemento se conserva si su entero
    de 32 bits queda por encima de un umbral. La probabilidad de anularlo es round(p · 2³²) / 2³², que se aparta de
    p menos de 1,2e-10, y los que quedan se multiplican por 1 / (1 − esa probabilidad), para que el valor esperado
    siga siendo x. Si p está tan cerca de 1 que round(p · 2³²) = 2³², se anula todo, como con p = 1; si está tan
    cerca de 0 que round(p · 2³²) = 0, no se anula nada. Las máscaras son otras que las de `F.dropout` (otro
    sorteo con la misma ley), así que el entrenamiento no da las mismas cifras que con `F.dropout`, solo las mismas
    en promedio. En GPU y MPS se usa `F.dropout`, que allí ya es rápido.

    Entrada y salida: un tensor de cualquier forma.
    """
    p = check_number("p", p, minimum=0, maximum=1, hint="Es la probabilidad de anular cada elemento (dropout).")
    if not training or p == 0.0:
        return x
    if p == 1.0 or x.device.type != "cpu":
        return F.dropout(x, p, training=True)
    anulados = round(p * 2**32)  # de los 2³² enteros de 32 bits, cuántos anulan su elemento
    if anulados == 2**32:  # p a menos de 2⁻³³ de 1: el umbral no cabría en int32 (daría la vuelta)
        return F.dropout(x, 1.0, training=True)
    n = x.numel()
    # (n + 1) // 2 enteros uniformes en todo el rango de int64 = n enteros uniformes de 32 bits
    aleatorios = torch.empty((n + 1) // 2, dtype=torch.int64).random_(-(2**63), None).view(torch.int32)[:n]
    umbral = -(2**31) + anulados  # por debajo del umbral caen `anulados` de los 2³² enteros posibles
    p_aplicada = anulados / 2**32  # la probabilidad que de verdad se aplica (a menos de 1,2e-10 de p)
    mascara = (aleatorios >= umbral).view(x.shape).to(x.dtype).mul_(1.0 / (1.0 - p_aplicada))  # 0 o 1/(1-p)
    return x * mascara


class FastDropout(nn.Dropout):
    """`nn.Dropout` con las máscaras de `fast_dropout` (el mismo `p`; no tiene parámetros)."""

    def forward(self, x):
        return fast_dropout(x, self.p, self.training)
