"""`fast_adamw`: el optimizador AdamW de PyTorch en su variante más rápida para el dispositivo.

Una pieza del camino rápido de entrenamiento; no cambia el algoritmo (da los mismos pasos que `torch.optim.AdamW`,
salvo redondeo). Se explica en: seccion05/6_rendimiento.ipynb
"""

from __future__ import annotations

import torch

from seccion02_TrabajarDatosTexto.checkArgs import check_number


def fast_adamw(params, lr: float = 0.0004, weight_decay: float = 0.1, **kwargs) -> torch.optim.AdamW:
    """`torch.optim.AdamW` en su variante más rápida: `fused=True` (un kernel para todos los parámetros) si el
    dispositivo lo admite y, si no, `foreach=True`. Crea el optimizador después de mover el modelo al dispositivo.

    Da los mismos pasos que `torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)` salvo redondeo.
    """
    consejo = "El libro usa lr=0.0004 y weight_decay=0.1."
    lr = check_number("lr", lr, hint=consejo)
    if lr <= 0:  # check_number admite el 0 como mínimo; la tasa de aprendizaje tiene que ser positiva
        raise ValueError(f"lr debe ser un número mayor que 0; has pasado {lr:g}. {consejo}")
    weight_decay = check_number("weight_decay", weight_decay, minimum=0, hint=consejo)
    params = list(params)
    try:
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=True, **kwargs)
    except (RuntimeError, ValueError):
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, foreach=True, **kwargs)
