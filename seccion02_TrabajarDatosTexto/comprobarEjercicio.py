"""La salida común de las comprobaciones de los ejercicios del curso.

Cada sección tiene un `ejercicios.py` con una función `comprobar_ejercicio_N_M(...)` por ejercicio. Esa función
revisa la respuesta y reúne en una lista, en español, lo que todavía está mal; después llama a `informar`, que
imprime el resultado siempre con las mismas frases y devuelve si la respuesta es correcta. Así todos los ejercicios
del curso responden igual, y ninguna comprobación lanza un error por una respuesta vacía o equivocada. También
están aquí las pequeñas ayudas que comparten las comprobaciones para leer y describir lo que ha escrito el alumno
(`a_entero`, `a_numero`, `describir`, `describir_error`, `valores`, `miles`).

Se usa en el `ejercicios.py` de cada sección (seccion02_TrabajarDatosTexto, seccion03_MecanismosAtencion, ...).
"""

from __future__ import annotations

import numbers

import torch


def informar(nombre: str, problemas: list[str] | None) -> bool:
    """Imprime el resultado de la comprobación de un ejercicio y devuelve True solo si es correcto.

    - `problemas=None`: el ejercicio está sin hacer (la respuesta sigue en None) y se imprime
      «Ejercicio 3.1: todavía sin resolver.».
    - `problemas=[]`: no queda nada mal y se imprime «Ejercicio 3.1: ¡correcto!».
    - Una lista con frases: se imprime «Ejercicio 3.1: todavía no está bien.» y cada frase en su línea.

    `nombre` es el nombre con que se presenta el ejercicio («Ejercicio 3.1»).
    """
    if problemas is None:
        print(f"{nombre}: todavía sin resolver.")
        return False
    if not problemas:
        print(f"{nombre}: ¡correcto!")
        return True
    print(f"{nombre}: todavía no está bien.")
    for problema in problemas:
        print(f"  - {problema}")
    return False


def miles(n: int) -> str:
    """Un entero con espacios como separador de miles: 2362368 -> '2 362 368'."""
    return f"{n:,}".replace(",", " ")


def describir(x) -> str:
    """Describe lo recibido: la forma de un tensor, o el tipo de cualquier otra cosa."""
    if isinstance(x, torch.Tensor):
        return f"un tensor de forma {tuple(x.shape)}"
    return f"un objeto de tipo {type(x).__name__}"


def describir_error(contexto: str, error: Exception) -> str:
    """La frase que explica que el código del alumno ha fallado: «<contexto> da un error: TipoDeError: mensaje»."""
    return f"{contexto} da un error: {type(error).__name__}: {error}"


def valores(t: torch.Tensor) -> str:
    """Los valores de un tensor pequeño con 4 decimales: '0.1390  0.2369 ...'."""
    return "  ".join(f"{round(v, 4) + 0.0:.4f}" for v in t.detach().flatten().tolist())


def a_entero(x):
    """Un entero de Python a partir de un int o de un tensor con un solo número entero; None si no lo es."""
    if isinstance(x, bool):
        return None
    if isinstance(x, torch.Tensor) and x.numel() == 1 and not x.is_floating_point() and x.dtype != torch.bool:
        return int(x.item())
    if isinstance(x, numbers.Integral):
        return int(x)
    return None


def a_numero(x):
    """Un float a partir de un número o de un tensor con un solo número; None si no es un número."""
    if isinstance(x, bool):
        return None
    if isinstance(x, torch.Tensor) and x.numel() == 1:
        return float(x.detach().item())
    if isinstance(x, numbers.Real):
        return float(x)
    return None
