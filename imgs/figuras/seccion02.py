"""Figuras de la sección 2 (trabajar con datos de texto).

Los tokens e ids que aparecen son los reales del tokenizador BPE de GPT-2 (los imprimen los cuadernos
de seccion02_TrabajarDatosTexto/); aquí se escriben a mano para que dibujar no dependa del tokenizador.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.patches import Rectangle

from figuras.estilo import (
    AZUL,
    GRIS,
    GRIS_CLARO,
    MORADO,
    NARANJA,
    TINTA,
    VERDE,
    caja,
    flecha,
    guardar,
    nueva_figura,
)

# Los 13 primeros tokens de «The Verdict» con el tokenizador de GPT-2 ("␣" marca el espacio que llevan delante).
TOKENS_VERDICT = ["I", "␣H", "AD", "␣always", "␣thought", "␣Jack", "␣G", "is", "burn", "␣rather", "␣a", "␣cheap",
                  "␣genius"]
IDS_VERDICT = [40, 367, 2885, 1464, 1807, 3619, 402, 271, 10899, 2138, 257, 7026, 15632]


def _vector(ax, x, y, valores, lado=0.28, mapa="RdBu_r"):
    """Dibuja un vector como una fila de celdas coloreadas (x, y: esquina inferior izquierda)."""
    cmap = colormaps[mapa]
    for k, v in enumerate(valores):
        ax.add_patch(Rectangle((x + k * lado, y), lado, lado, facecolor=cmap(0.5 + 0.45 * float(np.tanh(v))),
                               edgecolor="white", linewidth=1.0))


def del_texto_a_los_ids(destino: Path) -> Path:
    """Texto -> tokens -> ids de tokens -> vectores de embedding, con «Every effort moves you»."""
    fig, ax = nueva_figura(12, 4.6)
    tokens = ["Every", "␣effort", "␣moves", "␣you"]
    ids = [6109, 3626, 6100, 345]
    ys = [3.05, 2.25, 1.45, 0.65]
    alto = 0.6

    ax.text(1.45, 4.2, "Texto", ha="center", fontsize=13, fontweight="bold")
    ax.text(4.75, 4.2, "Tokens", ha="center", fontsize=13, fontweight="bold")
    ax.text(7.55, 4.2, "Ids de tokens", ha="center", fontsize=13, fontweight="bold")
    ax.text(10.45, 4.2, "Embeddings", ha="center", fontsize=13, fontweight="bold")

    caja(ax, 0.1, 1.6, 2.7, 0.9, "«Every effort\nmoves you»", color=GRIS, tamano=12)
    rng = np.random.default_rng(123)
    for token, id_, y in zip(tokens, ids, ys, strict=True):
        flecha(ax, 2.85, 2.05, 3.75, y + alto / 2, color=GRIS)
        caja(ax, 3.8, y, 1.9, alto, token, color=AZUL, tamano=12)
        flecha(ax, 5.75, y + alto / 2, 6.75, y + alto / 2, color=GRIS)
        caja(ax, 6.8, y, 1.5, alto, str(id_), color=NARANJA, tamano=12, negrita=True)
        flecha(ax, 8.35, y + alto / 2, 9.25, y + alto / 2, color=GRIS)
        _vector(ax, 9.3, y + 0.16, rng.normal(size=8))
    for x, texto in ((3.3, "tokenizar"), (6.25, "buscar en el\nvocabulario"), (8.8, "capa de\nembedding"),
                     (10.45, "un vector\npor token")):
        ax.text(x, 0.45, texto, ha="center", va="top", fontsize=10, color=GRIS)
    return guardar(fig, destino, "del_texto_a_los_ids.png")


def bpe_palabra_desconocida(destino: Path) -> Path:
    """BPE trocea una palabra que no conoce («Akwirw ier») en subpalabras y caracteres que sí conoce."""
    fig, ax = nueva_figura(11, 3.6)
    piezas = ["Ak", "w", "ir", "w", "␣", "ier"]
    ids = [33901, 86, 343, 86, 220, 959]
    ancho, paso, x0 = 1.35, 1.6, 1.0

    caja(ax, 3.9, 2.75, 3.2, 0.7, "«Akwirw ier»", color=GRIS, tamano=13)
    ax.text(0.05, 1.72, "tokens", ha="left", va="center", fontsize=11, color=AZUL)
    ax.text(0.05, 0.52, "ids", ha="left", va="center", fontsize=11, color=NARANJA)
    for k, (pieza, id_) in enumerate(zip(piezas, ids, strict=True)):
        x = x0 + k * paso
        flecha(ax, 5.5, 2.72, x + ancho / 2, 2.05, color=GRIS)
        caja(ax, x, 1.45, ancho, 0.55, pieza, color=AZUL, tamano=13)
        flecha(ax, x + ancho / 2, 1.4, x + ancho / 2, 0.85, color=GRIS)
        caja(ax, x, 0.25, ancho, 0.55, str(id_), color=NARANJA, tamano=12, negrita=True)
    ax.text(5.5, -0.2, "Ninguna palabra es desconocida: BPE la parte en trozos que sí están en su vocabulario "
            "(en el peor caso, bytes sueltos).", ha="center", va="top", fontsize=10.5, color=TINTA)
    return guardar(fig, destino, "bpe_palabra_desconocida.png")


def _panel_ventanas(ax, y_tokens, stride, n_ventanas, titulo, max_length=4):
    """Una fila de tokens y, debajo, las ventanas de entrada (azul) y objetivo (naranja) de cada paso."""
    ancho, paso, x0 = 0.86, 0.92, 1.55
    ax.text(0.05, y_tokens + 0.95, titulo, ha="left", va="center", fontsize=12.5, fontweight="bold")
    for k, (token, id_) in enumerate(zip(TOKENS_VERDICT, IDS_VERDICT, strict=True)):
        x = x0 + k * paso
        caja(ax, x, y_tokens, ancho, 0.5, token, color=GRIS, relleno=GRIS_CLARO, tamano=9.5)
        ax.text(x + ancho / 2, y_tokens - 0.14, str(id_), ha="center", va="center", fontsize=8, color=GRIS)
    y = y_tokens - 0.55
    for v in range(n_ventanas):
        inicio = v * stride
        y_entrada, y_objetivo = y - 0.3, y - 0.62
        ax.text(x0 - 0.12, (y_entrada + y_objetivo) / 2 + 0.12, f"ventana {v + 1}", ha="right", va="center",
                fontsize=10, color=TINTA)
        for fila, desplazamiento, color, nombre in ((y_entrada, 0, AZUL, "entrada"), (y_objetivo, 1, NARANJA,
                                                                                        "objetivo")):
            xa = x0 + (inicio + desplazamiento) * paso
            xb = x0 + (inicio + desplazamiento + max_length - 1) * paso + ancho
            ax.add_patch(Rectangle((xa, fila), xb - xa, 0.24, facecolor=color + "55", edgecolor=color, linewidth=1.4))
            ax.text((xa + xb) / 2, fila + 0.12, nombre, ha="center", va="center", fontsize=9, color=TINTA)
        y -= 0.8
    return y


def ventana_deslizante(destino: Path) -> Path:
    """Ventanas de max_length=4 con stride=1 (se solapan) y con stride=4 (no se solapan)."""
    fig, ax = nueva_figura(13.6, 8.6)
    y = _panel_ventanas(ax, 7.5, stride=1, n_ventanas=3,
                        titulo="stride=1: cada ventana empieza 1 token después; comparten 3 de sus 4 tokens")
    ax.plot([0.05, 13.5], [y, y], color=GRIS_CLARO, linewidth=1.5)
    y = _panel_ventanas(ax, y - 1.4, stride=4, n_ventanas=3,
                        titulo="stride=4 (= max_length): las ventanas de entrada no se solapan y no se salta ningún token")
    ax.text(13.5, y + 0.05, "max_length=4; el objetivo es la entrada desplazada un token a la derecha",
            ha="right", va="top", fontsize=10.5, color=GRIS)
    return guardar(fig, destino, "ventana_deslizante.png")


def _matriz(ax, x, y, valores, etiquetas=None, color_etiquetas=TINTA, lado=0.3):
    """Dibuja una matriz (filas = vectores) desde la esquina superior izquierda (x, y)."""
    for f, fila in enumerate(valores):
        _vector(ax, x, y - (f + 1) * lado * 1.25, fila, lado=lado)
        if etiquetas:
            ax.text(x - 0.1, y - (f + 1) * lado * 1.25 + lado / 2, etiquetas[f], ha="right", va="center",
                    fontsize=10, color=color_etiquetas)


def embeddings_token_posicion(destino: Path) -> Path:
    """Embedding de cada token + embedding de su posición = embedding de entrada del modelo."""
    fig, ax = nueva_figura(13, 4.0)
    rng = np.random.default_rng(7)
    tok = rng.normal(size=(4, 7))
    pos = rng.normal(size=(4, 7)) * 0.8
    y_top = 3.45

    ax.text(2.2, 3.95, "Embeddings de tokens", ha="center", fontsize=12.5, fontweight="bold", color=AZUL)
    _matriz(ax, 1.15, y_top, tok, ["I", "␣H", "AD", "␣always"], AZUL)
    ax.text(4.25, 2.7, "+", ha="center", va="center", fontsize=28, color=TINTA)
    ax.text(6.9, 3.95, "Embeddings de posición", ha="center", fontsize=12.5, fontweight="bold", color=VERDE)
    _matriz(ax, 5.85, y_top, pos, ["pos 0", "pos 1", "pos 2", "pos 3"], VERDE)
    ax.text(9.2, 2.7, "=", ha="center", va="center", fontsize=28, color=TINTA)
    ax.text(11.5, 3.95, "Embeddings de entrada", ha="center", fontsize=12.5, fontweight="bold", color=MORADO)
    _matriz(ax, 10.45, y_top, tok + pos)

    ax.text(2.2, 1.6, "token_embedding_layer(inputs)\n(8, 4, 256)", ha="center", va="top", fontsize=10.5)
    ax.text(6.9, 1.6, "pos_embedding_layer(torch.arange(4))\n(4, 256)", ha="center", va="top", fontsize=10.5)
    ax.text(11.5, 1.6, "token_embeddings + pos_embeddings\n(8, 4, 256)", ha="center", va="top", fontsize=10.5)
    ax.text(6.5, 0.45, "Se dibuja un ejemplo del lote con 7 de las 256 dimensiones. Las mismas 4 filas de posición "
            "se suman a los 8 ejemplos del lote (broadcasting).", ha="center", va="bottom", fontsize=10, color=GRIS)
    return guardar(fig, destino, "embeddings_token_posicion.png")


# Las etapas del curso: (sección, título, qué se hace, color)
ETAPAS_CURSO = [
    ("Sección 2", "Datos", "texto → tokens → ids\n→ embeddings", AZUL),
    ("Sección 3", "Atención", "cada token mira a\nlos anteriores", VERDE),
    ("Sección 4", "Modelo GPT", "bloques transformer\ny cabeza de salida", NARANJA),
    ("Sección 5", "Evaluar y\npreentrenar", "pérdida, bucle de\nentrenamiento", MORADO),
    ("Sección 5", "Usar el modelo", "generar texto, guardar,\ncargar GPT-2", GRIS),
]


def etapas_curso(destino: Path) -> Path:
    """Las etapas del curso, de los datos al modelo preentrenado, con la sección de cada una."""
    fig, ax = nueva_figura(12.9, 3.3)
    ancho, alto, hueco = 2.25, 1.25, 0.32
    x0 = (12.9 - (len(ETAPAS_CURSO) * ancho + (len(ETAPAS_CURSO) - 1) * hueco)) / 2
    for i, (seccion, titulo, detalle, color) in enumerate(ETAPAS_CURSO):
        x = x0 + i * (ancho + hueco)
        ax.text(x + ancho / 2, 2.75, seccion, ha="center", va="center", fontsize=10, color=color, fontweight="bold")
        caja(ax, x, 1.25, ancho, alto, titulo, color=color, tamano=12, negrita=True)
        ax.text(x + ancho / 2, 0.95, detalle, ha="center", va="top", fontsize=9.5, color=TINTA)
        if i < len(ETAPAS_CURSO) - 1:
            flecha(ax, x + ancho + 0.04, 1.875, x + ancho + hueco - 0.04, 1.875)
    return guardar(fig, destino, "etapas_curso.png")


FIGURAS = [etapas_curso, del_texto_a_los_ids, bpe_palabra_desconocida, ventana_deslizante, embeddings_token_posicion]
