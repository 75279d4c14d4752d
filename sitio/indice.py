"""El índice del sitio, leído de la tabla «Contenido» del README, y las anclas de los términos del glosario.

La tabla «Contenido» del README es la única fuente del orden de lectura: cada fila con algo en la columna «Sección»
abre una sección, y el enlace de la columna «Cuaderno» es un cuaderno de esa sección. Una fila nueva en esa tabla
aparece en el sitio sin tocar su configuración (`sitio/conf.py`).
"""

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ENLACE = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


@dataclass
class Seccion:
    """Una sección del curso: su carpeta, su título en la tabla y sus cuadernos en orden de lectura."""

    carpeta: str  # "seccion05"
    titulo: str  # "5. Preentrenamiento"
    cuadernos: list[str] = field(default_factory=list)  # ["seccion05/1_evaluando_modelos_texto.ipynb", ...]


def _celdas(fila: str) -> list[str]:
    return [celda.strip() for celda in fila.strip().strip("|").split("|")]


def leer_contenido(readme: Path) -> list[Seccion]:
    """Lee la tabla «Contenido» de `readme` y devuelve sus secciones, en el orden de la tabla.

    Cada cuaderno es una ruta relativa a la carpeta del README, tal como la escribe el enlace.
    """
    texto = readme.read_text(encoding="utf-8")
    partes = re.split(r"^## Contenido[ \t]*$", texto, maxsplit=1, flags=re.MULTILINE)
    if len(partes) < 2:
        raise ValueError(f"{readme} no tiene el apartado «## Contenido»: el sitio saca de su tabla el índice.")
    resto = re.split(r"^## ", partes[1], maxsplit=1, flags=re.MULTILINE)[0]
    filas = [linea for linea in resto.splitlines() if linea.lstrip().startswith("|")]
    if len(filas) < 3:
        raise ValueError(f"El apartado «Contenido» de {readme} no tiene una tabla con filas de cuadernos.")
    secciones: list[Seccion] = []
    for numero, fila in enumerate(filas[2:], start=3):  # la cabecera y la línea |---|
        celdas = _celdas(fila)
        enlace = ENLACE.search(celdas[1]) if len(celdas) > 1 else None
        if enlace is None:
            raise ValueError(
                f"La fila {numero} de la tabla «Contenido» de {readme} no enlaza ningún cuaderno en su segunda "
                f"columna: «{fila.strip()}». Escribe el enlace como [1. Título](carpeta/cuaderno.ipynb)."
            )
        ruta = enlace.group(1).split("#")[0]
        carpeta = ruta.split("/")[0]
        if celdas[0]:
            secciones.append(Seccion(carpeta=carpeta, titulo=celdas[0]))
        if not secciones:
            raise ValueError(f"La primera fila de la tabla «Contenido» de {readme} no dice qué sección empieza.")
        if carpeta != secciones[-1].carpeta:
            raise ValueError(
                f"La fila {numero} de la tabla «Contenido» de {readme} enlaza {ruta}, que no está en la carpeta "
                f"de su sección ({secciones[-1].carpeta}/). Empieza una sección nueva escribiendo su nombre en la "
                "primera columna."
            )
        if not (readme.parent / ruta).is_file():
            raise ValueError(f"La tabla «Contenido» de {readme} enlaza {ruta}, que no existe.")
        secciones[-1].cuadernos.append(ruta)
    return secciones


def ancla(texto: str) -> str:
    """El id HTML de un término: minúsculas, sin tildes y con guiones («Entropía cruzada» → «entropia-cruzada»)."""
    sin_tildes = unicodedata.normalize("NFKD", texto).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", sin_tildes.lower()).strip("-")


def anclas_termino(termino: str) -> list[str]:
    """Las anclas de una fila del glosario: la del término entero y la de cada alternativa separada por comas.

    «atajo, conexión residual» → ["atajo-conexion-residual", "atajo", "conexion-residual"];
    «BPE (codificación por pares de bytes)» → ["bpe-codificacion-por-pares-de-bytes", "bpe"].
    """
    anclas = [ancla(termino)]
    sin_parentesis = re.sub(r"\([^)]*\)", "", termino)
    for alternativa in sin_parentesis.split(","):
        anclas.append(ancla(alternativa))
    return [a for i, a in enumerate(anclas) if a and a not in anclas[:i]]
