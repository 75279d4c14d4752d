"""Figuras de seccion05/8_evaluar_mas_alla_de_la_perdida.ipynb (bits por byte frente a la perplejidad por token)."""

from __future__ import annotations

from pathlib import Path

from figuras.estilo import AZUL, GRIS, NARANJA, TINTA, VERDE, caja, guardar, nueva_figura

FRASE = "I had always thought"  # el principio de «The Verdict», 20 caracteres y 20 bytes (ASCII)
TOKENS_BPE = ["I", " had", " always", " thought"]  # cómo lo parte el tokenizador de GPT-2 (4 tokens)


def _fila(ax, trozos, x0, y, ancho_caracter, alto, color, tamano):
    """Una caja por trozo, de anchura proporcional a sus caracteres, con los espacios dibujados como «␣»."""
    x = x0
    for trozo in trozos:
        ancho = ancho_caracter * len(trozo)
        caja(ax, x + 0.03, y, ancho - 0.06, alto, trozo.replace(" ", "␣"), color=color, tamano=tamano)
        x += ancho


def dos_tokenizadores(destino: Path) -> Path:
    """El mismo texto partido por caracteres (20 tokens) y con BPE (4): distintos tokens, los mismos bytes."""
    fig, ax = nueva_figura(13, 5.6)
    ancho_caracter, x0 = 0.5, 1.6
    ax.text(6.5, 5.25, "El mismo texto, dos tokenizadores", ha="center", fontsize=13, fontweight="bold")

    ax.text(x0 - 0.15, 4.15, "por caracteres\n20 tokens", ha="right", va="center", fontsize=10.5, color=NARANJA,
            fontweight="bold")
    _fila(ax, list(FRASE), x0, 3.8, ancho_caracter, 0.7, NARANJA, 10)
    ax.text(x0 - 0.15, 2.75, "BPE de GPT-2\n4 tokens", ha="right", va="center", fontsize=10.5, color=AZUL,
            fontweight="bold")
    _fila(ax, TOKENS_BPE, x0, 2.4, ancho_caracter, 0.7, AZUL, 11)
    ax.text(x0 - 0.15, 1.65, "bytes UTF-8\n20 bytes", ha="right", va="center", fontsize=10.5, color=VERDE,
            fontweight="bold")
    for i in range(len(FRASE.encode("utf-8"))):
        caja(ax, x0 + i * ancho_caracter + 0.03, 1.4, ancho_caracter - 0.06, 0.5, "", color=VERDE)

    ax.text(
        6.5, 0.75,
        "Perplejidad por token = exp(nats totales / tokens): cada carácter es fácil de adivinar y cada token BPE, "
        "difícil,\nasí que la de caracteres sale mucho menor aunque el modelo no sea mejor. "
        "Bits por byte = nats totales / ln 2 / bytes:\nel denominador es el mismo para los dos, y gana el que "
        "necesita menos bits para todo el texto.",
        ha="center", va="top", fontsize=10, color=TINTA, linespacing=1.5,
    )
    ax.text(x0 + 20 * ancho_caracter + 0.2, 2.75, "«␣» es el espacio,\nque BPE pega a la\npalabra siguiente",
            ha="left", va="center", fontsize=9.5, color=GRIS, style="italic")
    return guardar(fig, destino, "dos_tokenizadores.png")


FIGURAS = [dos_tokenizadores]
