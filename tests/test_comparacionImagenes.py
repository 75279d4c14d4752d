"""Pruebas de la comparación de imágenes PNG de los cuadernos (tests/comparacionImagenes.py).

Las gráficas se dibujan aquí con matplotlib, con el estilo por defecto (el de las gráficas de los cuadernos) y
con el del curso (imgs/figuras/estilo.py), y se comparan con variantes: ruido que debe pasar (datos multiplicados
por 1 + 1e-5, texto sin antialiasing) y cambios que deben fallar (un punto movido un 2 % del rango de y, otra
curva, otro color, otro fondo, otro tamaño).
"""

import base64
import copy
import io

import matplotlib
import nbformat
import pytest
from matplotlib.figure import Figure

from imgs.figuras.estilo import ESTILO
from tests.comparacionImagenes import UMBRAL_MAXIMO, UMBRAL_MEDIO, compare_png, reconcile_images

ESTILOS = {"por defecto": {}, "del curso": ESTILO}

# Una curva de pérdidas con algo de ruido (fija: no depende de ninguna semilla)
PERDIDAS = [9.8, 8.1, 7.5, 6.2, 6.0, 5.1, 4.9, 4.7, 4.0, 4.1, 3.6, 3.5, 3.3, 3.4, 3.0, 2.9, 2.95, 2.7, 2.6, 2.65]


def _dibujar(ys=PERDIDAS, estilo=None, rc=None, tipo="linea", color=None, tamano=(6, 3.5)) -> bytes:
    """PNG de una gráfica como las de los cuadernos (curva de pérdidas con leyenda, o barras)."""
    with matplotlib.rc_context({**(estilo or {}), **(rc or {})}):
        fig = Figure(figsize=tamano, dpi=100)
        ax = fig.subplots()
        if tipo == "linea":
            ax.plot(range(len(ys)), ys, color=color, label="Pérdida de entrenamiento")
            ax.plot(range(len(ys)), [0.9 * y + 0.5 for y in ys], linestyle="-.", label="Pérdida de validación")
        else:
            ax.bar(range(len(ys)), ys, label="Pérdida")
        ax.set_xlabel("Épocas")
        ax.set_ylabel("Pérdida")
        ax.set_title("Curva de pérdidas")
        ax.legend(loc="upper right")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def _mover(indice: int, fraccion: float) -> list[float]:
    ys = list(PERDIDAS)
    ys[indice] += fraccion * (max(PERDIDAS) - min(PERDIDAS))
    return ys


@pytest.fixture(params=list(ESTILOS), scope="module")
def estilo(request):
    return ESTILOS[request.param]


def test_la_misma_imagen_es_compatible(estilo):
    png = _dibujar(estilo=estilo)
    resultado = compare_png(png, png)
    assert resultado.compatible
    assert resultado.max_difference == 0 and resultado.mean_difference == 0


def test_el_ruido_de_coma_flotante_pasa(estilo):
    resultado = compare_png(_dibujar(estilo=estilo), _dibujar([y * (1 + 1e-5) for y in PERDIDAS], estilo=estilo))
    assert resultado.compatible, resultado.message


def test_el_antialiasing_del_texto_pasa(estilo):
    resultado = compare_png(_dibujar(estilo=estilo), _dibujar(estilo=estilo, rc={"text.antialiased": False}))
    assert resultado.compatible, resultado.message
    assert resultado.max_difference > 0  # las dos imágenes no son idénticas


@pytest.mark.parametrize("indice", [4, 10, 16])
@pytest.mark.parametrize("fraccion", [0.02, -0.02])
def test_un_punto_movido_un_2_por_ciento_falla(estilo, indice, fraccion):
    resultado = compare_png(_dibujar(estilo=estilo), _dibujar(_mover(indice, fraccion), estilo=estilo))
    assert not resultado.compatible
    assert resultado.max_difference > UMBRAL_MAXIMO


@pytest.mark.parametrize(
    "variante",
    [
        {"ys": list(reversed(PERDIDAS))},  # otra curva
        {"tipo": "barras"},  # otra gráfica con los mismos datos
        {"color": "#2ca02c"},  # la misma curva en verde en lugar de azul
    ],
    ids=["otra curva", "barras", "otro color"],
)
def test_otra_grafica_falla(estilo, variante):
    resultado = compare_png(_dibujar(estilo=estilo), _dibujar(estilo=estilo, **variante))
    assert not resultado.compatible


def test_un_cambio_pequeno_en_toda_la_imagen_falla_por_la_media():
    resultado = compare_png(_dibujar(), _dibujar(rc={"figure.facecolor": "#e6e6e6", "axes.facecolor": "#e6e6e6"}))
    assert resultado.max_difference <= UMBRAL_MAXIMO  # ningún punto cambia mucho...
    assert resultado.mean_difference > UMBRAL_MEDIO  # ...pero cambia toda la imagen
    assert not resultado.compatible


def test_un_tamano_distinto_falla_y_lo_dice():
    guardada, nueva = _dibujar(tamano=(6, 3.5)), _dibujar(tamano=(6, 3.6))
    resultado = compare_png(guardada, nueva)
    assert not resultado.compatible
    assert "píxeles" in resultado.message and "guardada" in resultado.message


def test_acepta_el_png_en_base64_como_lo_guarda_el_cuaderno():
    png = _dibujar()
    en_base64 = base64.encodebytes(png).decode("ascii")  # con saltos de línea, como algunos cuadernos
    assert compare_png(en_base64, png).compatible


def test_un_png_que_no_lo_es_es_un_error_claro():
    with pytest.raises(ValueError, match="no es un PNG"):
        compare_png(base64.b64encode(b"esto no es una imagen").decode("ascii"), _dibujar())


# --- reconcile_images: lo que hace el complemento de nbval con las salidas de una celda ---------------------


def _salida_imagen(png: bytes):
    datos = {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": "<Figure size 600x350 with 1 Axes>"}
    return nbformat.v4.new_output("display_data", datos)


def _salida_texto(texto: str):
    return nbformat.v4.new_output("stream", name="stdout", text=texto)


def test_reconciliar_sustituye_las_imagenes_compatibles_por_las_guardadas():
    guardadas = [_salida_texto("hola\n"), _salida_imagen(_dibujar())]
    nuevas = [_salida_texto("hola\n"), _salida_imagen(_dibujar(rc={"text.antialiased": False}))]
    copia = copy.deepcopy(nuevas)
    reconciliadas, mensajes = reconcile_images(nuevas, guardadas)
    assert mensajes == []
    assert reconciliadas[1]["data"]["image/png"] == guardadas[1]["data"]["image/png"]
    assert nuevas == copia  # no modifica la lista que recibe


def test_reconciliar_deja_las_imagenes_distintas_y_explica_por_que():
    guardadas = [_salida_imagen(_dibujar()), _salida_imagen(_dibujar())]
    nuevas = [_salida_imagen(_dibujar()), _salida_imagen(_dibujar(_mover(10, 0.02)))]
    reconciliadas, mensajes = reconcile_images(nuevas, guardadas)
    assert reconciliadas[1]["data"]["image/png"] == nuevas[1]["data"]["image/png"]
    assert len(mensajes) == 1
    assert mensajes[0].startswith("La imagen 2 (image/png) no coincide con la guardada")
    assert f"umbral {UMBRAL_MAXIMO}" in mensajes[0] and "nbval-sin-imagen" in mensajes[0]


def test_reconciliar_avisa_si_cambia_el_numero_de_imagenes():
    guardadas = [_salida_imagen(_dibujar())]
    nuevas = [_salida_imagen(_dibujar()), _salida_imagen(_dibujar())]
    _, mensajes = reconcile_images(nuevas, guardadas)
    assert mensajes == ["La celda ha producido 2 imágenes PNG y el cuaderno guarda 1."]


def test_reconciliar_sin_comparar_acepta_cualquier_imagen():
    guardadas = [_salida_imagen(_dibujar())]
    nuevas = [_salida_imagen(_dibujar(list(reversed(PERDIDAS))))]
    reconciliadas, mensajes = reconcile_images(nuevas, guardadas, compare=False)
    assert mensajes == []
    assert reconciliadas[0]["data"]["image/png"] == guardadas[0]["data"]["image/png"]
