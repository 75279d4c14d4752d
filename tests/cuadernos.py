"""Ayudas para comprobar que el código que enseña un cuaderno y el de su módulo no se separan."""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
from pathlib import Path

RAIZ = Path(__file__).resolve().parent.parent


def codigo_del_cuaderno(ruta: str | Path) -> str:
    """Todo el código de las celdas de un cuaderno, sin las líneas mágicas de IPython (`%`, `!`)."""
    cuaderno = json.loads((RAIZ / ruta).read_text(encoding="utf-8"))
    trozos = []
    for celda in cuaderno["cells"]:
        if celda["cell_type"] != "code":
            continue
        fuente = "".join(celda["source"])
        lineas = [linea for linea in fuente.splitlines() if not linea.lstrip().startswith(("%", "!"))]
        trozos.append("\n".join(lineas))
    return "\n\n".join(trozos)


def _sin_docstrings(nodo: ast.AST) -> ast.AST:
    for n in ast.walk(nodo):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
            cuerpo = n.body
            if cuerpo and isinstance(cuerpo[0], ast.Expr) and isinstance(getattr(cuerpo[0], "value", None), ast.Constant):
                if isinstance(cuerpo[0].value.value, str):
                    n.body = cuerpo[1:] or [ast.Pass()]
    return nodo


def definicion_normalizada(fuente: str, nombre: str) -> str:
    """`ast.dump` de la definición de alto nivel `nombre` (función o clase), sin docstrings ni comentarios."""
    arbol = ast.parse(textwrap.dedent(fuente))
    encontradas = [
        n for n in arbol.body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == nombre
    ]
    if not encontradas:
        raise AssertionError(f"No se encuentra la definición de {nombre!r}.")
    return ast.dump(_sin_docstrings(encontradas[-1]), include_attributes=False)


def assert_misma_definicion(cuaderno: str | Path, objeto) -> None:
    """Falla si la definición de `objeto` en el cuaderno no es la misma (salvo docstrings y comentarios)
    que la de su módulo."""
    nombre = objeto.__name__
    del_modulo = definicion_normalizada(inspect.getsource(inspect.getmodule(objeto)), nombre)
    del_cuaderno = definicion_normalizada(codigo_del_cuaderno(cuaderno), nombre)
    assert del_cuaderno == del_modulo, (
        f"{nombre} del cuaderno {cuaderno} y el de {inspect.getmodule(objeto).__name__} ya no coinciden: "
        "cambia los dos a la vez."
    )
