"""Pruebas de la comparación con tolerancia de las salidas de los cuadernos (números y marcas de celda).

Las imágenes tienen sus propias pruebas en tests/test_comparacionImagenes.py; la prueba de punta a punta con
nbval, al final de este archivo, cubre las dos cosas.
"""

import base64
import os
import re
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

RUIDO = [
    ("9.4149e-06", "9.4148e-06"),  # diferencia medida entre AVX2 y AVX-512 (4 cifras significativas)
    ("10.98758", "10.98760"),  # 2e-6 relativo en la quinta decimal
    ("tensor([7.4541e-05, 3.1061e-05])", "tensor([7.4542e-05, 3.1061e-05])"),
    ("-0.0000", "0.0000"),
    ("tensor([0.2543817, 0.7456183])", "tensor([0.2543822, 0.7456178])"),  # probabilidades, 2e-6 relativo
    ("logits: -3.141593", "logits: -3.141599"),  # un logit, 1.9e-6 relativo
    ("0.5000", "0.5001"),  # cuatro cifras significativas: el redondeo puede cambiar la última
    ("9.9999e-06", "1.0000e-05"),  # el redondeo cruza una potencia de 10
    ("La pérdida final es 10.7940.", "La pérdida final es 10.7941."),  # un decimal al final de una frase
]

CAMBIOS = [
    ("10.7940", "10.7950"),  # un cambio real en la pérdida
    ("Tokens: 5145", "Tokens: 5146"),  # los enteros deben coincidir exactamente
    ("torch.Size([2, 256])", "torch.Size([2, 255])"),
    ("9.4149e-06", "9.5149e-06"),
    ("Training loss: 10.98758", "Validation loss: 10.98758"),  # el texto también cuenta
    ("nan", "0.5"),
    ("1.0", "1.0 2.0"),
    ("vocabulario: 50257.", "vocabulario: 50258."),  # un entero seguido del punto de la frase
    ("context_length=1024.", "context_length=1025."),
    ("has pasado 0.", "has pasado 1."),
    ("tensor([1., 0.])", "tensor([1., 1.])"),  # decimales enteros como los imprime torch
    ("'drop_rate': 0.1", "'drop_rate': 0.2"),  # repr corto: una unidad de la última cifra es todo el valor
    ("1e-05", "2e-05"),
    ("1.5", "1.6"),
    ("6.452", "6.5"),  # imprimir menos cifras esconde un cambio
    ("0.0001", "0.0000"),  # la única cifra significativa no es ruido
    ("0.0123", "0.0124"),  # tres cifras significativas: la última tiene significado
    ("1.0", "1.00"),  # cambia el formato
    ("1e-05", "1.0e-05"),
    ("12.5", "1.25e+01"),
    ("50257", "50257."),
]


@pytest.mark.parametrize(("guardado", "nuevo"), RUIDO)
def test_acepta_ruido_de_coma_flotante(guardado, nuevo):
    assert textos_compatibles(guardado, nuevo)
    assert textos_compatibles(nuevo, guardado)


@pytest.mark.parametrize(("guardado", "nuevo"), CAMBIOS)
def test_rechaza_cambios_reales(guardado, nuevo):
    assert not textos_compatibles(guardado, nuevo)
    assert not textos_compatibles(nuevo, guardado)


def test_un_texto_es_compatible_consigo_mismo():
    for texto, _ in RUIDO + CAMBIOS:
        assert textos_compatibles(texto, texto)


def test_el_margen_crece_con_la_tolerancia_de_la_celda():
    assert not numeros_compatibles("0.541", "0.548")
    assert numeros_compatibles("0.541", "0.548", rtol=2e-2)
    assert not numeros_compatibles("541", "548", rtol=2e-2)  # los enteros siguen siendo exactos
    assert not numeros_compatibles("0.541", "0.55", rtol=2e-2)  # y el formato también


# --- La tolerancia de una celda: etiqueta (preferida) o comentario en las primeras líneas -------------------


def test_sin_marca_se_usa_la_tolerancia_por_defecto():
    assert tolerancia_de_celda("x = 1") == RTOL_POR_DEFECTO
    assert tolerancia_de_celda("x = 1", ["nbval-ignore-output"]) == RTOL_POR_DEFECTO
    assert tolerancia_de_celda("") == RTOL_POR_DEFECTO


def test_la_etiqueta_de_la_celda_da_la_tolerancia():
    assert tolerancia_de_celda("print(perdida)", ["nbval-tolerancia=1e-3"]) == 1e-3
    assert tolerancia_de_celda("print(perdida)", ["otra", "nbval-tolerancia=0.02"]) == 0.02


def test_la_etiqueta_gana_al_comentario():
    assert tolerancia_de_celda("# nbval-tolerancia: rtol=1e-2\nx = 1", ["nbval-tolerancia=1e-3"]) == 1e-3


def test_el_comentario_en_las_primeras_lineas_da_la_tolerancia():
    assert tolerancia_de_celda("# nbval-tolerancia: rtol=2e-2\nx = 1\n") == 2e-2
    assert tolerancia_de_celda("# NBVAL_IGNORE_OUTPUT\n\n#nbval-tolerancia: rtol = 1e-3\nx = 1") == 1e-3
    assert tolerancia_de_celda("# nbval-tolerancia: rtol=1e-2  (bf16 redondea más)\nx = 1") == 1e-2


def test_el_comentario_dentro_de_una_cadena_no_cuenta():
    assert tolerancia_de_celda('print("# nbval-tolerancia: rtol=1")') == RTOL_POR_DEFECTO
    assert tolerancia_de_celda('"""\n# nbval-tolerancia: rtol=1e-2\n"""\nx = 1') == RTOL_POR_DEFECTO


def test_el_comentario_despues_del_codigo_no_cuenta():
    assert tolerancia_de_celda("x = 1\n# nbval-tolerancia: rtol=2e-2\n") == RTOL_POR_DEFECTO
    assert tolerancia_de_celda("x = 1  # nbval-tolerancia: rtol=2e-2\n") == RTOL_POR_DEFECTO
    assert tolerancia_de_celda("%%time\n# nbval-tolerancia: rtol=2e-2\nx = 1") == RTOL_POR_DEFECTO


def test_el_codigo_que_no_se_puede_tokenizar_no_rompe_la_lectura():
    assert tolerancia_de_celda("# nbval-tolerancia: rtol=1e-2\nx = (1,\n") == 1e-2
    assert tolerancia_de_celda("x = '''sin cerrar") == RTOL_POR_DEFECTO
    assert tolerancia_de_celda("!pip install tiktoken\n# nbval-tolerancia: rtol=1e-2") == RTOL_POR_DEFECTO


@pytest.mark.parametrize(
    ("codigo", "etiquetas", "se_espera"),
    [
        ("x = 1", ["nbval-tolerancia=abc"], "nbval-tolerancia=abc"),
        ("x = 1", ["nbval-tolerancia:1e-3"], "nbval-tolerancia:1e-3"),
        ("x = 1", ["nbval-tolerancia=1e-3", "nbval-tolerancia=1e-2"], "dos"),
        ("x = 1", ["nbval-tolerancia=-1e-3"], "-1e-3"),
        ("x = 1", ["nbval-tolerancia=1"], "1"),
        ("x = 1", ["nbval-tolerancia=nan"], "nan"),
        ("# nbval-tolerancia: 1e-3\nx = 1", [], "# nbval-tolerancia: 1e-3"),
        ("# nbval-tolerancia: rtol=mucho\nx = 1", [], "mucho"),
    ],
)
def test_una_marca_mal_escrita_es_un_error_claro(codigo, etiquetas, se_espera):
    with pytest.raises(ValueError, match=re.escape(se_espera)):
        tolerancia_de_celda(codigo, etiquetas)


def test_reconciliar_solo_cambia_lo_compatible():
    guardadas = [nbformat.from_dict({"output_type": "stream", "name": "stdout", "text": "loss 10.98758\n"})]
    cerca = [nbformat.from_dict({"output_type": "stream", "name": "stdout", "text": "loss 10.98759\n"})]
    lejos = [nbformat.from_dict({"output_type": "stream", "name": "stdout", "text": "loss 10.99759\n"})]
    assert reconciliar_salidas(cerca, guardadas)[0]["text"] == "loss 10.98758\n"
    assert reconciliar_salidas(lejos, guardadas)[0]["text"] == "loss 10.99759\n"
    assert cerca[0]["text"] == "loss 10.98759\n"  # no modifica la lista que recibe


def test_reconciliar_tambien_el_texto_de_los_resultados():
    guardadas = [nbformat.v4.new_output("execute_result", {"text/plain": "tensor([0.2543817])"}, execution_count=1)]
    nuevas = [nbformat.v4.new_output("execute_result", {"text/plain": "tensor([0.2543822])"}, execution_count=1)]
    assert reconciliar_salidas(nuevas, guardadas)[0]["data"]["text/plain"] == "tensor([0.2543817])"
    assert reconciliar_salidas(nuevas, guardadas, rtol=0)[0]["data"]["text/plain"] == "tensor([0.2543822])"


# --- De punta a punta con nbval ----------------------------------------------------------------------------

# Código de la primera celda del cuaderno de prueba; la prueba lo ejecuta también aquí para fabricar las
# imágenes guardadas (con ruido de antialiasing o con un cambio real).
CODIGO_DIBUJO = '''
import base64
import io

import matplotlib
import matplotlib.style
from matplotlib.figure import Figure


def dibujar(mover=0.0, rc=None):
    """Una curva de pérdidas en PNG; `mover` desplaza un punto (en fracción del rango de y)."""
    ys = [10.0 / (1 + 0.4 * i) + (0.3 if i % 3 == 0 else 0.0) for i in range(20)]
    ys[10] += mover * (max(ys) - min(ys))
    # El estilo por defecto de matplotlib, y no el que otra prueba haya dejado en este proceso (el del curso cambia
    # colores, fuentes y savefig.dpi): la imagen debe salir igual aquí que en el núcleo que arranca nbval
    with matplotlib.style.context("default"), matplotlib.rc_context(rc or {}):
        fig = Figure(figsize=(5, 3), dpi=100)
        ax = fig.subplots()
        ax.plot(range(20), ys, label="Pérdida de entrenamiento")
        ax.set_xlabel("Épocas")
        ax.set_ylabel("Pérdida")
        ax.legend()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def mostrar(png):
    from IPython.display import Image, display
    display(Image(data=png))
'''


def _png_base64(**kwargs) -> str:
    espacio = {}
    exec(CODIGO_DIBUJO, espacio)
    return base64.b64encode(espacio["dibujar"](**kwargs)).decode("ascii")


def _celda_texto(codigo, texto_guardado, etiquetas=()):
    celda = nbformat.v4.new_code_cell(codigo, execution_count=1)
    celda.outputs = [nbformat.v4.new_output("stream", name="stdout", text=texto_guardado + "\n")]
    celda.metadata["tags"] = list(etiquetas)
    return celda


def _celda_imagen(png_guardado, etiquetas=()):
    celda = nbformat.v4.new_code_cell("mostrar(dibujar())", execution_count=1)
    datos = {"image/png": png_guardado, "text/plain": "<IPython.core.display.Image object>"}
    celda.outputs = [nbformat.v4.new_output("display_data", datos)]
    celda.metadata["tags"] = list(etiquetas)
    return celda


def _ejecutar_nbval(ruta: Path) -> subprocess.CompletedProcess:
    (ruta.parent / "vacio.ini").write_text("[pytest]\n", encoding="utf-8")
    orden = [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "-c", str(ruta.parent / "vacio.ini"),
             "--nbval", "--nbval-current-env", "-p", "tests.pluginNbval", str(ruta)]
    return subprocess.run(orden, cwd=ruta.parent, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(RAIZ)})


def test_nbval_con_tolerancia_acepta_ruido_y_rechaza_cambios(tmp_path):
    """De punta a punta con nbval: pasa el ruido (en números e imágenes); fallan los cambios reales."""
    imprimir = 'print(f"{0.000094149:.4e}", f"{10.79401:.4f}")'
    celdas = {
        "inicio": nbformat.v4.new_code_cell(CODIGO_DIBUJO, execution_count=1),
        "ruido numérico": _celda_texto(imprimir, "9.4148e-05 10.7940"),
        "valor cambiado": _celda_texto(imprimir, "9.4149e-05 10.7950"),
        "tolerancia en etiqueta": _celda_texto(imprimir, "9.4149e-05 10.8000", ["nbval-tolerancia=1e-3"]),
        "tolerancia en comentario": _celda_texto("# nbval-tolerancia: rtol=1e-3\n" + imprimir, "9.4149e-05 10.8000"),
        "imagen con antialiasing distinto": _celda_imagen(_png_base64(rc={"text.antialiased": False})),
        "imagen con un punto movido": _celda_imagen(_png_base64(mover=0.02)),
        "imagen movida con nbval-sin-imagen": _celda_imagen(_png_base64(mover=0.02), ["nbval-sin-imagen"]),
        "imagen movida con nbval-ignore-output": _celda_imagen(_png_base64(mover=0.02), ["nbval-ignore-output"]),
    }
    se_espera_fallo = {"valor cambiado", "imagen con un punto movido"}
    nb = nbformat.v4.new_notebook()
    nb.cells = list(celdas.values())
    ruta = tmp_path / "cuaderno.ipynb"
    nbformat.write(nb, ruta)

    resultado = _ejecutar_nbval(ruta)
    salida = resultado.stdout + resultado.stderr
    desenlaces = {int(n): d for d, n in re.findall(r"^(PASSED|FAILED) cuaderno\.ipynb::Cell (\d+)", salida, re.M)}
    for numero, nombre in enumerate(celdas):
        esperado = "FAILED" if nombre in se_espera_fallo else "PASSED"
        assert desenlaces.get(numero) == esperado, f"celda {numero} ({nombre}):\n{salida}"
    assert "10.7950" in salida  # nbval muestra la diferencia del texto
    assert "La imagen 1 (image/png) no coincide con la guardada" in salida  # y la de la imagen, en castellano
