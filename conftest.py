"""Configuración de pytest para todo el curso.

- La raíz del repositorio está en sys.path (pytest la añade al cargar este archivo), así que las
  pruebas importan los módulos igual que los cuadernos: `from seccion05.calcLoss import ...`.
- Las salidas de los cuadernos se comparan con tolerancia numérica (tests/toleranciaNumerica.py).
- Lo que generan los cuadernos y las pruebas (pesos, puntos de control) va a una carpeta temporal, nunca a
  `seccion05/modelos/`: `LLM_MODELOS_DIR` apunta a ella durante toda la sesión (los núcleos de Jupyter que arranca
  nbval la heredan) y se borra al terminar. Así `pytest` no toca lo que hayas guardado tú.
"""

import os
import shutil
import tempfile

pytest_plugins = ["tests.pluginNbval"]

# Antes de que arranque ningún cuaderno: una carpeta de modelos solo para esta sesión de pruebas, y sin modo clase
# (las salidas guardadas en los cuadernos son las del modelo de 124M).
_CARPETA_MODELOS = tempfile.mkdtemp(prefix="llm-desde-cero-modelos-")
os.environ["LLM_MODELOS_DIR"] = _CARPETA_MODELOS
os.environ.pop("LLM_MODO_CLASE", None)


def pytest_unconfigure(config):
    shutil.rmtree(_CARPETA_MODELOS, ignore_errors=True)
