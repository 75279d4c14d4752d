"""Obtener «The Verdict» (Edith Wharton, 1908), el texto con el que trabaja el curso.

La primera vez se descarga de internet con `download_file` (downloadFile.py): se comprueban su tamaño y su suma
sha256 y se guarda en `txt/The_Verdict.txt`; las siguientes veces se lee de esa copia local. La descarga va a
`txt/The_Verdict.txt.part` y solo se renombra al final, así que una descarga interrumpida nunca deja un
`The_Verdict.txt` a medias (y la siguiente sigue desde donde se quedó).

Este módulo reexporta `download_file`, `sha256_file` y `DescargaError` (el mismo `DownloadError` de
downloadFile.py) para los cuadernos y las pruebas que ya los importan de aquí.

Se explica en: seccion02_TrabajarDatosTexto/1_trabajar_datos_texto.ipynb
"""

from __future__ import annotations

import os
from pathlib import Path

from seccion02_TrabajarDatosTexto.downloadFile import DownloadError, download_file, sha256_file

REPO_ROOT = Path(__file__).resolve().parent.parent
RAIZ_REPOSITORIO = REPO_ROOT  # el nombre de antes, por si ya lo importabas

THE_VERDICT_URL = (
    "https://raw.githubusercontent.com/rasbt/LLMs-from-scratch/main/ch02/01_main-chapter-code/the-verdict.txt"
)
THE_VERDICT_SHA256 = "b41e41a68f0398a3154ae69e2e4c0e2694e17fe0d66730536837f1b01935b31f"
THE_VERDICT_SIZE = 20_479  # bytes (el texto es ASCII: tantos bytes como caracteres)
THE_VERDICT_PATH = REPO_ROOT / "txt" / "The_Verdict.txt"


# El nombre de siempre para el error de descarga: es la misma clase que DownloadError
DescargaError = DownloadError


def load_the_verdict(path: str | os.PathLike | None = None, url: str = THE_VERDICT_URL) -> str:
    """Devuelve el texto de «The Verdict» (20 479 caracteres), descargándolo solo si hace falta.

    Usa la copia de `path` (por defecto `txt/The_Verdict.txt`) si existe y su sha256 es el correcto;
    si no existe, la descarga de `url` y la guarda allí. Sin conexión y sin copia local, lanza un
    error que dice exactamente dónde poner el archivo.
    """
    path = Path(path) if path is not None else THE_VERDICT_PATH
    if not path.exists():
        try:
            download_file(url, path, size=THE_VERDICT_SIZE, sha256=THE_VERDICT_SHA256)
        except DownloadError as exc:
            raise FileNotFoundError(
                f"No encuentro «The Verdict» en {path} y no he podido descargarlo ({exc}).\n"
                f"Si no tienes conexión, copia el archivo the-verdict.txt en esa ruta exacta "
                f"(con el nombre {path.name}) y vuelve a ejecutar la celda."
            ) from exc
    suma = sha256_file(path)
    if suma != THE_VERDICT_SHA256:
        raise ValueError(
            f"El archivo {path} no es el texto original de «The Verdict»: su sha256 es {suma} y debería ser "
            f"{THE_VERDICT_SHA256}. Puede que se haya editado o que se hayan cambiado los saltos de línea "
            f"(por ejemplo, al copiarlo en Windows). Bórralo y vuelve a ejecutar la celda para descargarlo de nuevo."
        )
    with open(path, encoding="utf-8") as f:
        return f.read()
