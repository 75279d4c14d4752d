"""Pruebas de la descarga de «The Verdict» (seccion02_TrabajarDatosTexto/theVerdict.py), todas sin red.

Las descargas usan URL file://, un servidor HTTP local (127.0.0.1) o un `urllib.request.urlopen` sustituido; la
copia local del repositorio (txt/The_Verdict.txt) hace de «servidor». La descarga en sí se prueba a fondo en
tests/test_downloadFile.py; aquí, lo propio de «The Verdict».
"""

import hashlib
import http.client
import re
import urllib.error
import urllib.request

import pytest

from seccion02_TrabajarDatosTexto import theVerdict
from seccion02_TrabajarDatosTexto.downloadFile import DownloadError
from seccion02_TrabajarDatosTexto.theVerdict import (
    THE_VERDICT_PATH,
    THE_VERDICT_SHA256,
    THE_VERDICT_SIZE,
    DescargaError,
    download_file,
    load_the_verdict,
    sha256_file,
)
from tests.cuadernos import RAIZ
from tests.servidorHTTP import RespuestaQueSeCorta, ServidorLocal


@pytest.fixture(scope="module")
def contenido():
    """Los bytes originales de «The Verdict»."""
    if not THE_VERDICT_PATH.exists():
        pytest.skip(f"Falta {THE_VERDICT_PATH} (copia the-verdict.txt ahí para ejecutar estas pruebas sin red).")
    datos = THE_VERDICT_PATH.read_bytes()
    assert hashlib.sha256(datos).hexdigest() == THE_VERDICT_SHA256
    return datos


@pytest.fixture
def servidor(tmp_path, contenido):
    """URL file:// de una copia de «The Verdict» fuera de la carpeta de destino."""
    origen = tmp_path / "servidor" / "the-verdict.txt"
    origen.parent.mkdir()
    origen.write_bytes(contenido)
    return origen.as_uri()


@pytest.fixture
def sin_red(monkeypatch):
    """Hace fallar cualquier descarga y cuenta los intentos."""
    intentos = []

    def urlopen(url, *args, **kwargs):
        intentos.append(getattr(url, "full_url", url))  # una URL o un urllib.request.Request
        raise urllib.error.URLError("sin conexión (prueba)")

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return intentos


def _respuesta_que_se_corta(error, al_leer=None):
    """Anuncia el tamaño de «The Verdict», entrega su primera frase y después lanza `error`."""
    primera = b"I HAD always thought Jack Gisburn rather a cheap genius"
    return RespuestaQueSeCorta(error, anunciado=THE_VERDICT_SIZE, primer_bloque=primera, al_leer=al_leer)


def archivos_en(carpeta):
    return sorted(p.name for p in carpeta.iterdir())


def test_ruta_por_defecto():
    assert THE_VERDICT_PATH == RAIZ / "txt" / "The_Verdict.txt"


def test_load_the_verdict_por_defecto_lee_la_copia_local(contenido, sin_red):
    text = load_the_verdict()
    assert len(text) == 20479
    assert text.startswith("I HAD always thought Jack Gisburn rather a cheap genius")
    assert sin_red == []


def test_descarga_guarda_y_despues_usa_la_copia(tmp_path, servidor, contenido, monkeypatch):
    destino = tmp_path / "txt" / "The_Verdict.txt"  # la carpeta txt/ aún no existe
    text = load_the_verdict(path=destino, url=servidor)
    assert destino.read_bytes() == contenido
    assert text == contenido.decode("utf-8")
    assert archivos_en(destino.parent) == ["The_Verdict.txt"]  # sin temporales

    intentos = []
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: intentos.append(a) or pytest.fail("descarga"))
    assert load_the_verdict(path=destino, url=servidor) == text
    assert intentos == []


def test_download_file_devuelve_la_ruta(tmp_path, servidor):
    destino = tmp_path / "copia.txt"
    assert download_file(servidor, destino, sha256=THE_VERDICT_SHA256) == destino
    assert sha256_file(destino) == THE_VERDICT_SHA256


def test_suma_incorrecta_no_deja_nada(tmp_path, servidor):
    carpeta = tmp_path / "txt"
    carpeta.mkdir()
    with pytest.raises(DescargaError, match=r"no es el esperado: su sha256 es [0-9a-f]{64} y debería ser 0{64}"):
        download_file(servidor, carpeta / "The_Verdict.txt", sha256="0" * 64)
    assert archivos_en(carpeta) == []


def test_suma_incorrecta_no_toca_un_archivo_que_ya_existia(tmp_path, servidor):
    destino = tmp_path / "The_Verdict.txt"
    destino.write_text("versión anterior", encoding="utf-8")
    with pytest.raises(DescargaError):
        download_file(servidor, destino, sha256="0" * 64)
    assert destino.read_text(encoding="utf-8") == "versión anterior"
    assert archivos_en(tmp_path) == ["The_Verdict.txt", "servidor"]


def test_tamano_conocido(contenido):
    assert len(contenido) == THE_VERDICT_SIZE


def test_descarga_http_cortada_se_reanuda_la_siguiente_vez(tmp_path, contenido):
    destino = tmp_path / "txt" / "The_Verdict.txt"
    with ServidorLocal(contenido, "the-verdict.txt") as servidor:
        servidor.cortar_tras = 5000
        with pytest.raises(FileNotFoundError, match="la conexión se cortó tras recibir 5000 de 20479 bytes") as info:
            load_the_verdict(path=destino, url=servidor.url)
        assert isinstance(info.value.__cause__, DownloadError)
        assert archivos_en(destino.parent) == ["The_Verdict.txt.part"]  # nunca un The_Verdict.txt a medias

        servidor.cortar_tras = None
        assert load_the_verdict(path=destino, url=servidor.url) == contenido.decode("utf-8")
        assert servidor.peticiones == [None, "bytes=5000-"]  # la segunda vez solo pide lo que falta
    assert archivos_en(destino.parent) == ["The_Verdict.txt"]


@pytest.mark.parametrize(
    "error",
    [ConnectionResetError("conexión cortada"), TimeoutError("tiempo agotado"), http.client.IncompleteRead(b"I HAD")],
    ids=["ConnectionResetError", "TimeoutError", "IncompleteRead"],
)
def test_descarga_cortada_a_medias_se_cuenta_como_corte(tmp_path, monkeypatch, error):
    carpeta = tmp_path / "txt"
    carpeta.mkdir()
    destino = carpeta / "The_Verdict.txt"
    vistos = []

    def mirar_carpeta():
        vistos.append(archivos_en(carpeta))

    respuesta = _respuesta_que_se_corta(error, al_leer=mirar_carpeta)
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: respuesta)
    with pytest.raises(DescargaError, match=r"No se pudo descargar https://ejemplo.invalid/the-verdict.txt: la "
                                            r"conexión se cortó tras recibir 55 de 20479 bytes"):
        download_file("https://ejemplo.invalid/the-verdict.txt", destino, size=THE_VERDICT_SIZE,
                      sha256=THE_VERDICT_SHA256)
    assert respuesta.lecturas == 2
    # Mientras se descargaba, solo existía el .part; nunca el destino. Con tamaño y sha256 conocidos, se conserva
    assert vistos == [["The_Verdict.txt.part"]] * 2
    assert archivos_en(carpeta) == ["The_Verdict.txt.part"]


def test_una_interrupcion_cualquiera_tampoco_deja_nada(tmp_path, monkeypatch):
    respuesta = _respuesta_que_se_corta(KeyboardInterrupt())
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: respuesta)
    with pytest.raises(KeyboardInterrupt):
        download_file("https://ejemplo.invalid/the-verdict.txt", tmp_path / "The_Verdict.txt")
    assert archivos_en(tmp_path) == []


def test_url_inexistente(tmp_path):
    with pytest.raises(DescargaError, match="No se pudo descargar file://"):
        download_file((tmp_path / "no-existe.txt").as_uri(), tmp_path / "copia.txt")
    assert archivos_en(tmp_path) == []


def test_sin_conexion_y_sin_archivo_dice_donde_ponerlo(tmp_path, sin_red):
    destino = tmp_path / "txt" / "The_Verdict.txt"
    with pytest.raises(FileNotFoundError) as info:
        load_the_verdict(path=destino)
    mensaje = str(info.value)
    assert f"No encuentro «The Verdict» en {destino} y no he podido descargarlo" in mensaje
    assert "copia el archivo the-verdict.txt en esa ruta exacta (con el nombre The_Verdict.txt)" in mensaje
    assert isinstance(info.value.__cause__, DescargaError)
    assert "No se pudo descargar https://raw.githubusercontent.com/" in mensaje  # qué URL ha fallado
    assert sin_red == [theVerdict.THE_VERDICT_URL]
    assert not destino.exists()
    assert archivos_en(destino.parent) == []


def test_copia_local_alterada_da_error_en_espanol(tmp_path, contenido, sin_red):
    destino = tmp_path / "The_Verdict.txt"
    destino.write_bytes(contenido.replace(b"Gisburn", b"Gisborn"))
    with pytest.raises(ValueError, match=rf"El archivo {re.escape(str(destino))} no es el texto original de «The Verdict»"):
        load_the_verdict(path=destino)
    assert sin_red == []  # no intenta descargar por su cuenta: el alumno decide


def test_copia_con_saltos_de_linea_de_windows_da_error(tmp_path, contenido):
    destino = tmp_path / "The_Verdict.txt"
    destino.write_bytes(contenido.replace(b"\n", b"\r\n"))
    with pytest.raises(ValueError, match=r"saltos de línea.*Bórralo y vuelve a ejecutar la celda"):
        load_the_verdict(path=destino)


def test_nombres_de_siempre():
    """DescargaError, download_file y sha256_file siguen importándose de aquí: son los de downloadFile.py."""
    from seccion02_TrabajarDatosTexto import downloadFile

    assert DescargaError is DownloadError
    assert download_file is downloadFile.download_file and sha256_file is downloadFile.sha256_file
