"""¿Calcula este dispositivo en bfloat16, y rápido? `bf16_runs` y `bf16_accelerated`, con una prueba de verdad.

`GPTModelFast(..., precision="auto")` las usa para elegir bf16 solo donde funciona y se acelera. No cambian la
precisión de nada: solo responden (y guardan la respuesta por dispositivo).

Se explica en: seccion05/6_rendimiento.ipynb
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def bf16_accelerated(device: torch.device | str) -> bool:
    """True si en `device` el cálculo bfloat16 es rápido y además se puede ejecutar (`bf16_runs`): CPU con
    instrucciones bf16 (AVX-512 BF16, AMX) o GPU CUDA que lo admita. En el resto (MPS, CPU sin bf16...) el
    autocast a bf16 no compensa. Es lo que usa precision="auto" en `GPTModelFast`."""
    device = torch.device(device)
    if device.type == "cuda":
        hardware = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    elif device.type == "cpu":
        try:
            hardware = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            hardware = False
    else:
        hardware = False
    return hardware and bf16_runs(device)


def bf16_runs(device: torch.device | str) -> bool:
    """True si en `device` se pueden ejecutar las operaciones que `GPTModelFast` hace en bfloat16.

    Que el hardware tenga instrucciones bf16 no basta: PyTorch elige sus kernels por otro lado (por
    ejemplo, con ATEN_CPU_CAPABILITY=avx2 en una CPU con AMX, la atención en bf16 falla con «pack_vnni2 is only
    supported when avx512 is supported»). Así que se prueba de verdad: la primera vez, en cada dispositivo, se
    ejecuta una vez una versión diminuta de esas operaciones (lineal, producto de matrices y atención, hacia delante
    y hacia atrás) con formas en las que PyTorch usa sus kernels empaquetados, y la respuesta se guarda.
    """
    return _fallo_bf16(device) is None


_FALLOS_BF16: dict[str, str | None] = {}  # por dispositivo: None si bf16 funciona; si no, el error de PyTorch


def _fallo_bf16(device: torch.device | str) -> str | None:
    """El resultado guardado de `_probar_bf16` en `device` (la prueba se ejecuta solo la primera vez)."""
    clave = str(torch.device(device))
    if clave not in _FALLOS_BF16:
        _FALLOS_BF16[clave] = _probar_bf16(torch.device(device))
    return _FALLOS_BF16[clave]


@torch.compiler.disable  # una prueba de verdad, fuera de cualquier grafo compilado
def _probar_bf16(device: torch.device) -> str | None:
    """Ejecuta en `device`, con autocast a bf16, las operaciones del modelo; None si funcionan o el error si no.

    Las formas importan: la atención fusionada de la CPU solo empaqueta sus matrices (que es donde puede fallar)
    con 64 consultas y 64 claves o más y cuando cada hilo recibe bastantes consultas; con un lote de 2 cabezas
    empaqueta siempre que puede. Los tensores se crean sin sortear números, para no mover el generador aleatorio.
    """
    try:
        with torch.inference_mode(False), torch.enable_grad():  # también si se llama al generar (sin gradientes)
            x = torch.linspace(-1.0, 1.0, 64 * 64, device=device).view(1, 64, 64).requires_grad_()
            w = torch.linspace(1.0, -1.0, 64 * 64, device=device).view(64, 64).requires_grad_()
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
                h = F.linear(x, w)  # (1, 64, 64): las capas lineales
                q = h.view(1, 64, 2, 32).transpose(1, 2)  # (1, 2, 64, 32): 2 cabezas de 32 dimensiones
                atencion = F.scaled_dot_product_attention(q, q, q, is_causal=True)  # la atención fusionada
                puntuaciones = q @ q.transpose(2, 3)  # (1, 2, 64, 64): la atención de `MultiHeadAttention`
            (atencion.float().sum() + puntuaciones.float().sum()).backward()
    except RuntimeError as error:
        mensaje = str(error).strip()
        return mensaje.splitlines()[0] if mensaje else type(error).__name__  # la primera línea basta
    return None
