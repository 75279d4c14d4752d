"""Validación de argumentos sueltos (enteros y números) con errores claros en español.

Todo el curso comprueba aquí que un argumento como `num_batches`, `n_heads` o `drop_rate` sea un entero o un
número dentro de su rango, para que un valor equivocado (`2.5`, `4.0`, `True`, `"3"`, `nan`) dé un error que diga
qué se ha recibido y qué se admite, en lugar de un resultado silenciosamente erróneo.

No valida tensores ni configuraciones enteras: eso lo hacen `check_config` (gptModel.py) y
`check_generation_args` (checkGenerationArgs.py), que se apoyan en estas dos funciones.
"""

from __future__ import annotations

import math
import numbers

import torch


def _describir(value) -> str:
    """`4.0 (float)`: el valor recibido y su tipo, recortado si es muy largo."""
    texto = repr(value)
    if len(texto) > 60:
        texto = texto[:57] + "..."
    return f"{texto} ({type(value).__name__})"


def _rango(minimum, maximum) -> str:
    """Texto del rango admitido: «mayor o igual que 1», «entre 1 y 16», «menor o igual que 5» o «»."""
    if minimum is not None and maximum is not None:
        return f" entre {minimum} y {maximum}"
    if minimum is not None:
        return f" mayor o igual que {minimum}"
    if maximum is not None:
        return f" menor o igual que {maximum}"
    return ""


def _es_entero(value) -> bool:
    """True para un int de Python (o de NumPy) y para un tensor 0-d de enteros; False para bool."""
    if isinstance(value, torch.Tensor):
        entero = not (value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == torch.bool)
        return value.dim() == 0 and entero
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(
    name: str,
    value,
    minimum: int | None = None,
    maximum: int | None = None,
    allow_none: bool = False,
    hint: str = "",
) -> int | None:
    """Comprueba que `value` sea un entero en [minimum, maximum] y lo devuelve como `int` de Python.

    Se rechazan bool (`True` no es un 1), floats aunque sean enteros (`4.0`), cadenas y tensores de más de un
    elemento; se aceptan int de Python o de NumPy y tensores 0-d de enteros. Con `allow_none=True`, `None` se
    admite y se devuelve tal cual.

    Ejemplo de error: «n_heads debe ser un entero mayor o igual que 1; has pasado 4.0 (float).»
    """
    if value is None and allow_none:
        return None
    if _es_entero(value):
        entero = int(value)
        dentro = (minimum is None or entero >= minimum) and (maximum is None or entero <= maximum)
        if dentro:
            return entero
    o_none = " (o None)" if allow_none else ""
    mensaje = f"{name} debe ser un entero{_rango(minimum, maximum)}{o_none}; has pasado {_describir(value)}."
    raise ValueError(f"{mensaje} {hint}" if hint else mensaje)


def check_number(
    name: str,
    value,
    minimum: float | None = None,
    maximum: float | None = None,
    allow_inf: bool = False,
    hint: str = "",
) -> float:
    """Comprueba que `value` sea un número real en [minimum, maximum] y lo devuelve como `float` de Python.

    Se rechazan bool, cadenas, NaN y, salvo con `allow_inf=True`, los infinitos; se aceptan int, float (también
    de NumPy) y tensores 0-d reales. `hint`, si lo das, se añade al final del mensaje de error.

    Ejemplo de error: «drop_rate debe ser un número entre 0.0 y 1.0; has pasado nan (float).»
    """
    es_numero = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if isinstance(value, torch.Tensor):
        es_numero = value.dim() == 0 and not value.dtype.is_complex and value.dtype != torch.bool
    if es_numero:
        real = float(value)
        finito = math.isfinite(real) or (allow_inf and math.isinf(real))
        dentro = (minimum is None or real >= minimum) and (maximum is None or real <= maximum)
        if finito and dentro:
            return real
    finito = "" if allow_inf else " finito"
    mensaje = f"{name} debe ser un número{finito}{_rango(minimum, maximum)}; has pasado {_describir(value)}."
    raise ValueError(f"{mensaje} {hint}" if hint else mensaje)
