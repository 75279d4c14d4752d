"""Escritura atómica de archivos para todo el curso: el archivo aparece completo o no aparece.

- `atomic_write(path)`: escribe en un temporal oculto de la misma carpeta, lo fuerza a disco y lo renombra sobre
  `path`. Si algo falla, `path` queda como estaba.
- `atomic_replace(src, dst)`: solo el último paso (renombrar y asegurar la carpeta); lo usa también la descarga.
- `remove_stale_temporaries(path)`: borra los temporales que dejó para `path` un proceso que murió a medias
  (por ejemplo, matado con SIGKILL o por falta de memoria, cuando ningún `finally` llega a ejecutarse).

No es un sistema de bloqueos: dos procesos que escriben a la vez el mismo archivo no se esperan (gana el último
renombrado, pero ninguno deja un archivo a medias).

Se explica en: seccion05/4_guardar_y_cargar_pesos.ipynb
"""

from __future__ import annotations

import os
import re
import secrets
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_write(path: str | os.PathLike):
    """`with atomic_write(ruta) as f: f.write(...)`: escribe `ruta` (en binario) de forma atómica.

    Escribe en un temporal oculto de la misma carpeta, lo fuerza a disco (`fsync`) y lo renombra sobre `ruta`.
    Si algo falla dentro del `with`, el temporal se borra y `ruta` queda como estaba.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)  # los que dejó un proceso que murió a medias
    # Oculto y en la misma carpeta (os.replace solo es atómico dentro de un mismo disco); lleva el PID del escritor
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # O_EXCL: nunca reutiliza un archivo que ya existe; 0o666 menos la umask: los permisos de un archivo normal
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())  # que los bytes estén en el disco antes de renombrar
        atomic_replace(tmp, path)  # se ve el archivo viejo o el nuevo, nunca uno a medias
    finally:
        tmp.unlink(missing_ok=True)  # tras un renombrado correcto ya no existe


def atomic_replace(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Renombra `src` sobre `dst` de forma atómica (`os.replace`) y fuerza a disco la carpeta. Devuelve `dst`.

    `src` debe estar ya completo y en disco (con `fsync`) y en la misma carpeta (o al menos el mismo disco) que `dst`.
    """
    os.replace(src, dst)
    _fsync_carpeta(Path(dst).parent)  # que el renombrado mismo sobreviva a un corte de luz
    return Path(dst)


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Borra los temporales de `atomic_write` para `path` cuyo proceso escritor ya no existe; devuelve los borrados.

    Un temporal se llama `.<nombre>.<PID>.<azar>.tmp`. Los de un proceso vivo (que quizá esté escribiendo ahora)
    no se tocan; tampoco los archivos con otro formato de nombre.
    """
    path = Path(path)
    patron = re.compile(rf"\.{re.escape(path.name)}\.(\d{{1,9}})\.[0-9a-f]+\.tmp")  # PID de hasta 9 cifras
    borrados = []
    if not path.parent.is_dir():
        return borrados
    for candidato in path.parent.iterdir():
        encaje = patron.fullmatch(candidato.name)
        if encaje and not _proceso_vivo(int(encaje.group(1))):
            try:
                candidato.unlink(missing_ok=True)
            except OSError:  # una carpeta de solo lectura, por ejemplo: se deja donde está
                continue
            borrados.append(candidato)
    return borrados


def _proceso_vivo(pid: int) -> bool:
    """¿Existe el proceso `pid`? Ante la duda, sí (así nunca se borra el temporal de un escritor vivo)."""
    if pid == os.getpid():
        return True
    if os.name == "nt":  # en Windows, os.kill(pid, 0) terminaría el proceso: se pregunta con OpenProcess
        import ctypes

        kernel32 = ctypes.windll.kernel32
        manejador = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not manejador:
            return kernel32.GetLastError() != 87  # ERROR_INVALID_PARAMETER: no hay ningún proceso con ese PID
        codigo = ctypes.c_ulong()
        consultado = kernel32.GetExitCodeProcess(manejador, ctypes.byref(codigo))
        kernel32.CloseHandle(manejador)
        return not consultado or codigo.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)  # la señal 0 no hace nada: solo comprueba que el proceso existe
    except ProcessLookupError:
        return False
    except PermissionError:  # existe, pero es de otro usuario
        return True
    return True


def _fsync_carpeta(carpeta: Path) -> None:
    """Fuerza a disco la entrada de la carpeta (donde el sistema lo permite: en Windows no se puede abrir)."""
    try:
        fd = os.open(carpeta, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
