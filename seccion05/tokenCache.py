"""Tokenizar una carpeta de textos una sola vez y leerla después como ventanas de entrenamiento.

- `tokenize_folder(carpeta, cache_dir)`: tokeniza con el tokenizador BPE del curso todos los archivos de texto UTF-8
  de la carpeta (con sus subcarpetas, en orden alfabético de ruta, con `<|endoftext|>` tras cada uno) y guarda los
  ids como un arreglo de `uint16` en disco, con la suma SHA-256 de cada archivo. La próxima vez, si ningún archivo
  ha cambiado, lee el arreglo (con memoria mapeada: no lo carga entero en RAM); si alguno cambia, vuelve a tokenizar.
- `TokenWindows`: las ventanas de `context_length + 1` tokens seguidos, sin solaparse, de un tramo de los ids: la
  entrada y el objetivo desplazado un token, como `create_dataloader_v1` con `stride = max_length`.
- `split_point`: dónde acaba el entrenamiento y empieza la validación (el último 10 % de los tokens, por defecto),
  igual en cada ejecución.

Lo usa el programa de entrenamiento `seccion05/trainGPT.py`. No es un cargador de datos general: ni baraja (eso lo
hace el muestreador del programa) ni tokeniza en paralelo.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from seccion02_TrabajarDatosTexto.atomicWrite import atomic_write
from seccion02_TrabajarDatosTexto.checkArgs import check_int, check_number
from seccion02_TrabajarDatosTexto.downloadFile import sha256_file
from seccion02_TrabajarDatosTexto.tokenizerGPT2 import ENDOFTEXT_ID, get_tokenizer

CACHE_VERSION = 1  # cambia si cambia el formato del archivo de ids
CACHE_IDS = "tokens_gpt2.bin"  # los ids, uint16 en orden de bytes little-endian
CACHE_META = "tokens_gpt2.json"  # de qué archivos salen y sus sumas SHA-256


class TokenizedCorpus:
    """Los ids de una carpeta tokenizada: `ids` (np.memmap de uint16, de solo lectura), `files` (rutas relativas),
    `sha256` (la suma de todo el corpus: cambia si cambia cualquier archivo) y `reused` (True si venía de la caché)."""

    def __init__(self, ids, files: list[str], sha256: str, reused: bool):
        self.ids, self.files, self.sha256, self.reused = ids, files, sha256, reused

    def __len__(self) -> int:
        return len(self.ids)


def text_files(folder: str | os.PathLike, exclude: str | os.PathLike | None = None) -> list[Path]:
    """Los archivos de `folder` y sus subcarpetas, en orden alfabético de ruta, sin los ocultos (los que empiezan
    por «.», o están en una carpeta así) ni los de `exclude` (la carpeta de la caché, si está dentro)."""
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"No existe la carpeta de datos {folder}. Comprueba la ruta.")
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} no es una carpeta: pasa la carpeta que contiene tus archivos de texto.")
    excluir = Path(exclude).resolve() if exclude is not None else None
    archivos = []
    for ruta in sorted(folder.rglob("*")):
        relativa = ruta.relative_to(folder)
        if any(parte.startswith(".") for parte in relativa.parts) or not ruta.is_file():
            continue
        if excluir is not None and ruta.resolve().is_relative_to(excluir):
            continue
        archivos.append(ruta)
    if not archivos:
        raise ValueError(
            f"La carpeta {folder} no tiene ningún archivo de texto (los ocultos, que empiezan por «.», no cuentan). "
            "Copia en ella tus textos en UTF-8, por ejemplo archivos .txt."
        )
    return archivos


def _leer_utf8(ruta: Path) -> str:
    """El texto de `ruta`, con un error en español que dice dónde está el primer byte que no es UTF-8."""
    datos = ruta.read_bytes()
    try:
        return datos.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{ruta} no es texto UTF-8: el byte {exc.start} ({datos[exc.start:exc.start + 1]!r}) no es válido. "
            "Guárdalo en UTF-8 (cualquier editor de texto lo permite) o sácalo de la carpeta."
        ) from None


def _huella(folder: Path, archivos: list[Path]) -> tuple[list[dict], str]:
    """Ruta relativa, tamaño y SHA-256 de cada archivo, y una suma de todo (rutas incluidas: renombrar también cuenta)."""
    lista = [
        {"path": ruta.relative_to(folder).as_posix(), "bytes": ruta.stat().st_size, "sha256": sha256_file(ruta)}
        for ruta in archivos
    ]
    total = hashlib.sha256(json.dumps(lista, sort_keys=True).encode("utf-8")).hexdigest()
    return lista, total


def tokenize_folder(folder: str | os.PathLike, cache_dir: str | os.PathLike, progress: bool = True,
                    tokenizer=None) -> TokenizedCorpus:
    """Tokeniza (o lee de la caché de `cache_dir`) todos los archivos de texto de `folder`; ver el docstring del módulo.

    Cada archivo se tokeniza entero con `encode_ordinary` (un «<|endoftext|>» escrito en el texto es texto, no el
    token especial) y se le añade el id 50256 (`<|endoftext|>`) al final, para que el modelo vea dónde acaba un
    documento. Los errores (carpeta vacía, un archivo que no es UTF-8, ningún token) salen antes de escribir nada.
    """
    folder, cache_dir = Path(folder), Path(cache_dir)
    archivos = text_files(folder, exclude=cache_dir)
    lista, suma = _huella(folder, archivos)
    meta_path, ids_path = cache_dir / CACHE_META, cache_dir / CACHE_IDS
    guardada = _leer_meta(meta_path)
    if guardada is not None and guardada.get("sha256") == suma and ids_path.is_file() \
            and ids_path.stat().st_size == 2 * guardada.get("n_tokens", -1):
        ids = np.memmap(ids_path, dtype="<u2", mode="r")
        return TokenizedCorpus(ids, [f["path"] for f in lista], suma, reused=True)

    from tqdm.auto import tqdm

    tokenizer = tokenizer if tokenizer is not None else get_tokenizer()
    n_tokens = 0
    with atomic_write(ids_path) as f:  # archivo a archivo; si uno falla, el temporal se borra y no queda nada
        for ruta in tqdm(archivos, desc="Tokenizando", unit="archivo", disable=not progress):
            ids = tokenizer.encode_ordinary(_leer_utf8(ruta)) + [ENDOFTEXT_ID]
            if max(ids) >= 2**16:
                raise ValueError(f"{ruta}: el tokenizador dio un id ({max(ids)}) que no cabe en uint16.")
            f.write(np.asarray(ids, dtype="<u2").tobytes())
            n_tokens += len(ids)
    meta = {"version": CACHE_VERSION, "tokenizer": "gpt2", "dtype": "uint16", "n_tokens": n_tokens,
            "sha256": suma, "files": lista}
    with atomic_write(meta_path) as f:  # después de los ids: si falta o no coincide, la caché no vale
        f.write(json.dumps(meta, ensure_ascii=False, indent=1).encode("utf-8"))
    ids = np.memmap(ids_path, dtype="<u2", mode="r")
    return TokenizedCorpus(ids, [f["path"] for f in lista], suma, reused=False)


def _leer_meta(meta_path: Path) -> dict | None:
    """La descripción guardada de la caché, o None si no hay, está dañada o es de otra versión del formato."""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(meta, dict) and meta.get("version") == CACHE_VERSION and meta.get("tokenizer") == "gpt2"
    return meta if ok else None


def split_point(n_tokens: int, val_fraction: float = 0.1) -> int:
    """El índice donde empieza la validación: los primeros `(1 - val_fraction)` de los tokens son de entrenamiento."""
    n_tokens = check_int("n_tokens", n_tokens, minimum=0)
    val_fraction = check_number("val_fraction (la fracción de validación)", val_fraction, minimum=0.0, maximum=0.5)
    return int(n_tokens * (1 - val_fraction))


class TokenWindows(Dataset):
    """Las ventanas de `ids[start:end]`: la i-ésima da (entrada, objetivo), dos tensores int64 de `context_length`
    tokens; el objetivo es la entrada desplazada un token. Las ventanas no se solapan (las entradas empiezan cada
    `context_length` tokens) y el resto final que no llena una ventana se descarta."""

    def __init__(self, ids, start: int, end: int, context_length: int):
        self.ids = ids
        self.start = check_int("start", start, minimum=0)
        self.end = check_int("end", end, minimum=self.start, maximum=len(ids))
        self.context_length = check_int("context_length", context_length, minimum=1)

    def __len__(self) -> int:
        return max(0, (self.end - self.start - 1) // self.context_length)

    def __getitem__(self, i: int):
        if not 0 <= i < len(self):
            raise IndexError(f"La ventana {i} no existe: hay {len(self)} (de 0 a {len(self) - 1}).")
        inicio = self.start + i * self.context_length
        trozo = torch.from_numpy(np.asarray(self.ids[inicio:inicio + self.context_length + 1], dtype=np.int64))
        return trozo[:-1], trozo[1:]
