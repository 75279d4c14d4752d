"""Elegir dónde se ejecuta el modelo: GPU NVIDIA (CUDA), GPU de Apple (MPS) o CPU.

Se explica en: seccion05/1_evaluando_modelos_texto.ipynb
"""

import os

import torch


def get_device(preferido: str | None = None) -> torch.device:
    """Devuelve CUDA si está disponible, si no MPS (Apple) y, si no, la CPU.

    `preferido` (o la variable de entorno `LLM_DEVICE`) fuerza un dispositivo, por ejemplo "cpu".
    """
    preferido = preferido or os.environ.get("LLM_DEVICE")
    if preferido:
        return torch.device(preferido)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
