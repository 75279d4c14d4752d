"""Genera todas las figuras originales del curso en imgs/<seccion>/.

Uso (desde la raíz del repositorio):
    python imgs/generar_figuras.py            # todas
    python imgs/generar_figuras.py seccion05  # solo las de los módulos cuyo nombre empieza así

Es determinista: ejecutarlo dos veces produce los mismos archivos.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

CARPETA_IMGS = Path(__file__).resolve().parent
sys.path.insert(0, str(CARPETA_IMGS))

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # sin ventanas: solo archivos PNG
import figuras  # noqa: E402


def modulos_de_figuras():
    """Módulos `figuras/seccion*.py`, en orden alfabético."""
    nombres = sorted(m.name for m in pkgutil.iter_modules(figuras.__path__) if m.name.startswith("seccion"))
    return [importlib.import_module(f"figuras.{nombre}") for nombre in nombres]


def generar(destino_base: Path = CARPETA_IMGS, filtro: str = "") -> list[Path]:
    """Dibuja las figuras de cada módulo en destino_base/<nombre del módulo>/ y devuelve las rutas."""
    rutas = []
    for modulo in modulos_de_figuras():
        nombre = modulo.__name__.split(".")[-1]
        if not nombre.startswith(filtro):
            continue
        for dibujar in modulo.FIGURAS:
            rutas.append(dibujar(destino_base / nombre))
    return rutas


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("filtro", nargs="?", default="", help="prefijo del módulo de figuras (p. ej. seccion05)")
    args = parser.parse_args()
    for ruta in generar(filtro=args.filtro):
        print(ruta.relative_to(CARPETA_IMGS.parent))
