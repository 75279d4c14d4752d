"""Obtener «The Verdict» (Edith Wharton, 1908), el texto con el que trabaja el curso.

La primera vez se descarga de internet, se comprueba su suma sha256 y se guarda en
`txt/The_Verdict.txt`; las siguientes veces se lee de esa copia local. La escritura es atómica:
se descarga a un archivo temporal en la misma carpeta y solo se renombra al final, así que una
descarga interrumpida nunca deja un archivo a medias.

Se explica en: seccion02_TrabajarDatosTexto/1_trabajar_datos_texto.ipynb
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

RAIZ_REPOSITORIO = Path(__file__).resolve().parent.parent

THE_VERDICT_URL = (
    "https://raw.githubusercontent.com/rasbt/LLMs-from-scratch/main/ch02/01_main-chapter-code/the-verdict.txt"
)
THE_VERDICT_SHA256 = "b41e41a68f0398a3154ae69e2e4c0e2694e17fe0d66730536837f1b01935b31f"
THE_VERDICT_PATH = RAIZ_REPOSITORIO / "txt" / "The_Verdict.txt"


class DescargaError(RuntimeError):
    """La descarga no se pudo completar (sin conexión, error del servidor, conexión cortada o suma sha256 distinta)."""


def sha256_file(path: str | os.PathLike) -> str:
    """Suma sha256 (hexadecimal) del contenido de un archivo."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for bloque in iter(lambda: f.read(1 << 16), b""):
            h.update(bloque)
    return h.hexdigest()


def download_file(url: str, path: str | os.PathLike, sha256: str | None = None, timeout: float = 30.0) -> Path:
    """Descarga `url` en `path` de forma atómica y, si se da `sha256`, comprueba el contenido.

    Si algo falla (red, servidor, suma distinta o una interrupción), `path` no se crea ni se
    modifica y no queda ningún archivo temporal. Devuelve la ruta del archivo descargado.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as destino:
            with urllib.request.urlopen(url, timeout=timeout) as respuesta:
                for bloque in iter(lambda: respuesta.read(1 << 16), b""):
                    h.update(bloque)
                    destino.write(bloque)
            destino.flush()
            os.fsync(destino.fileno())
        if sha256 is not None and h.hexdigest() != sha256:
            raise DescargaError(
                f"El archivo descargado de {url} no es el esperado: su sha256 es {h.hexdigest()} "
                f"y debería ser {sha256}. No se ha guardado nada; vuelve a intentarlo más tarde."
            )
        os.chmod(tmp, 0o644)  # mkstemp crea el archivo solo legible por su dueño
        os.replace(tmp, path)
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        raise DescargaError(f"No se pudo descargar {url}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_the_verdict(path: str | os.PathLike | None = None, url: str = THE_VERDICT_URL) -> str:
    """Devuelve el texto de «The Verdict» (20 479 caracteres), descargándolo solo si hace falta.

    Usa la copia de `path` (por defecto `txt/The_Verdict.txt`) si existe y su sha256 es el correcto;
    si no existe, la descarga de `url` y la guarda allí. Sin conexión y sin copia local, lanza un
    error que dice exactamente dónde poner el archivo.
    """
    path = Path(path) if path is not None else THE_VERDICT_PATH
    if not path.exists():
        try:
            download_file(url, path, sha256=THE_VERDICT_SHA256)
        except DescargaError as exc:
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
