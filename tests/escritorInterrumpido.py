"""Un proceso que escribe con `atomic_write` y al que se mata con SIGKILL a mitad: lo que ningún `finally` limpia.

Lo usan las pruebas de atomicWrite.py y de saveLoadModel.py para comprobar que el temporal huérfano que deja se
borra la próxima vez que el curso guarda o carga en esa carpeta. Solo en POSIX (usa SIGKILL).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

from tests.cuadernos import RAIZ

# Escribe `contenido` (argv[2]) con atomic_write en argv[1], avisa y se queda esperando a que lo maten
_ESCRITOR = """
import sys, time
from seccion02_TrabajarDatosTexto.atomicWrite import atomic_write
with atomic_write(sys.argv[1]) as f:
    f.write(sys.argv[2].encode())
    f.flush()
    print("escribiendo", flush=True)
    time.sleep(60)
"""


@contextlib.contextmanager
def escritor_a_medias(ruta, contenido: str = "medio archivo"):
    """`with escritor_a_medias(ruta) as escritor:` dentro, el escritor ya ha escrito; al salir, muere con SIGKILL."""
    entorno = {**os.environ, "PYTHONPATH": str(RAIZ)}
    escritor = subprocess.Popen([sys.executable, "-c", _ESCRITOR, str(ruta), contenido], stdout=subprocess.PIPE,
                                env=entorno, cwd=RAIZ)
    try:
        assert escritor.stdout.readline() == b"escribiendo\n"
        yield escritor
    finally:
        escritor.send_signal(signal.SIGKILL)  # sin finally ni limpieza posibles
        escritor.wait()
        escritor.stdout.close()
