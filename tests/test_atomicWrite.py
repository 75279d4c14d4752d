"""Pruebas de seccion02_TrabajarDatosTexto/atomicWrite.py: escritura atómica y limpieza de temporales huérfanos."""

import os
import re
import signal
import subprocess
import sys

import pytest

from seccion02_TrabajarDatosTexto import atomicWrite
from seccion02_TrabajarDatosTexto.atomicWrite import atomic_replace, atomic_write, remove_stale_temporaries
from tests.escritorInterrumpido import escritor_a_medias

solo_posix = pytest.mark.skipif(os.name != "posix", reason="usa fork, SIGKILL y umask de POSIX")


def archivos_en(carpeta):
    return sorted(p.name for p in carpeta.iterdir())


def _pid_muerto() -> int:
    """El PID de un proceso que ya ha terminado (y del que ya se ha recogido el estado)."""
    proceso = subprocess.Popen([sys.executable, "-c", "pass"])
    proceso.wait()
    return proceso.pid


def test_escribe_el_archivo_y_no_deja_temporales(tmp_path):
    ruta = tmp_path / "a" / "b" / "datos.bin"  # las carpetas aún no existen
    with atomic_write(ruta) as f:
        f.write(b"hola")
        assert not ruta.exists()  # mientras se escribe, el destino no aparece
        vistos = archivos_en(ruta.parent)
    assert ruta.read_bytes() == b"hola"
    assert archivos_en(ruta.parent) == ["datos.bin"]
    # El temporal era oculto, de la misma carpeta, y su nombre lleva el del destino y el PID
    assert len(vistos) == 1 and re.fullmatch(rf"\.datos\.bin\.{os.getpid()}\.[0-9a-f]+\.tmp", vistos[0]), vistos


def test_sustituye_un_archivo_que_ya_existia(tmp_path):
    ruta = tmp_path / "datos.bin"
    ruta.write_bytes(b"viejo")
    with atomic_write(ruta) as f:
        f.write(b"nuevo")
    assert ruta.read_bytes() == b"nuevo"


@pytest.mark.parametrize("error", [ValueError("fallo a medias"), KeyboardInterrupt()], ids=["ValueError", "Ctrl+C"])
def test_un_fallo_deja_el_archivo_como_estaba(tmp_path, error):
    ruta = tmp_path / "datos.bin"
    ruta.write_bytes(b"bueno")
    with pytest.raises(type(error)):
        with atomic_write(ruta) as f:
            f.write(b"medio archivo")
            raise error
    assert ruta.read_bytes() == b"bueno"
    assert archivos_en(tmp_path) == ["datos.bin"]  # el temporal se ha borrado


def test_un_fallo_sin_archivo_previo_no_crea_nada(tmp_path):
    with pytest.raises(ValueError):
        with atomic_write(tmp_path / "datos.bin") as f:
            f.write(b"x")
            raise ValueError
    assert archivos_en(tmp_path) == []


def test_hace_fsync_del_archivo_y_de_la_carpeta(tmp_path, monkeypatch):
    llamadas = []
    fsync_real = os.fsync
    monkeypatch.setattr(atomicWrite.os, "fsync", lambda fd: llamadas.append(fd) or fsync_real(fd))
    with atomic_write(tmp_path / "datos.bin") as f:
        f.write(b"x")
    esperadas = 2 if os.name == "posix" else 1  # en Windows no se puede abrir una carpeta para fsync
    assert len(llamadas) == esperadas


@solo_posix
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_permisos_segun_la_umask(tmp_path, umask):
    anterior = os.umask(umask)
    try:
        ruta = tmp_path / f"datos_{umask:o}.bin"
        with atomic_write(ruta) as f:
            f.write(b"x")
    finally:
        os.umask(anterior)
    assert ruta.stat().st_mode & 0o777 == 0o666 & ~umask  # no el 0600 de tempfile.mkstemp


def test_atomic_replace_renombra(tmp_path):
    origen, destino = tmp_path / "a.part", tmp_path / "a"
    origen.write_bytes(b"completo")
    destino.write_bytes(b"viejo")
    assert atomic_replace(origen, destino) == destino
    assert destino.read_bytes() == b"completo" and not origen.exists()


def test_borra_temporales_de_procesos_muertos_y_no_los_de_procesos_vivos(tmp_path):
    ruta = tmp_path / "datos.bin"
    muerto = tmp_path / f".datos.bin.{_pid_muerto()}.0123abcd.tmp"
    vivo = tmp_path / f".datos.bin.{os.getpid()}.0123abcd.tmp"  # este mismo proceso: vivo
    de_otro_destino = tmp_path / f".otros.bin.{_pid_muerto()}.0123abcd.tmp"
    parecido = tmp_path / ".datos.bin.abc.tmp"  # de tempfile.mkstemp: sin PID, no se sabe de quién es
    for p in (muerto, vivo, de_otro_destino, parecido):
        p.write_bytes(b"huerfano")
    assert remove_stale_temporaries(ruta) == [muerto]
    assert archivos_en(tmp_path) == sorted(p.name for p in (vivo, de_otro_destino, parecido))
    assert remove_stale_temporaries(tmp_path / "no_existe" / "datos.bin") == []  # carpeta que no existe: nada


@solo_posix
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root puede borrar en una carpeta de solo lectura")
def test_en_una_carpeta_de_solo_lectura_no_falla(tmp_path):
    huerfano = tmp_path / f".datos.bin.{_pid_muerto()}.0123abcd.tmp"
    huerfano.write_bytes(b"huerfano")
    tmp_path.chmod(0o555)
    try:
        assert remove_stale_temporaries(tmp_path / "datos.bin") == []
    finally:
        tmp_path.chmod(0o755)
    assert huerfano.exists()


def test_un_pid_enorme_no_se_toma_por_un_proceso(tmp_path):
    raro = tmp_path / ".datos.bin.99999999999999999999.0123abcd.tmp"  # no cabe en un PID: no es de atomic_write
    raro.write_bytes(b"x")
    assert remove_stale_temporaries(tmp_path / "datos.bin") == []
    assert raro.exists()


def test_atomic_write_limpia_antes_de_escribir(tmp_path):
    ruta = tmp_path / "datos.bin"
    huerfano = tmp_path / f".datos.bin.{_pid_muerto()}.0123abcd.tmp"
    huerfano.write_bytes(b"huerfano")
    with atomic_write(ruta) as f:
        f.write(b"x")
    assert archivos_en(tmp_path) == ["datos.bin"]


@solo_posix
def test_un_escritor_matado_con_sigkill_deja_un_huerfano_que_se_limpia(tmp_path):
    ruta = tmp_path / "datos.bin"
    ruta.write_bytes(b"bueno")
    with escritor_a_medias(ruta) as escritor:
        temporales = [n for n in archivos_en(tmp_path) if n != "datos.bin"]
        assert len(temporales) == 1 and f".{escritor.pid}." in temporales[0]
        assert remove_stale_temporaries(ruta) == []  # su escritor sigue vivo: no se toca
        assert len(archivos_en(tmp_path)) == 2
    assert escritor.returncode == -signal.SIGKILL
    assert ruta.read_bytes() == b"bueno"  # el archivo bueno sigue intacto
    assert len(archivos_en(tmp_path)) == 2  # y el temporal se ha quedado huérfano...

    with atomic_write(ruta) as f:  # ...hasta que el curso vuelve a guardar ahí
        f.write(b"nuevo")
    assert archivos_en(tmp_path) == ["datos.bin"]
    assert ruta.read_bytes() == b"nuevo"
