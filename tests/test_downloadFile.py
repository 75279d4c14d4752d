"""Pruebas de seccion02_TrabajarDatosTexto/downloadFile.py, sin red: un servidor HTTP local (127.0.0.1) que sabe
reanudar o no, que puede no decir el tamaño y que puede cortar la conexión a mitad del archivo."""

import hashlib
import http.client
import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from seccion02_TrabajarDatosTexto.downloadFile import DownloadError, download_file, sha256_file
from tests.servidorHTTP import RespuestaQueSeCorta, ServidorLocal

CONTENIDO = bytes(range(256)) * 400  # 102 400 bytes
SHA = hashlib.sha256(CONTENIDO).hexdigest()
MITAD = len(CONTENIDO) // 2


@pytest.fixture
def servidor():
    with ServidorLocal(CONTENIDO, "datos.bin") as s:
        yield s


def archivos_en(carpeta):
    return sorted(p.name for p in carpeta.iterdir())


def test_sha256_file(tmp_path):
    (tmp_path / "a").write_bytes(CONTENIDO)
    assert sha256_file(tmp_path / "a") == SHA


def test_descarga_completa_y_comprobada(servidor, tmp_path):
    destino = tmp_path / "sub" / "datos.bin"  # la carpeta aún no existe
    assert download_file(servidor.url, destino, size=len(CONTENIDO), sha256=SHA) == destino
    assert destino.read_bytes() == CONTENIDO
    assert archivos_en(destino.parent) == ["datos.bin"]  # sin .part


def test_sin_nada_conocido_comprueba_el_content_length(servidor, tmp_path):
    download_file(servidor.url, tmp_path / "datos.bin")
    assert (tmp_path / "datos.bin").read_bytes() == CONTENIDO


def test_corte_con_tamano_y_sha256_conocidos_se_reanuda(servidor, tmp_path):
    destino = tmp_path / "datos.bin"
    servidor.cortar_tras = MITAD
    with pytest.raises(DownloadError) as info:
        download_file(servidor.url, destino, size=len(CONTENIDO), sha256=SHA)
    mensaje = str(info.value)
    assert f"la conexión se cortó tras recibir {MITAD} de {len(CONTENIDO)} bytes" in mensaje
    assert "no es el esperado" not in mensaje  # un corte no es una suma distinta
    assert "vuelve a ejecutar la descarga y seguirá desde ahí" in mensaje
    assert not destino.exists()  # el archivo definitivo no aparece a medias
    parte = tmp_path / "datos.bin.part"
    assert parte.read_bytes() == CONTENIDO[:MITAD]

    servidor.cortar_tras = None
    download_file(servidor.url, destino, size=len(CONTENIDO), sha256=SHA)
    assert servidor.peticiones == [None, f"bytes={MITAD}-"]  # la segunda vez solo pide lo que falta
    assert destino.read_bytes() == CONTENIDO
    assert archivos_en(tmp_path) == ["datos.bin"]


@pytest.mark.parametrize("conocido", [{}, {"size": len(CONTENIDO)}, {"sha256": SHA}], ids=["nada", "size", "sha256"])
def test_sin_tamano_y_sha256_no_se_reanuda(servidor, tmp_path, conocido):
    destino = tmp_path / "datos.bin"
    servidor.cortar_tras = MITAD
    with pytest.raises(DownloadError, match=f"la conexión se cortó tras recibir {MITAD} de {len(CONTENIDO)} bytes"):
        download_file(servidor.url, destino, **conocido)
    assert archivos_en(tmp_path) == []  # lo descargado no serviría para reanudar: no se guarda

    (tmp_path / "datos.bin.part").write_bytes(CONTENIDO[:MITAD])  # un .part que dejó otra descarga
    servidor.cortar_tras = None
    download_file(servidor.url, destino, **conocido)
    assert servidor.peticiones == [None, None]  # sin Range: empieza de cero
    assert destino.read_bytes() == CONTENIDO
    assert archivos_en(tmp_path) == ["datos.bin"]


def test_part_completo_no_vuelve_a_pedir_nada(servidor, tmp_path):
    (tmp_path / "datos.bin.part").write_bytes(CONTENIDO)
    download_file(servidor.url, tmp_path / "datos.bin", size=len(CONTENIDO), sha256=SHA)
    assert servidor.peticiones == []
    assert (tmp_path / "datos.bin").read_bytes() == CONTENIDO


def test_part_completo_pero_con_otro_contenido_se_borra(servidor, tmp_path):
    (tmp_path / "datos.bin.part").write_bytes(b"\0" * len(CONTENIDO))
    with pytest.raises(DownloadError, match="su sha256 es [0-9a-f]{64} y debería ser"):
        download_file(servidor.url, tmp_path / "datos.bin", size=len(CONTENIDO), sha256=SHA)
    assert archivos_en(tmp_path) == []


def test_part_mas_largo_que_el_archivo_se_descarta(servidor, tmp_path):
    (tmp_path / "datos.bin.part").write_bytes(CONTENIDO + b"sobra")
    download_file(servidor.url, tmp_path / "datos.bin", size=len(CONTENIDO), sha256=SHA)
    assert servidor.peticiones == [None]
    assert (tmp_path / "datos.bin").read_bytes() == CONTENIDO


def test_servidor_sin_range_empieza_de_cero(servidor, tmp_path):
    (tmp_path / "datos.bin.part").write_bytes(CONTENIDO[:1000])
    servidor.admite_range = False  # responde 200 con el archivo entero
    download_file(servidor.url, tmp_path / "datos.bin", size=len(CONTENIDO), sha256=SHA)
    assert servidor.peticiones == ["bytes=1000-"]
    assert (tmp_path / "datos.bin").read_bytes() == CONTENIDO


def test_servidor_que_dice_que_ya_no_queda_nada(servidor, tmp_path):
    servidor.contenido = CONTENIDO[:500]  # el archivo del servidor es más corto que el .part: responde 416
    (tmp_path / "datos.bin.part").write_bytes(CONTENIDO[:1000])
    with pytest.raises(DownloadError, match="416"):
        download_file(servidor.url, tmp_path / "datos.bin", size=len(CONTENIDO), sha256=SHA)
    assert archivos_en(tmp_path) == []


def test_sha256_distinto_borra_el_part_y_lo_dice(servidor, tmp_path):
    destino = tmp_path / "datos.bin"
    destino.write_bytes(b"version anterior")
    with pytest.raises(DownloadError, match=r"su sha256 es [0-9a-f]{64} y debería ser 0{64}\. Se ha borrado"):
        download_file(servidor.url, destino, sha256="0" * 64)
    assert destino.read_bytes() == b"version anterior"  # lo que había no se toca
    assert archivos_en(tmp_path) == ["datos.bin"]


def test_tamano_conocido_distinto_del_anunciado(servidor, tmp_path):
    with pytest.raises(DownloadError, match=rf"anuncia {len(CONTENIDO)} bytes y deberían ser {len(CONTENIDO) + 5}"):
        download_file(servidor.url, tmp_path / "datos.bin", size=len(CONTENIDO) + 5)
    assert archivos_en(tmp_path) == []


def test_sin_content_length_comprueba_el_tamano_conocido(servidor, tmp_path):
    servidor.con_content_length = False
    download_file(servidor.url, tmp_path / "a.bin", size=len(CONTENIDO))  # el tamaño cuadra
    servidor.cortar_tras = MITAD  # sin Content-Length, el corte parece un final normal...
    with pytest.raises(DownloadError, match=f"la conexión se cortó tras recibir {MITAD} de {len(CONTENIDO)} bytes"):
        download_file(servidor.url, tmp_path / "b.bin", size=len(CONTENIDO))  # ...pero el tamaño lo delata
    assert archivos_en(tmp_path) == ["a.bin"]
    servidor.contenido = CONTENIDO + b"sobra"
    servidor.cortar_tras = None
    with pytest.raises(DownloadError, match=rf"tiene {len(CONTENIDO) + 5} bytes y deberían ser {len(CONTENIDO)}"):
        download_file(servidor.url, tmp_path / "c.bin", size=len(CONTENIDO))
    assert archivos_en(tmp_path) == ["a.bin"]


def test_verify_que_falla_borra_el_part(servidor, tmp_path):
    def verify(parte):
        assert parte.name == "datos.bin.part"
        raise ValueError("cabecera rara")

    with pytest.raises(DownloadError, match="no es válido y se ha borrado: cabecera rara"):
        download_file(servidor.url, tmp_path / "datos.bin", verify=verify)
    assert archivos_en(tmp_path) == []


def test_sin_conexion_da_un_error_claro(tmp_path):
    url = "http://127.0.0.1:9/datos.bin"  # puerto 9 (discard): nadie escucha
    with pytest.raises(DownloadError, match=f"No se pudo descargar {url}.*Comprueba tu conexión a internet"):
        download_file(url, tmp_path / "datos.bin", timeout=5)
    assert archivos_en(tmp_path) == []


def test_error_del_servidor(tmp_path, monkeypatch):
    def urlopen(peticion, timeout):
        raise urllib.error.HTTPError(peticion.full_url, 404, "Not Found", {}, None)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    with pytest.raises(DownloadError, match="El servidor ha respondido 404 .Not Found. al pedir https://x.invalid/a"):
        download_file("https://x.invalid/a", tmp_path / "a")
    assert archivos_en(tmp_path) == []


@pytest.mark.parametrize(
    "error",
    [ConnectionResetError("reset"), TimeoutError("tiempo agotado"), http.client.IncompleteRead(b"x", 900)],
    ids=["ConnectionResetError", "TimeoutError", "IncompleteRead"],
)
@pytest.mark.parametrize("reanudable", [True, False])
def test_cualquier_corte_se_cuenta_como_corte(tmp_path, monkeypatch, error, reanudable):
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: RespuestaQueSeCorta(error))
    conocido = {"size": 1000, "sha256": "0" * 64} if reanudable else {}
    with pytest.raises(DownloadError, match="la conexión se cortó tras recibir 100 de 1000 bytes") as info:
        download_file("https://x.invalid/a.bin", tmp_path / "a.bin", **conocido)
    assert isinstance(info.value.__cause__, type(error))
    if reanudable:
        assert "seguirá desde ahí" in str(info.value)
        assert archivos_en(tmp_path) == ["a.bin.part"]
    else:
        assert "empezará de nuevo" in str(info.value)
        assert archivos_en(tmp_path) == []


def test_una_interrupcion_no_reanudable_no_deja_nada(tmp_path, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: RespuestaQueSeCorta(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        download_file("https://x.invalid/a.bin", tmp_path / "a.bin")
    assert archivos_en(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="umask de POSIX")
def test_permisos_segun_la_umask(servidor, tmp_path):
    anterior = os.umask(0o027)
    try:
        download_file(servidor.url, tmp_path / "datos.bin", size=len(CONTENIDO), sha256=SHA)
    finally:
        os.umask(anterior)
    assert (tmp_path / "datos.bin").stat().st_mode & 0o777 == 0o640


def test_barra_de_progreso(servidor, tmp_path, capsys):
    download_file(servidor.url, tmp_path / "datos.bin", progress=True)
    salida = capsys.readouterr().err
    assert "datos.bin" in salida and "100%" in salida


def test_limpia_los_temporales_huerfanos_del_destino(servidor, tmp_path):
    muerto = subprocess.Popen([sys.executable, "-c", "pass"])
    muerto.wait()
    huerfano = tmp_path / f".datos.bin.{muerto.pid}.0123abcd.tmp"
    huerfano.write_bytes(b"x")
    download_file(servidor.url, tmp_path / "datos.bin")
    assert archivos_en(tmp_path) == ["datos.bin"]
