"""Los cuadernos 3, 4, 5 y 8 de la sección 5 se pueden abrir los primeros, en un clon donde nunca se ejecutó el cuaderno 2.

Cada cuaderno se ejecuta entero (con nbclient, como lo haría Jupyter) con una carpeta de modelos vacía y el modo
clase activo (`LLM_MODO_CLASE=1`): `load_verdict_model()` no encuentra el modelo del cuaderno 2, entrena el modelo
pequeño y el cuaderno lo dice. Las salidas no se comparan con las guardadas (son las del modelo de 124M); se
comprueba que ninguna celda falla, que el cuaderno avisa del modo clase y que no se escribe nada fuera de la carpeta
temporal. El primer cuaderno entrena el modelo pequeño (alrededor de un minuto); los otros lo reutilizan.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from seccion05.modelsDir import DEFAULT_MODELS_DIR
from seccion05.trainModelSimple import CLASS_MODEL_NAME, VERDICT_MODEL_NAME

RAIZ = Path(__file__).resolve().parent.parent
CUADERNOS = [
    "seccion05/3_estrategias_decodificacion.ipynb",
    "seccion05/4_guardar_y_cargar_pesos.ipynb",
    "seccion05/5_cargar_pesos_gpt2.ipynb",
    "seccion05/8_evaluar_mas_alla_de_la_perdida.ipynb",
]


@pytest.fixture(scope="module")
def carpeta_modelos(tmp_path_factory):
    """Una carpeta de modelos vacía, la misma para todos los cuadernos: el primero entrena, los otros reutilizan."""
    return tmp_path_factory.mktemp("modelos_sin_cuaderno_2")


def _estado_git() -> str:
    salida = subprocess.run(["git", "status", "--porcelain"], cwd=RAIZ, capture_output=True, text=True)
    return salida.stdout if salida.returncode == 0 else ""


def _contenido(carpeta: Path) -> dict:
    """Cada archivo de `carpeta` (recursivo) con su tamaño y su fecha de modificación."""
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in carpeta.rglob("*")} if carpeta.exists() else {}


@pytest.mark.parametrize("cuaderno", CUADERNOS)
def test_el_cuaderno_funciona_sin_el_modelo_del_cuaderno_2(cuaderno, carpeta_modelos, monkeypatch):
    ruta = RAIZ / cuaderno
    original = ruta.read_bytes()
    git_antes = _estado_git()
    modelos_del_alumno = _contenido(DEFAULT_MODELS_DIR)  # seccion05/modelos/: no se toca
    monkeypatch.setenv("LLM_MODELOS_DIR", str(carpeta_modelos))  # el núcleo de Jupyter hereda estas variables
    monkeypatch.setenv("LLM_MODO_CLASE", "1")

    nb = nbformat.reads(original.decode("utf-8"), as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(ruta.parent)}}).execute()

    errores = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errores, f"{cuaderno}: {errores[0].get('ename')}: {errores[0].get('evalue')}"
    textos = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert "Modo clase" in textos, f"{cuaderno} no dice que usa el modelo del modo clase."
    assert (carpeta_modelos / CLASS_MODEL_NAME).is_file()
    assert not (carpeta_modelos / VERDICT_MODEL_NAME).exists(), "El modo clase no debe hacerse pasar por el cuaderno 2."
    assert ruta.read_bytes() == original, f"Ejecutar {cuaderno} lo ha modificado en el disco."
    assert _estado_git() == git_antes, "El cuaderno ha escrito dentro del repositorio."
    assert _contenido(DEFAULT_MODELS_DIR) == modelos_del_alumno, "El cuaderno ha tocado seccion05/modelos/."
