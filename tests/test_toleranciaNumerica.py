"""Pruebas de la comparación con tolerancia de las salidas de los cuadernos."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.toleranciaNumerica import (
    RTOL_POR_DEFECTO,
    numeros_compatibles,
    reconciliar_salidas,
    textos_compatibles,
    tolerancia_de_celda,
)

RAIZ = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("guardado", "nuevo"),
    [
        ("9.4149e-06", "9.4148e-06"),  # diferencia medida entre AVX2 y AVX-512
        ("10.98758", "10.98760"),  # 2e-6 relativo en la quinta decimal
        ("tensor([7.4541e-05, 3.1061e-05])", "tensor([7.4542e-05, 3.1061e-05])"),
        ("-0.0000", "0.0000"),
    ],
)
def test_acepta_ruido_de_coma_flotante(guardado, nuevo):
    assert textos_compatibles(guardado, nuevo)


@pytest.mark.parametrize(
    ("guardado", "nuevo"),
    [
        ("10.7940", "10.7950"),  # un cambio real en la pérdida
        ("Tokens: 5145", "Tokens: 5146"),  # los enteros deben coincidir exactamente
        ("torch.Size([2, 256])", "torch.Size([2, 255])"),
        ("9.4149e-06", "9.5149e-06"),
        ("Training loss: 10.98758", "Validation loss: 10.98758"),  # el texto también cuenta
        ("nan", "0.5"),
        ("1.0", "1.0 2.0"),
    ],
)
def test_rechaza_cambios_reales(guardado, nuevo):
    assert not textos_compatibles(guardado, nuevo)


def test_el_margen_crece_con_la_tolerancia_de_la_celda():
    assert not numeros_compatibles("0.541", "0.548")
    assert numeros_compatibles("0.541", "0.548", rtol=2e-2)
    assert tolerancia_de_celda("x = 1\n# nbval-tolerancia: rtol=2e-2\n") == 2e-2
    assert tolerancia_de_celda("x = 1") == RTOL_POR_DEFECTO


def test_reconciliar_solo_cambia_lo_compatible():
    guardadas = [nbformat.from_dict({"output_type": "stream", "name": "stdout", "text": "loss 10.98758\n"})]
    cerca = [nbformat.from_dict({"output_type": "stream", "name": "stdout", "text": "loss 10.98759\n"})]
    lejos = [nbformat.from_dict({"output_type": "stream", "name": "stdout", "text": "loss 10.99759\n"})]
    assert reconciliar_salidas(cerca, guardadas)[0]["text"] == "loss 10.98758\n"
    assert reconciliar_salidas(lejos, guardadas)[0]["text"] == "loss 10.99759\n"


def _cuaderno(tmp_path: Path, salida_guardada: str) -> Path:
    nb = nbformat.v4.new_notebook()
    celda = nbformat.v4.new_code_cell('print(f"{0.000094149:.4e}", f"{10.79401:.4f}")', execution_count=1)
    celda.outputs = [nbformat.v4.new_output("stream", name="stdout", text=salida_guardada + "\n")]
    nb.cells = [celda]
    ruta = tmp_path / "cuaderno.ipynb"
    nbformat.write(nb, ruta)
    return ruta


def _ejecutar_nbval(ruta: Path) -> subprocess.CompletedProcess:
    orden = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(ruta.parent / "vacio.ini"),
             "--nbval", "--nbval-current-env", "-p", "tests.pluginNbval", str(ruta)]
    (ruta.parent / "vacio.ini").write_text("[pytest]\n", encoding="utf-8")
    return subprocess.run(orden, cwd=ruta.parent, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "PYTHONPATH": str(RAIZ)})


def test_nbval_con_tolerancia_acepta_ruido_y_rechaza_cambios(tmp_path):
    """De punta a punta con nbval: el ruido en la última cifra pasa; un valor distinto falla."""
    (tmp_path / "ruido").mkdir()
    (tmp_path / "cambio").mkdir()
    ruido = _ejecutar_nbval(_cuaderno(tmp_path / "ruido", "9.4148e-05 10.7940"))
    cambio = _ejecutar_nbval(_cuaderno(tmp_path / "cambio", "9.4149e-05 10.7950"))
    assert ruido.returncode == 0, ruido.stdout + ruido.stderr
    assert cambio.returncode == 1, cambio.stdout + cambio.stderr
    assert "10.7950" in cambio.stdout
