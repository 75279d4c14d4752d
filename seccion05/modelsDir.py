"""La carpeta donde el curso guarda lo que genera: pesos, puntos de control y descargas de GPT-2.

Por defecto es `seccion05/modelos/`, que git no versiona (ver `.gitignore`). Si defines la variable de entorno
`LLM_MODELOS_DIR`, el curso usa esa carpeta en su lugar: así `pytest` trabaja en una carpeta temporal y nunca toca
los archivos que hayas guardado tú.

Solo decide la carpeta: no la crea ni borra nada (quien escribe en ella la crea si hace falta).
"""

from __future__ import annotations

import os
from pathlib import Path

MODELS_DIR_ENV = "LLM_MODELOS_DIR"  # variable de entorno que cambia la carpeta
DEFAULT_MODELS_DIR = Path(__file__).resolve().parent / "modelos"


def models_dir() -> Path:
    """Carpeta de los modelos del curso: `$LLM_MODELOS_DIR` si está definida; si no, `seccion05/modelos/`.

    Se lee en cada llamada, así que un cambio de la variable de entorno se nota sin reiniciar nada.
    """
    valor = os.environ.get(MODELS_DIR_ENV, "").strip()
    return Path(valor).expanduser().resolve() if valor else DEFAULT_MODELS_DIR
