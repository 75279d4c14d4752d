"""Configuración de Sphinx para el curso como sitio web. Se construye con `python -m sitio.construir`.

Las fuentes son el propio repositorio (la carpeta de fuentes de Sphinx es su raíz): el README de arriba es la portada,
cada sección es la página de su README con sus cuadernos debajo, y `GLOSARIO.md` es una página más. El índice sale de
la tabla «Contenido» del README (`sitio/indice.py`): una fila nueva aparece sin tocar este archivo. Los cuadernos se
muestran con las salidas guardadas, sin ejecutar nada, y nada se escribe en las carpetas del repositorio.
"""

import subprocess
import sys
from pathlib import Path

from docutils import nodes
from sphinx.errors import ConfigError
from sphinx.util.fileutil import copy_asset

RAIZ = Path(__file__).resolve().parent.parent
if str(RAIZ) not in sys.path:
    sys.path.insert(0, str(RAIZ))

from sitio.indice import anclas_termino, leer_contenido  # noqa: E402

try:
    import mathjax as _mathjax  # el paquete django-static-mathjax: MathJax 3.2 en PyPI
except ImportError as error:
    raise ConfigError(
        "Falta MathJax (el paquete django-static-mathjax), que el sitio copia para mostrar las fórmulas sin "
        "conexión. Instálalo con: pip install -r requirements-sitio.txt"
    ) from error

MATHJAX = Path(_mathjax.__file__).parent / "static" / "mathjax" / "es5"
MATHJAX_ENTRADA = "tex-mml-chtml.js"

SECCIONES = leer_contenido(RAIZ / "README.md")


def _md_versionados() -> list[str]:
    """Los .md del repositorio (los versionados en git; fuera de git, los de la raíz y de sus carpetas)."""
    salida = subprocess.run(["git", "ls-files", "*.md"], cwd=RAIZ, capture_output=True, text=True)
    if salida.returncode == 0:
        return sorted(salida.stdout.splitlines())
    return sorted(str(p.relative_to(RAIZ)) for patron in ("*.md", "*/*.md") for p in RAIZ.glob(patron))


def _docname(ruta: str) -> str:
    return ruta.rsplit(".", 1)[0]


SECCION_README = {s.carpeta: f"{s.carpeta}/README.md" for s in SECCIONES}
CUADERNOS = [c for s in SECCIONES for c in s.cuadernos]
PRINCIPALES = ["README.md", *SECCION_README.values(), "GLOSARIO.md"]
OTRAS_PAGINAS = [md for md in _md_versionados() if md not in PRINCIPALES and not md.startswith("sitio/")]

# -- Proyecto ---------------------------------------------------------------------------------------------------------
project = "LLM desde cero"
html_title = "LLM desde cero"
language = "es"  # la interfaz en español y <html lang="es">; también el buscador (raíces de palabras del español)
root_doc = "README"  # la portada es el README de arriba

extensions = ["myst_nb", "sphinx_copybutton", "sphinx.ext.mathjax"]

# Solo estas fuentes: el README, las secciones de la tabla «Contenido», sus cuadernos, el glosario y los demás .md.
include_patterns = [*PRINCIPALES, *OTRAS_PAGINAS, *CUADERNOS]
exclude_patterns = ["sitio/_build", ".git", "**/.ipynb_checkpoints", "**/modelos", ".venv", "venv", "txt/*.txt"]

# -- Cuadernos y Markdown (myst-nb) -----------------------------------------------------------------------------------
nb_execution_mode = "off"  # las salidas guardadas, tal cual: no se ejecuta ningún cuaderno
nb_merge_streams = True  # varias salidas de texto seguidas de una celda, en un solo bloque
myst_enable_extensions = ["dollarmath", "amsmath"]  # $x$ y $$x$$ como en Jupyter
myst_heading_anchors = 3  # anclas de los títulos (#, ## y ###) con el mismo nombre que en GitHub: README.md#hardware
myst_dmath_double_inline = True  # $$...$$ dentro de un párrafo, como lo muestra Jupyter
nb_code_prompt_show = "Mostrar la celda"  # celdas plegadas con las etiquetas hide-input o hide-output
nb_code_prompt_hide = "Ocultar la celda"

# -- Fórmulas sin conexión -------------------------------------------------------------------------------------------
# Una ruta relativa se sirve desde _static/: la copia de MathJax que deja ahí _copiar_mathjax, no la de un CDN.
mathjax_path = f"mathjax/{MATHJAX_ENTRADA}"

# -- HTML --------------------------------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_theme_options = {
    "home_page_in_toc": True,  # la portada, la primera del índice lateral
    "show_toc_level": 2,  # en la columna derecha, los apartados y sus subapartados
    "use_download_button": True,  # descargar el cuaderno (.ipynb) de cada página
    "use_fullscreen_button": False,
    "footer_content_items": [],  # sin pie de «Por Author name not set»: el curso no tiene un autor que poner ahí
}
html_show_sphinx = False
html_copy_source = True  # el botón de descarga entrega el .ipynb original desde _sources/
# Botón de copiar en el código (celdas y bloques de los README), no en las salidas; sin el prompt «>>>» ni «$».
copybutton_selector = 'div[class*="highlight-"]:not(.output) > div.highlight > pre'
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True


def _indice_oculto(entradas: list[str], titulo: str | None = None) -> str:
    cabecera = ":hidden:\n" + (f":caption: {titulo}\n" if titulo else "")
    return "\n\n```{toctree}\n" + cabecera + "\n" + "\n".join(entradas) + "\n```\n"


def _anadir_indices(app, docname: str, source: list[str]) -> None:
    """Añade, sin tocar los archivos, el índice oculto que ordena el sitio: la portada enlaza las secciones y el
    glosario; el README de cada sección, sus cuadernos, en el orden de la tabla «Contenido»."""
    if docname == _docname(root_doc):
        source[0] += _indice_oculto([_docname(r) for r in SECCION_README.values()] + ["GLOSARIO"], "Contenido")
        if OTRAS_PAGINAS:
            source[0] += _indice_oculto([_docname(md) for md in OTRAS_PAGINAS], "Otras páginas")
        return
    for seccion in SECCIONES:
        if docname == _docname(SECCION_README[seccion.carpeta]):
            relativos = [_docname(c.split("/", 1)[1]) for c in seccion.cuadernos]
            source[0] += _indice_oculto(relativos)


def _releer_indices(app, env, anadidos, cambiados, quitados) -> list[str]:
    """Vuelve a leer siempre la portada y los README de las secciones: su índice depende de la tabla «Contenido»,
    y una fila nueva en el README de arriba no cambia el archivo del README de su sección."""
    return [_docname(root_doc), *(_docname(r) for r in SECCION_README.values())]


def _anclas_glosario(app, doctree: nodes.document) -> None:
    """Da a cada término del glosario un id estable (`GLOSARIO.md#entropia-cruzada`, ver `anclas_termino`) y lo
    registra como etiqueta, para que un enlace `[texto](../GLOSARIO.md#entropia-cruzada)` se resuelva."""
    docname = app.env.docname
    if docname != "GLOSARIO":
        return
    std = app.env.domains.standard_domain
    for cuerpo in doctree.findall(nodes.tbody):
        for fila in cuerpo.findall(nodes.row):
            celda = fila.children[0]
            termino = celda.astext().strip()
            parrafos = list(celda.findall(nodes.paragraph))
            destino = parrafos[0] if parrafos else celda
            for id_ in reversed(anclas_termino(termino)):
                if id_ in doctree.ids:
                    continue  # otra fila ya lo usa: se queda con la primera
                marca = nodes.inline("", "", ids=[id_], classes=["termino-glosario"])
                destino.insert(0, marca)
                doctree.ids[id_] = marca
                std.anonlabels[id_] = (docname, id_)
                std.labels[id_] = (docname, id_, termino)


def _copiar_mathjax(app, excepcion) -> None:
    """Copia MathJax en _static/mathjax/ del sitio: el archivo de entrada y las carpetas que carga al usarse."""
    if excepcion is not None or app.builder.format != "html":
        return
    destino = Path(app.outdir) / "_static" / "mathjax"
    destino.mkdir(parents=True, exist_ok=True)
    copy_asset(MATHJAX / MATHJAX_ENTRADA, destino)
    for carpeta in ("input", "output", "a11y", "ui", "sre", "adaptors"):
        copy_asset(MATHJAX / carpeta, destino / carpeta)


PORTADA = """<!DOCTYPE html>
<html lang="es"><head><meta charset="utf-8"><title>LLM desde cero</title>
<meta http-equiv="refresh" content="0; url=README.html"></head>
<body><p>La portada del curso es <a href="README.html">README.html</a>.</p></body></html>
"""


def _escribir_portada(app, excepcion) -> None:
    """index.html, lo que abre un servidor (GitHub Pages) en la raíz del sitio, lleva a la portada, README.html."""
    if excepcion is None and app.builder.format == "html":
        (Path(app.outdir) / "index.html").write_text(PORTADA, encoding="utf-8")


def setup(app):
    app.connect("source-read", _anadir_indices)
    app.connect("env-get-outdated", _releer_indices)
    app.connect("doctree-read", _anclas_glosario)
    app.connect("build-finished", _copiar_mathjax)
    app.connect("build-finished", _escribir_portada)
    return {"parallel_read_safe": False}
