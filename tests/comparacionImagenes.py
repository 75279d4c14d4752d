"""Comparación de las imágenes PNG de los cuadernos con tolerancia para el ruido de dibujo.

nbval 0.11 no compara `image/png` (lo añade a su `skip_compare` salvo con `--nbdime`), así que una gráfica que
cambia pasaría sin aviso. tests/pluginNbval.py compara cada PNG nuevo con el guardado con esta regla:

1. las dos imágenes deben medir lo mismo en píxeles;
2. se pintan sobre fondo blanco y se comparan los canales R, G y B por separado, en niveles de 0 a 255;
3. se tolera un desplazamiento de 1 píxel: un píxel de una imagen solo cuenta como diferente en lo que se sale
   del intervalo [mínimo, máximo] de los 3×3 píxeles que lo rodean en la otra (en los dos sentidos). Así pasan
   los bordes de las letras y las líneas que el antialiasing o un redondeo de subpíxel pintan algo distintos;
4. la diferencia (la mayor de los tres canales) se promedia en bloques de 4×4 píxeles, para que unos píxeles
   sueltos no cuenten como un cambio;
5. las imágenes son compatibles si ningún bloque pasa de `UMBRAL_MAXIMO` y la media de todos los bloques no pasa
   de `UMBRAL_MEDIO` (esta atrapa un cambio suave en toda la imagen, como otro color de fondo).

Calibración (curvas de pérdidas, barras y curvas de activación, con el estilo por defecto de matplotlib y con el
del curso; las de tests/test_comparacionImagenes.py son una parte): los datos multiplicados por 1 + 1e-5 dan 0 o 1;
el texto dibujado sin antialiasing, hasta ~50; un punto de una curva de pérdidas movido un 2 % del rango de y, de
100 a 220; otra curva u otro color de línea, más de 70. Límites conocidos: en un tramo muy empinado, un punto movido
en vertical queda casi encima de la línea vieja y puede no detectarse (~1 de cada 10 en la calibración); dibujar las
líneas sin antialiasing (`lines.antialiased=False`) cambia su grosor en Agg y no pasa; otro tamaño en píxeles (con
`bbox_inches="tight"` basta otra etiqueta) no pasa. Las imágenes guardadas dependen de la versión de matplotlib que
las dibujó: al cambiarla puede hacer falta volver a ejecutar los cuadernos.

Qué no hace: no compara `image/jpeg` ni `image/svg+xml` (nbval compara el SVG como texto), y no sirve para
gráficas de tiempos medidos en cada ejecución: esas celdas llevan la etiqueta `nbval-sin-imagen`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import io
import math
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageFilter, UnidentifiedImageError

UMBRAL_MAXIMO = 64  # diferencia máxima de un bloque de 4×4, en niveles de 0 a 255
UMBRAL_MEDIO = 4  # diferencia media de toda la imagen, en niveles de 0 a 255
LADO_BLOQUE = 4  # píxeles por lado de los bloques que se promedian
VECINDAD = 3  # lado de la vecindad que tolera un desplazamiento de 1 píxel

ETIQUETA_SIN_IMAGEN = "nbval-sin-imagen"  # etiqueta de celda: no comparar sus imágenes


class PNGComparison(NamedTuple):
    """Resultado de `compare_png`: si pasan, las diferencias medidas y, si no, por qué (en castellano)."""

    compatible: bool
    max_difference: float  # el bloque de 4×4 que más cambia (0-255; infinito si no miden lo mismo)
    mean_difference: float  # media de todos los bloques (0-255; infinito si no miden lo mismo)
    message: str  # vacío si son compatibles


def _decodificar(png: str | bytes, cual: str) -> Image.Image:
    """PNG (en bytes, o en base64 como lo guarda un cuaderno) -> imagen RGB sobre fondo blanco."""
    try:
        datos = base64.b64decode(png) if isinstance(png, str) else png
        imagen = Image.open(io.BytesIO(datos))
        imagen.load()
    except (binascii.Error, UnidentifiedImageError, OSError) as error:
        raise ValueError(f"La imagen {cual} no es un PNG válido ({error}).") from error
    if imagen.format != "PNG":
        raise ValueError(f"La imagen {cual} no es un PNG válido: es {imagen.format}.")
    rgba = imagen.convert("RGBA")
    return Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")


def _diferencia_tolerante(a: Image.Image, b: Image.Image) -> np.ndarray:
    """Lo que cada píxel de un canal se sale del intervalo de la vecindad 3×3 de la otra imagen (los dos sentidos)."""
    matriz_a, matriz_b = np.asarray(a, dtype=np.int16), np.asarray(b, dtype=np.int16)
    diferencias = []
    for matriz, otra in ((matriz_a, b), (matriz_b, a)):
        minimo = np.asarray(otra.filter(ImageFilter.MinFilter(VECINDAD)), dtype=np.int16)
        maximo = np.asarray(otra.filter(ImageFilter.MaxFilter(VECINDAD)), dtype=np.int16)
        diferencias.append(np.maximum(minimo - matriz, matriz - maximo).clip(min=0))
    return np.maximum(*diferencias)


def compare_png(guardada: str | bytes, nueva: str | bytes) -> PNGComparison:
    """Compara dos PNG con la regla del módulo (mismo tamaño; diferencia por bloques bajo los umbrales).

    Acepta los bytes del PNG o el texto en base64 de un cuaderno (`output["data"]["image/png"]`).
    """
    imagen_guardada, imagen_nueva = _decodificar(guardada, "guardada"), _decodificar(nueva, "nueva")
    if imagen_guardada.size != imagen_nueva.size:
        (ancho_g, alto_g), (ancho_n, alto_n) = imagen_guardada.size, imagen_nueva.size
        return PNGComparison(
            False, math.inf, math.inf,
            f"mide {ancho_n}×{alto_n} píxeles y la guardada {ancho_g}×{alto_g}: deben medir lo mismo",
        )
    canales = zip(imagen_guardada.split(), imagen_nueva.split(), strict=True)
    diferencia = np.maximum.reduce([_diferencia_tolerante(g, n) for g, n in canales]).astype(np.uint8)
    bloques = np.asarray(Image.fromarray(diferencia).reduce(LADO_BLOQUE), dtype=float)  # media de cada bloque
    maxima, media = float(bloques.max()), float(bloques.mean())
    if maxima <= UMBRAL_MAXIMO and media <= UMBRAL_MEDIO:
        return PNGComparison(True, maxima, media, "")
    return PNGComparison(
        False, maxima, media,
        f"diferencia máxima {maxima:.0f} (umbral {UMBRAL_MAXIMO}) y media {media:.2f} (umbral {UMBRAL_MEDIO}), "
        f"en niveles de 0 a 255 por canal RGB, tras tolerar desplazamientos de 1 píxel y promediar bloques de "
        f"{LADO_BLOQUE}×{LADO_BLOQUE} píxeles",
    )


def _indices_png(salidas: list) -> list[int]:
    return [i for i, salida in enumerate(salidas) if "image/png" in (salida.get("data") or {})]


def reconcile_images(nuevas: list, guardadas: list, compare: bool = True) -> tuple[list, list[str]]:
    """Empareja en orden los PNG de las salidas de una celda y los compara con `compare_png`.

    Devuelve una copia de `nuevas` en la que cada PNG compatible se sustituye por el guardado (así nbval ve la
    igualdad también con `--nbdime`) y la lista de mensajes, en castellano, de los que no lo son. Con
    `compare=False` (etiqueta `nbval-sin-imagen`) todos los PNG emparejados se sustituyen sin comparar.
    """
    resultado = copy.deepcopy(nuevas)
    indices_nuevos, indices_guardados = _indices_png(resultado), _indices_png(guardadas)
    if compare and len(indices_nuevos) != len(indices_guardados):
        return resultado, [
            f"La celda ha producido {len(indices_nuevos)} imágenes PNG y el cuaderno guarda {len(indices_guardados)}."
        ]
    mensajes = []
    for numero, (i, j) in enumerate(zip(indices_nuevos, indices_guardados, strict=False), start=1):
        datos_nuevos, png_guardado = resultado[i]["data"], guardadas[j]["data"]["image/png"]
        if compare:
            comparacion = compare_png(png_guardado, datos_nuevos["image/png"])
            if not comparacion.compatible:
                mensajes.append(
                    f"La imagen {numero} (image/png) no coincide con la guardada: {comparacion.message}. "
                    f"Si la gráfica muestra algo medido en cada ejecución (tiempos), pon a la celda la etiqueta "
                    f"{ETIQUETA_SIN_IMAGEN}."
                )
                continue
        datos_nuevos["image/png"] = png_guardado
    return resultado, mensajes
