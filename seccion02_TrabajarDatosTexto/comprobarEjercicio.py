"""La salida común de las comprobaciones de los ejercicios del curso.

Cada sección tiene un `ejercicios.py` con una función `comprobar_ejercicio_N_M(...)` por ejercicio. Esa función
revisa la respuesta y reúne en una lista, en español, lo que todavía está mal; después llama a `informar`, que
imprime el resultado siempre con las mismas frases y devuelve si la respuesta es correcta. Así todos los ejercicios
del curso responden igual, y ninguna comprobación lanza un error por una respuesta vacía o equivocada.

Se usa en el `ejercicios.py` de cada sección (seccion02_TrabajarDatosTexto, seccion03_MecanismosAtencion, ...).
"""

from __future__ import annotations


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
