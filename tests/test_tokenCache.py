"""Pruebas de seccion05/tokenCache.py: tokenizar una carpeta una vez, la caché y cuándo deja de valer, y las
ventanas de entrenamiento."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer
from seccion05.tokenCache import CACHE_IDS, CACHE_META, TokenWindows, split_point, text_files, tokenize_folder


@pytest.fixture
def carpeta(tmp_path):
    datos = tmp_path / "datos"
    (datos / "sub").mkdir(parents=True)
    (datos / "b.txt").write_text("Every effort moves you", encoding="utf-8")
    (datos / "sub" / "a.md").write_text("I really like <|endoftext|> chocolate", encoding="utf-8")
    (datos / ".oculto.txt").write_text("no cuenta", encoding="utf-8")
    (datos / ".git").mkdir()
    (datos / ".git" / "config").write_text("tampoco", encoding="utf-8")
    return datos


def test_tokeniza_en_orden_con_endoftext_tras_cada_archivo(carpeta, tmp_path):
    corpus = tokenize_folder(carpeta, tmp_path / "cache", progress=False)
    tok = get_tokenizer()
    esperado = tok.encode_ordinary("Every effort moves you") + [50256]
    esperado += tok.encode_ordinary("I really like <|endoftext|> chocolate") + [50256]  # el texto, no el especial
    assert esperado[:5] == [6109, 3626, 6100, 345, 50256]
    assert corpus.ids.tolist() == esperado
    assert corpus.ids.dtype == np.uint16 and isinstance(corpus.ids, np.memmap)
    assert corpus.files == ["b.txt", "sub/a.md"]  # orden alfabético de ruta, sin los ocultos
    assert not corpus.reused and len(corpus) == len(esperado)
    meta = json.loads((tmp_path / "cache" / CACHE_META).read_text(encoding="utf-8"))
    assert meta["n_tokens"] == len(esperado) and [f["path"] for f in meta["files"]] == corpus.files
    assert (tmp_path / "cache" / CACHE_IDS).stat().st_size == 2 * len(esperado)


def test_la_cache_se_reutiliza_y_se_rehace_si_algo_cambia(carpeta, tmp_path):
    cache = tmp_path / "cache"
    primero = tokenize_folder(carpeta, cache, progress=False)
    segundo = tokenize_folder(carpeta, cache, progress=False)
    assert segundo.reused and segundo.sha256 == primero.sha256 and segundo.ids.tolist() == primero.ids.tolist()

    (carpeta / "b.txt").write_text("Every effort moves me", encoding="utf-8")  # mismo tamaño, otro contenido
    cambiado = tokenize_folder(carpeta, cache, progress=False)
    assert not cambiado.reused and cambiado.sha256 != primero.sha256
    assert cambiado.ids[3] == get_tokenizer().encode_ordinary(" me")[0]

    (carpeta / "c.txt").write_text("Nuevo", encoding="utf-8")  # un archivo más
    assert not tokenize_folder(carpeta, cache, progress=False).reused
    (carpeta / "c.txt").rename(carpeta / "d.txt")  # renombrar también cambia el corpus (y su orden)
    renombrado = tokenize_folder(carpeta, cache, progress=False)
    assert not renombrado.reused and renombrado.files[-1] == "sub/a.md"


def test_una_cache_danada_se_rehace(carpeta, tmp_path):
    cache = tmp_path / "cache"
    bueno = tokenize_folder(carpeta, cache, progress=False).ids.tolist()
    (cache / CACHE_IDS).write_bytes((cache / CACHE_IDS).read_bytes()[:-2])  # ids cortados
    assert not (c := tokenize_folder(carpeta, cache, progress=False)).reused and c.ids.tolist() == bueno
    (cache / CACHE_META).write_text("{roto", encoding="utf-8")
    assert not (c := tokenize_folder(carpeta, cache, progress=False)).reused and c.ids.tolist() == bueno


def test_la_cache_dentro_de_la_carpeta_de_datos_no_se_tokeniza(carpeta):
    primero = tokenize_folder(carpeta, carpeta / "cache", progress=False)
    segundo = tokenize_folder(carpeta, carpeta / "cache", progress=False)
    assert segundo.reused and primero.files == ["b.txt", "sub/a.md"]


def test_errores_en_espanol(tmp_path):
    with pytest.raises(FileNotFoundError, match="No existe la carpeta de datos"):
        text_files(tmp_path / "no")
    (tmp_path / "archivo.txt").write_text("hola", encoding="utf-8")
    with pytest.raises(NotADirectoryError, match="no es una carpeta"):
        text_files(tmp_path / "archivo.txt")
    vacia = tmp_path / "vacia"
    vacia.mkdir()
    with pytest.raises(ValueError, match="no tiene ningún archivo de texto"):
        tokenize_folder(vacia, tmp_path / "cache", progress=False)
    mala = tmp_path / "mala"
    mala.mkdir()
    (mala / "a.txt").write_text("bien", encoding="utf-8")
    (mala / "z.txt").write_bytes(b"caf\xe9")
    with pytest.raises(ValueError, match=r"z.txt no es texto UTF-8: el byte 3 \(b'\\xe9'\)"):
        tokenize_folder(mala, tmp_path / "cache", progress=False)
    assert not (tmp_path / "cache" / CACHE_IDS).exists() and not (tmp_path / "cache" / CACHE_META).exists()


def test_split_point():
    assert split_point(1000) == 900
    assert split_point(1000, 0.25) == 750
    assert split_point(5146, 0.1) == int(0.9 * 5146)  # como el 90 % de los cuadernos
    with pytest.raises(ValueError, match="val_fraction"):
        split_point(1000, 0.6)


def test_token_windows():
    ids = np.arange(23, dtype=np.uint16)
    ventanas = TokenWindows(ids, 2, 23, context_length=5)
    assert len(ventanas) == 4  # (21 - 1) // 5
    x, y = ventanas[1]
    assert x.dtype == torch.int64 and x.tolist() == [7, 8, 9, 10, 11] and y.tolist() == [8, 9, 10, 11, 12]
    assert ventanas[3][1].tolist()[-1] == 22  # la última usa hasta el último token
    assert len(TokenWindows(ids, 0, 5, 5)) == 0  # 5 tokens no llenan una ventana de 5 + 1
    with pytest.raises(IndexError, match="La ventana 4 no existe: hay 4"):
        ventanas[4]
    with pytest.raises(ValueError, match="end"):
        TokenWindows(ids, 0, 24, 5)
