"""Construye el curso como sitio web estático, con Sphinx, desde los cuadernos y los README.

    python -m sitio.construir            # el sitio queda en sitio/_build/html/ (ábrelo: sitio/_build/html/index.html)
    python -m sitio.construir --estricto # un aviso de Sphinx (un enlace roto, una imagen que falta) es un error

No ejecuta ningún cuaderno (muestra las salidas guardadas) ni necesita conexión: las fórmulas se ven con la copia de
MathJax que trae requirements-sitio.txt. La configuración está en sitio/conf.py.
"""

import importlib.util
import sys
import time
from pathlib import Path

RAIZ = Path(__file__).resolve().parent.parent
if str(RAIZ) not in sys.path:  # para importar el analizador de argumentos del curso
    sys.path.insert(0, str(RAIZ))

from seccion02_TrabajarDatosTexto.spanishArgumentParser import SpanishArgumentParser  # noqa: E402

SALIDA_POR_DEFECTO = RAIZ / "sitio" / "_build"
# Módulo que se importa -> paquete de requirements-sitio.txt que lo trae
NECESARIOS = {
    "sphinx": "sphinx",
    "myst_nb": "myst-nb",
    "sphinx_book_theme": "sphinx-book-theme",
    "sphinx_copybutton": "sphinx-copybutton",
    "mathjax": "django-static-mathjax",
}


def faltan() -> list[str]:
    """Los paquetes de requirements-sitio.txt que no están instalados."""
    return [paquete for modulo, paquete in NECESARIOS.items() if importlib.util.find_spec(modulo) is None]


def construir(salida: Path = SALIDA_POR_DEFECTO, estricto: bool = False, desde_cero: bool = False) -> int:
    """Construye el sitio en `salida`/html y devuelve el código de salida de Sphinx (0 si ha ido bien).

    `salida`/doctrees y `salida`/jupyter_execute guardan el trabajo intermedio de Sphinx (para reconstruir más deprisa).
    """
    ausentes = faltan()
    if ausentes:
        raise SystemExit(
            f"Faltan paquetes para construir el sitio: {', '.join(ausentes)}. Instálalos desde la carpeta del "
            "repositorio con: pip install -r requirements-sitio.txt"
        )
    from sphinx.cmd.build import build_main

    salida = Path(salida).resolve()
    argumentos = ["-b", "html", "-c", str(RAIZ / "sitio"), "-d", str(salida / "doctrees"), "-q"]
    if estricto:
        argumentos += ["-W", "--keep-going"]  # todos los avisos, y al final falla si hubo alguno
    if desde_cero:
        argumentos += ["-E"]  # vuelve a leer todas las fuentes, sin lo guardado de la vez anterior
    return build_main([*argumentos, str(RAIZ), str(salida / "html")])


def main(argv: list[str] | None = None) -> int:
    parser = SpanishArgumentParser(
        prog="python -m sitio.construir",
        add_help=False,
        description="Construye el curso como sitio web (HTML estático) con las salidas guardadas de los cuadernos, "
        "sin ejecutarlos y sin conexión. Necesita: pip install -r requirements-sitio.txt",
    )
    parser.add_argument("-h", "--help", action="help", help="muestra esta ayuda y termina")
    parser.add_argument(
        "--salida",
        type=Path,
        default=SALIDA_POR_DEFECTO,
        metavar="CARPETA",
        help="dónde construirlo (por defecto sitio/_build); el sitio queda en CARPETA/html, con su portada en "
        "CARPETA/html/index.html",
    )
    parser.add_argument(
        "--estricto", action="store_true", help="trata cada aviso de Sphinx como un error (lo usan las pruebas y la CI)"
    )
    parser.add_argument(
        "--desde-cero", action="store_true", help="vuelve a leer todos los cuadernos aunque no hayan cambiado"
    )
    args = parser.parse_args(argv)

    inicio = time.perf_counter()
    codigo = construir(args.salida, estricto=args.estricto, desde_cero=args.desde_cero)
    if codigo == 0:
        portada = Path(args.salida).resolve() / "html" / "index.html"
        print(f"Sitio construido en {time.perf_counter() - inicio:.0f} s. Ábrelo en el navegador: {portada}")
    else:
        print("No se ha podido construir el sitio: lee los avisos de arriba.", file=sys.stderr)
    return codigo


if __name__ == "__main__":
    sys.exit(main())
