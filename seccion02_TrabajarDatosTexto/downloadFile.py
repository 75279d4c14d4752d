"""La descarga de archivos de todo el curso («The Verdict», los pesos de GPT-2): comprobada, atómica y reanudable.

`download_file(url, path, ...)` descarga en `path + ".part"`, lo fuerza a disco, lo comprueba (tamaño, sha256 y,
si se pide, una comprobación propia) y solo entonces lo renombra sobre `path` (con `atomic_replace`): el archivo
definitivo aparece completo y comprobado, o no aparece.

- Reanudar: si queda un `.part` de una descarga cortada, se pide solo lo que falta (cabecera HTTP Range), pero solo
  cuando se conocen el tamaño y el sha256 del archivo: sin ellos no habría forma de saber si los trozos encajan, así
  que el `.part` se borra y se empieza de nuevo.
- Errores: todos son `DownloadError`, en español, y dicen qué hacer. Un corte de la conexión se cuenta como corte
  («la conexión se cortó tras recibir X de Y bytes»), nunca como una suma sha256 distinta.

No es un gestor de descargas: no reintenta solo, no descarga en paralelo y no coordina dos descargas simultáneas
del mismo archivo.

Se explica en: seccion02_TrabajarDatosTexto/1_trabajar_datos_texto.ipynb y seccion05/5_cargar_pesos_gpt2.ipynb
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path

from seccion02_TrabajarDatosTexto.atomicWrite import atomic_replace, remove_stale_temporaries

_BLOQUE = 1 << 20  # se lee y se escribe de 1 MiB en 1 MiB


class DownloadError(RuntimeError):
    """La descarga no se pudo completar (sin conexión, error del servidor, conexión cortada o archivo distinto)."""


def sha256_file(path: str | os.PathLike) -> str:
    """Suma sha256 (hexadecimal) del contenido de un archivo."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for bloque in iter(lambda: f.read(_BLOQUE), b""):
            h.update(bloque)
    return h.hexdigest()


def download_file(url: str, path: str | os.PathLike, size: int | None = None, sha256: str | None = None,
                  progress: bool = False, timeout: float = 60.0, verify=None) -> Path:
    """Descarga `url` en `path` y devuelve la ruta; el archivo aparece completo y comprobado, o no aparece.

    - `size`, `sha256`: tamaño en bytes y suma sha256 esperados, si se conocen. Con los dos, una descarga cortada
      se reanuda desde el `.part`; sin ellos, se empieza de nuevo. Sin `size`, se comprueba al menos el tamaño que
      anuncia el servidor (Content-Length).
    - `progress=True`: muestra una barra de progreso (tqdm).
    - `timeout`: segundos de espera máxima de cada operación de red.
    - `verify`: comprobación adicional; una función que recibe la ruta del `.part` y lanza ValueError si no vale.
    Si una comprobación falla, borra el `.part` y lanza DownloadError; `path` no se toca.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    parte = path.with_name(path.name + ".part")
    reanudable = size is not None and sha256 is not None
    ya_descargado = parte.stat().st_size if parte.exists() else 0
    if ya_descargado and (not reanudable or ya_descargado > size):  # no se puede saber si encaja: se descarta
        parte.unlink()
        ya_descargado = 0

    if not (reanudable and ya_descargado == size):  # un .part completo solo falta comprobarlo
        _descargar(url, parte, ya_descargado, size, reanudable, progress, timeout)
    _comprobar(url, parte, size, sha256, verify)
    return atomic_replace(parte, path)


def _descargar(url: str, parte: Path, ya_descargado: int, size: int | None, reanudable: bool, progress: bool,
               timeout: float) -> None:
    """Escribe en `parte` lo que falta de `url` (o todo, si el servidor no sabe reanudar) y lo fuerza a disco."""
    cabeceras = {"User-Agent": "llm-desde-cero"}
    if ya_descargado:
        cabeceras["Range"] = f"bytes={ya_descargado}-"
    try:
        respuesta = urllib.request.urlopen(urllib.request.Request(url, headers=cabeceras), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416:  # «rango no válido»: el archivo del servidor es más corto que el .part
            parte.unlink(missing_ok=True)
        raise DownloadError(
            f"El servidor ha respondido {exc.code} ({exc.reason}) al pedir {url}. Comprueba la dirección o vuelve a "
            "intentarlo más tarde."
        ) from exc
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        raise DownloadError(
            f"No se pudo descargar {url}: no hay conexión o el servidor no responde ({exc}). Comprueba tu conexión "
            "a internet y vuelve a intentarlo."
        ) from exc

    with respuesta:
        if ya_descargado and respuesta.status != 206:  # el servidor no sabe reanudar: manda el archivo entero
            ya_descargado = 0
        anunciados = respuesta.headers.get("Content-Length")
        total = ya_descargado + int(anunciados) if anunciados is not None else size
        if size is not None and total != size:
            parte.unlink(missing_ok=True)
            raise DownloadError(
                f"El servidor anuncia {total} bytes y deberían ser {size}: {url} no es el archivo esperado (o ha "
                "cambiado). No se ha guardado nada."
            )
        recibido = ya_descargado
        barra = _barra(progress, total, ya_descargado, parte.name.removesuffix(".part"))
        try:
            with open(parte, "ab" if ya_descargado else "wb") as destino:
                try:
                    for bloque in iter(lambda: respuesta.read(_BLOQUE), b""):
                        destino.write(bloque)
                        recibido += len(bloque)
                        if barra is not None:
                            barra.update(len(bloque))
                except (http.client.HTTPException, OSError) as exc:  # IncompleteRead, conexión reiniciada, tiempo
                    raise _corte(url, parte, recibido, total, reanudable) from exc
                destino.flush()
                os.fsync(destino.fileno())  # que los bytes estén en el disco antes de comprobar y renombrar
            if total is not None and recibido < total:  # el servidor cerró antes de tiempo
                raise _corte(url, parte, recibido, total, reanudable)
        except BaseException:
            if not reanudable:  # un trozo que no se podrá reanudar no sirve de nada
                parte.unlink(missing_ok=True)
            raise
        finally:
            if barra is not None:
                barra.close()


def _barra(progress: bool, total: int | None, inicial: int, nombre: str):
    """Barra de progreso en bytes (tqdm) o None."""
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=inicial, unit="B", unit_scale=True, unit_divisor=1024, desc=nombre)


def _corte(url: str, parte: Path, recibido: int, total: int | None, reanudable: bool) -> DownloadError:
    """El error de una conexión cortada: cuánto llegó y qué hacer."""
    de_cuantos = f"{recibido} de {total} bytes" if total is not None else f"{recibido} bytes (sin saber el total)"
    if reanudable:
        que_hacer = f"Lo descargado se conserva en {parte}: vuelve a ejecutar la descarga y seguirá desde ahí."
    else:
        que_hacer = "No se ha guardado nada: vuelve a ejecutar la descarga (empezará de nuevo)."
    return DownloadError(f"No se pudo descargar {url}: la conexión se cortó tras recibir {de_cuantos}. {que_hacer}")


def _comprobar(url: str, parte: Path, size: int | None, sha256: str | None, verify) -> None:
    """Comprueba tamaño, sha256 y `verify` del `.part`; si algo falla, lo borra y lanza DownloadError."""
    tamano = parte.stat().st_size
    if size is not None and tamano < size:  # sin Content-Length, un corte parece un final normal
        if sha256 is None:  # sin sha256 no se podrá reanudar
            parte.unlink()
        raise _corte(url, parte, tamano, size, reanudable=sha256 is not None)
    if size is not None and tamano > size:
        parte.unlink()
        raise DownloadError(
            f"El archivo descargado de {url} tiene {tamano} bytes y deberían ser {size}. Se ha borrado; vuelve a "
            "intentarlo."
        )
    if sha256 is not None:
        obtenido = sha256_file(parte)
        if obtenido != sha256:
            parte.unlink()
            raise DownloadError(
                f"El archivo descargado de {url} no es el esperado: su sha256 es {obtenido} y debería ser {sha256}. "
                "Se ha borrado; vuelve a intentarlo (si vuelve a pasar, el archivo del servidor ha cambiado)."
            )
    if verify is not None:
        try:
            verify(parte)
        except ValueError as exc:
            parte.unlink()
            raise DownloadError(f"El archivo descargado de {url} no es válido y se ha borrado: {exc}") from exc
